"""Which Python the local executor runs lightweight components on, and that nothing is
installed per task: the running interpreter when it has the packages, else a virtual
environment built once (from a wheel made here, so no network is needed).

Any pip call in these tasks would fail: PIP_INDEX_URL points at a closed port and
PIP_NO_INDEX is set.
"""

import base64
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uv
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Launch, Outcome
from dagyard.executors.environments import MARKER, EnvironmentCache, Interpreter, find_uv
from dagyard.executors.local import LocalExecutor
from dagyard.runtime.embed import EXECUTOR_INPUT_PLACEHOLDER, lightweight_container

NO_PIP = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1"}
TINY = "dagyard-tinypkg"
WHERE = """\
from dagyard.dsl import *
from typing import *

def where() -> str:
    import importlib.util, os, subprocess, sys
    try:
        import dagyard_tinypkg
    except ImportError:
        return sys.executable
    cli = subprocess.check_output([os.path.join(os.path.dirname(sys.executable), "tinycli")])
    isolated = importlib.util.find_spec("pytest") is None  # no packages of the host Python
    return f"{sys.executable}|{dagyard_tinypkg.VALUE}|{cli.decode()}|{isolated}"
"""


@pytest.fixture
def cache(tmp_path: Path) -> EnvironmentCache:
    return EnvironmentCache(tmp_path / "envs")


@pytest.fixture
def executor(cache: EnvironmentCache) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(environments=cache)
    yield executor
    executor.close()


class Task:
    """A launch of `command + args` with a real executor input in its own folder."""

    def __init__(self, root: Path, command: list[str], args: list[str], **inputs: Any) -> None:
        root.mkdir(parents=True)
        self.root = root
        self.output_file = root / "executor_output.json"
        document = {
            "inputs": {"parameterValues": inputs},
            "outputs": {
                "parameters": {"Output": {"outputFile": str(root / "Output")}},
                "outputFile": str(self.output_file),
            },
        }
        text = json.dumps(document)
        argv = [a.replace(EXECUTOR_INPUT_PLACEHOLDER, text) for a in command + args]
        self.launch = Launch(
            task_id=root.name,
            run_id="run",
            attempt=1,
            command=task_command(argv),
            image="python:3.11",
            env=NO_PIP,
            workdir=root,
            log_path=root / "log.txt",
        )

    @property
    def log(self) -> str:
        return self.launch.log_path.read_text()

    def output(self) -> Any:
        return json.loads(self.output_file.read_text())["parameterValues"]["Output"]


def run(executor: LocalExecutor, *tasks: Task) -> list[Outcome]:
    handles = [executor.submit(task.launch) for task in tasks]
    outcomes: dict[str, Outcome] = {}
    while len(outcomes) < len(handles):
        batch = executor.wait([h for h in handles if h not in outcomes], 300)
        assert batch, "tasks did not finish"
        outcomes.update(batch)
    return [outcomes[h] for h in handles]


def ours(root: Path, packages: list[str], index_urls: list[str] | None = None) -> Task:
    command, args = lightweight_container(
        function_source=WHERE,
        function_name="where",
        packages_to_install=packages,
        pip_index_urls=index_urls,
    )
    return Task(root, command, args)


