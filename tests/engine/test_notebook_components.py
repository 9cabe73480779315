"""A notebook component runs its notebook with the parameters its function passes, kfp-
and Dagyard-compiled alike, through the service layer on a real platform (SQLite, child
processes, a real Jupyter kernel in an environment built from the package index with
kfp's default notebook packages).

kfp embeds the notebook as it embeds any path (component_factory.
create_notebook_component_from_func) and binds dsl.run_notebook in the task's source to a
runner that injects the parameters after the cell tagged `parameters` and runs the
notebook with nbclient in the unpacked folder (templates/notebook_executor.py).
"""

# No `from __future__ import annotations`: kfp reads the component's annotations as objects.
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from dagyard import dsl as dagyard_dsl
from dagyard.compiler import Compiler
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState, TaskState

pytestmark = [pytest.mark.kfp, pytest.mark.slow]


def _code(source: str, *tags: str) -> dict[str, Any]:
    metadata = {"tags": list(tags)} if tags else {}
    return {
        "cell_type": "code",
        "metadata": metadata,
        "execution_count": None,
        "outputs": [],
        "source": source,
    }


def _write_notebook(folder: Path) -> Path:
    """A notebook whose `parameters` cell gives defaults; what it writes shows which
    values it ran with."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Shout a text"},
            _code("text = 'hi'\ntimes = 1\nresult_path = 'result.txt'", "parameters"),
            _code(
                "shout = (text.upper() + '!') * times\n"
                "print('shouting', shout)\n"
                "with open(result_path, 'w') as f:\n"
                "    f.write(shout)"
            ),
        ],
    }
    folder.mkdir()
    path = folder / "shout.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def _pipeline(dsl: ModuleType, notebook: Path) -> Any:
    @dsl.notebook_component(notebook_path=str(notebook), base_image="python:3.11")
    def shout(
        text: str,
        times: int,
        result: dsl.OutputPath(str),  # type: ignore[valid-type]
        embedded: dsl.EmbeddedInput[dsl.Artifact],  # type: ignore[name-defined]
    ) -> str:
        import os

        dsl.run_notebook(text=text, times=times, result_path=result)
        return os.path.basename(embedded.path)

    @dsl.pipeline(name="notebook")
    def pipeline(text: str = "hey", times: int = 1) -> None:
        shout(text=text, times=times)

    return pipeline


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    home = tmp_path / "home"
    home.mkdir()
    opened = Platform.open(Settings(container_runtime="off", home=home))
    try:
        yield opened
    finally:
        opened.close()


@pytest.mark.parametrize("dsl", [kfp_dsl, dagyard_dsl], ids=["kfp", "dagyard"])
def test_a_notebook_runs_with_the_parameters_its_function_passes(
    platform: Platform, tmp_path: Path, dsl: ModuleType
) -> None:
    """The injected values win over the `parameters` cell's (injected after it), the
    notebook writes where the function asked, an EmbeddedInput gets the notebook file,
    and what the cells print reaches the task's log."""
    pipeline = _pipeline(dsl, _write_notebook(tmp_path / "notebooks"))
    path = tmp_path / "notebook.yaml"
    if dsl is kfp_dsl:
        kfp_compiler.Compiler().compile(pipeline, str(path))
    else:
        Compiler().compile(pipeline, path)
    spec = runs.load_pipeline_spec(path)
    submitted = runs.submit_run(platform, spec, parameters={"text": "hey", "times": 2})
    run = runs.drive_run(platform, submitted.run_id)
    (task,) = platform.store.list_tasks(run.run_id)
    log = platform.artifacts.read_text(task.log_uri)
    assert run.state == RunState.SUCCEEDED, (run.error, log[-2000:])
    assert task.state == TaskState.SUCCEEDED
    assert task.outputs == {"result": "HEY!HEY!", "Output": "shout.ipynb"}
    assert "shouting HEY!HEY!" in log


def test_a_failing_cell_fails_the_task_with_the_cells_error(
    platform: Platform, tmp_path: Path
) -> None:
    """kfp's runner runs with allow_errors=False: a cell that raises ends the notebook
    and fails the task (templates/notebook_executor.py, kfp_run_notebook)."""
    folder = tmp_path / "failing"
    folder.mkdir()
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {},
        "cells": [_code("rows = []\nif not rows:\n    raise ValueError('no rows to train on')")],
    }
    (folder / "train.ipynb").write_text(json.dumps(notebook))

    @dagyard_dsl.notebook_component(notebook_path=str(folder), base_image="python:3.11")
    def train() -> None:
        from dagyard import dsl

        dsl.run_notebook()

    @dagyard_dsl.pipeline(name="failing-notebook")
    def pipeline() -> None:
        train()

    path = tmp_path / "failing.yaml"
    Compiler().compile(pipeline, path)
    submitted = runs.submit_run(platform, runs.load_pipeline_spec(path), parameters={})
    run = runs.drive_run(platform, submitted.run_id)
    (task,) = platform.store.list_tasks(run.run_id)
    log = platform.artifacts.read_text(task.log_uri)
    assert (run.state, task.state) == (RunState.FAILED, TaskState.FAILED)
    assert "train.ipynb failed" in log
    assert "ValueError: no rows to train on" in log
