"""`@dsl.notebook_component`: a lightweight component whose function runs a Jupyter
notebook packed into it, with `dsl.run_notebook(**parameters)`; and that name's stand-in
outside a task.

Belongs here: checking the notebook path as kfp does (one .ipynb file, or a folder with
exactly one, checkpoints aside) and making the component: the notebook's file or folder
embedded (`embedded.py`), the runner (`runtime/notebooks.py`) before the function's
source, and kfp's default packages. Running the notebook is the runner's business.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, overload

from dagyard.dsl.component import (
    DEFAULT_BASE_IMAGE,
    PythonComponent,
    make_python_component,
    write_component_file,
)
from dagyard.dsl.task_config import TaskConfigField, TaskConfigPassthrough
from dagyard.errors import DslError
from dagyard.runtime import embed

# kfp's packages_to_install when none are given: what its runner imports, and a kernel.
DEFAULT_PACKAGES = ("nbclient>=0.10,<1", "ipykernel>=6,<7", "jupyter_client>=7,<9")


def run_notebook(**parameters: Any) -> None:
    """Run the notebook of the `@dsl.notebook_component` whose function calls it, with
    `parameters` set in it as variables. It exists only while that task runs."""
    raise DslError(
        "dsl.run_notebook runs only inside the function of a @dsl.notebook_component, while "
        "its task runs; call that component in a pipeline."
    )


@overload
def notebook_component(
    func: Callable[..., Any],
    *,
    notebook_path: str | os.PathLike[str],
    base_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    output_component_file: str | None = None,
    pip_index_urls: Sequence[str] | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    kfp_package_path: str | None = None,
    install_kfp_package: bool = True,
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> PythonComponent: ...
@overload
def notebook_component(
    func: None = None,
    *,
    notebook_path: str | os.PathLike[str],
    base_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    output_component_file: str | None = None,
    pip_index_urls: Sequence[str] | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    kfp_package_path: str | None = None,
    install_kfp_package: bool = True,
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> Callable[[Callable[..., Any]], PythonComponent]: ...
def notebook_component(
    func: Callable[..., Any] | None = None,
    *,
    notebook_path: str | os.PathLike[str],
    base_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    output_component_file: str | None = None,
    pip_index_urls: Sequence[str] | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    kfp_package_path: str | None = None,
    install_kfp_package: bool = True,
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> PythonComponent | Callable[[Callable[..., Any]], PythonComponent]:
    """Make a component whose function runs the notebook at `notebook_path` (an .ipynb
    file, or a folder holding exactly one, embedded whole) by calling
    `dsl.run_notebook(name=value, ...)`; the notebook then runs on a Python kernel in the
    folder it was embedded from, each parameter set as a variable after its cell tagged
    `parameters` (else first). What it writes to files the function can read after.

    `packages_to_install`: None gives kfp's list (nbclient, ipykernel, jupyter_client);
    [] installs nothing, when the image has them. An EmbeddedInput parameter gets the
    notebook file. The other arguments are those of `@dsl.component`
    (`task_config_passthroughs` too).
    """
    packages = list(DEFAULT_PACKAGES if packages_to_install is None else packages_to_install)

    def decorate(f: Callable[..., Any]) -> PythonComponent:
        notebook = _notebook(notebook_path, f.__name__)
        comp = make_python_component(
            f,
            base_image=base_image or DEFAULT_BASE_IMAGE,
            packages_to_install=packages,
            pip_index_urls=list(pip_index_urls) if pip_index_urls else None,
            embedded_artifact_path=notebook_path,
            embedded_file=notebook,
            preamble=_runner_source(),
            task_config_passthroughs=task_config_passthroughs,
        )
        if output_component_file:
            write_component_file(comp, output_component_file)
        return comp

    return decorate(func) if func is not None else decorate


def _notebook(path: str | os.PathLike[str], component: str) -> str:
    """The notebook's name in what is embedded, checked as kfp checks `path`."""
    given = Path(path)
    if not given.exists():
        raise DslError(
            f"notebook_path '{path}' of notebook component '{component}' does not exist "
            f"(a relative path is read from the folder the compiler runs in, {os.getcwd()}). "
            "Give an .ipynb file, or a folder holding one."
        )
    if given.is_file():
        if given.suffix.lower() != ".ipynb":
            raise DslError(
                f"notebook_path '{path}' of notebook component '{component}' is not an "
                ".ipynb file. Give a notebook, or the folder that holds it."
            )
        return given.name
    found = sorted(
        p
        for p in given.rglob("*.ipynb")
        if p.is_file() and ".ipynb_checkpoints" not in p.relative_to(given).parts
    )
    if len(found) != 1:
        listed = ", ".join(p.relative_to(given).as_posix() for p in found) or "none"
        raise DslError(
            f"notebook_path '{path}' of notebook component '{component}' is a folder that "
            f"must hold exactly one .ipynb file (checkpoints aside); it holds {listed}. "
            "Give the notebook's own path, or leave one notebook in the folder."
        )
    return found[0].relative_to(given).as_posix()


@functools.cache
def _runner_source() -> str:
    # kfp's template binds its runner to dsl.run_notebook the same way, in the source.
    return embed.stripped_source("notebooks") + "\ndsl.run_notebook = run_notebook\n\n"