def tiny_wheel(folder: Path, name: str = TINY, requires: str | None = None) -> Path:
    """A wheel of `name` (default `dagyard-tinypkg`) with a module and a console script,
    written by hand; `requires`: a dependency it declares."""
    module = name.replace("-", "_")
    dist = f"{module}-0.1.0"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n"
    if requires is not None:
        metadata += f"Requires-Dist: {requires}\n"
    files = {
        f"{module}/__init__.py": "VALUE = 'tiny'\ndef main():\n    print('cli', end='')\n",
        f"{dist}.dist-info/METADATA": metadata,
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}.dist-info/entry_points.txt": f"[console_scripts]\ntinycli = {module}:main\n",
    }
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        writer.writerow([name, f"sha256={digest.decode()}", len(text.encode())])
    writer.writerow([f"{dist}.dist-info/RECORD", "", ""])
    files[f"{dist}.dist-info/RECORD"] = record.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def test_packages_this_python_has_need_no_environment(
    executor: LocalExecutor, cache: EnvironmentCache, tmp_path: Path
) -> None:
    task = ours(tmp_path / "t", ["pytest", "PyYAML>=5"], ["http://127.0.0.1:9/simple"])
    (outcome,) = run(executor, task)
    assert outcome.ok, task.log
    assert task.output() == sys.executable
    assert task.log == ""
    assert not cache.root.exists()


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_missing_package_gets_an_environment_built_once(installer: str, tmp_path: Path) -> None:
    requirement = f"{TINY} @ {tiny_wheel(tmp_path / 'wheels').as_uri()}"
    cache = EnvironmentCache(tmp_path / "envs", uv="auto" if installer == "uv" else None)
    assert (cache.uv is not None) == (installer == "uv")
    executor = LocalExecutor(environments=cache)
    try:
        # Two tasks at once: one builds, the other waits for it on the lock.
        first = [ours(tmp_path / f"t{i}", [requirement]) for i in range(2)]
        assert all(o.ok for o in run(executor, *first)), [t.log for t in first]
        (later,) = [ours(tmp_path / "t2", [requirement])]
        assert run(executor, later)[0].ok, later.log
    finally:
        executor.close()
    envs = [p for p in cache.root.iterdir() if not p.name.startswith(".")]
    assert len(envs) == 1 and (envs[0] / MARKER).is_file()
    expected = f"{envs[0] / 'bin' / 'python'}|tiny|cli|True"
    assert [t.output() for t in [*first, later]] == [expected] * 3
    builds = [t for t in [*first, later] if "building the Python environment" in t.log]
    assert len(builds) == 1 and builds[0] is not later
    assert f"with {installer}" in builds[0].log  # which installer built it, in log and record
    assert json.loads((envs[0] / MARKER).read_text())["installer"] == installer
    assert not list(cache.root.glob(".*.staging-*"))


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_no_deps_requirements_are_installed_alone_after_the_others(
    installer: str, tmp_path: Path
) -> None:
    """As kfp's install step does for kfp itself (`pip install PACKAGES && pip install
    kfp --no-deps`): a requirement in `no_deps` gets none of its dependencies (here one
    that exists nowhere), and is installed after the others."""
    wheels = tmp_path / "wheels"
    needy = f"dagyard-needy @ {tiny_wheel(wheels, 'dagyard-needy', 'dagyard-nosuch').as_uri()}"
    requirement = f"{TINY} @ {tiny_wheel(wheels).as_uri()}"
    cache = EnvironmentCache(tmp_path / "envs", uv="auto" if installer == "uv" else None)
    here = Interpreter(sys.executable)
    with open(tmp_path / "log", "w+b") as log:
        python = cache.interpreter([requirement, needy], [], python=here, log=log, no_deps=[needy])
    assert python.parent.parent.name == cache.key([requirement, needy], [], here.version, [needy])
    assert cache.key([requirement, needy], [], here.version) != python.parent.parent.name
    found = Interpreter(str(python)).missing([TINY, "dagyard-needy", "dagyard-nosuch"])
    assert found == ("dagyard-nosuch",)
    built = (tmp_path / "log").read_text()
    assert f"{requirement}, then without dependencies {needy}" in built
    marker = json.loads((python.parent.parent / MARKER).read_text())
    assert marker["no_deps"] == [needy]


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_installed_modules_are_compiled_to_bytecode_as_they_are_built(
    installer: str, tmp_path: Path
) -> None:
    """pip compiles what it installs and uv does not unless told: built either way, the
    environment's modules come with their .pyc, so that no task or kfp zygote compiles
    them again where Python writes no bytecode (PYTHONDONTWRITEBYTECODE, a read-only
    home). Nothing imports the module before the check."""
    requirement = f"{TINY} @ {tiny_wheel(tmp_path / 'wheels').as_uri()}"
    cache = EnvironmentCache(tmp_path / "envs", uv="auto" if installer == "uv" else None)
    with open(tmp_path / "log", "w+b") as log:
        python = cache.interpreter([requirement], [], python=Interpreter(sys.executable), log=log)
    (package,) = python.parent.parent.glob("lib/python*/site-packages/dagyard_tinypkg")
    tag = sys.implementation.cache_tag
    assert (package / "__pycache__" / f"__init__.{tag}.pyc").is_file()


def test_uv_is_found_through_the_uv_package_dagyard_depends_on() -> None:
    assert find_uv() == uv.find_uv_bin()
    assert EnvironmentCache(Path("unused")).uv == uv.find_uv_bin()


def test_failed_install_is_reported_with_the_installers_output(
    executor: LocalExecutor, cache: EnvironmentCache, tmp_path: Path
) -> None:
    missing = (tmp_path / "nowhere" / "dagyard_nosuch-1.0-py3-none-any.whl").as_uri()
    task = ours(tmp_path / "t", [f"dagyard-nosuch @ {missing}"])
    (outcome,) = run(executor, task)
    assert outcome.exit_code is None
    assert outcome.error and "Installing dagyard-nosuch" in outcome.error
    assert "nowhere" in task.log.split("building the Python environment", 1)[1]
    assert [p.name for p in cache.root.iterdir() if not p.name.startswith(".")] == []


@kfp_dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b


@kfp_dsl.component(base_image="python:3.11", packages_to_install=["pytest", "PyYAML>=5"])
def add_with_packages(a: int, b: int) -> int:
    import yaml  # noqa: F401

    return a + b


@kfp_dsl.component(base_image="python:3.11", install_kfp_package=False)
def add_without_kfp(a: int, b: int) -> int:
    return a + b


@pytest.mark.kfp
@pytest.mark.parametrize("component", [add, add_with_packages, add_without_kfp])
def test_kfp_component_runs_without_pip(
    component: Any, executor: LocalExecutor, cache: EnvironmentCache, tmp_path: Path
) -> None:
    path = tmp_path / "component.yaml"
    kfp_compiler.Compiler().compile(component, str(path))
    (spec,) = yaml.safe_load(path.read_text())["deploymentSpec"]["executors"].values()
    task = Task(tmp_path / "t", spec["container"]["command"], spec["container"]["args"], a=1, b=2)
    (outcome,) = run(executor, task)
    assert outcome.ok, task.log
    assert json.loads(task.output_file.read_text())["parameterValues"] == {"Output": 3}
    assert "pip" not in task.log.lower()
    assert not cache.root.exists()


def test_shim_runs_an_interpreter_whose_folder_has_no_python3(
    cache: EnvironmentCache, tmp_path: Path
) -> None:
    assert cache.bin_dir_for(sys.executable) == Path(sys.executable).parent
    lonely = tmp_path / "lonely" / "py"
    lonely.parent.mkdir()
    lonely.symlink_to(sys.executable)
    shims = cache.bin_dir_for(str(lonely))
    assert shims.parent == cache.root / "shims" and cache.bin_dir_for(str(lonely)) == shims
    assert (shims / "python3").read_text() == f'#!/bin/sh\nexec "{lonely}" "$@"\n'


def test_another_interpreter_is_asked_in_a_child_process() -> None:
    other = Interpreter(str(Path(sys.executable).parent / "python3"))
    here = Interpreter(sys.executable)
    assert other.missing(["pytest", "dagyard-no-such-dist"]) == ("dagyard-no-such-dist",)
    assert other.version == here.version
    assert here.missing(["pytest", "dagyard-no-such-dist"]) == ("dagyard-no-such-dist",)
