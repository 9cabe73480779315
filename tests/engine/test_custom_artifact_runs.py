"""Runs of tests/pipelines/*_sdk_custom_artifacts.py beyond the corpus expectation: a task
that returns an artifact of the user's own class, and tasks that cannot import the
class's module; kfp-compiled and Dagyard-compiled, through the service layer on SQLite
and child processes.

In the task, kfp's executor builds an artifact from the function's annotation of it
(executor.Executor.make_artifact); the source it runs imports the class's module first
(component_factory._get_command_and_args_for_lightweight_component), so without the
module the task fails before the function runs.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kfp import compiler as kfp_compiler

from dagyard import dsl
from dagyard.compiler import Compiler
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, TaskState

pytestmark = pytest.mark.kfp

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
FLAVORS = pytest.mark.parametrize("flavor", ["kfp", "dy"])


def _module(flavor: str) -> ModuleType:
    name = f"custom_artifact_runs_{flavor}"
    if name not in sys.modules:
        path = PIPELINES / f"{flavor}_sdk_custom_artifacts.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    home = tmp_path / "home"
    home.mkdir()
    opened = Platform.open(Settings(container_runtime="off", home=home, max_parallel=2))
    try:
        yield opened
    finally:
        opened.close()


def _run(platform: Platform, tmp_path: Path, flavor: str, pipeline: str) -> Run:
    return _run_function(
        platform, tmp_path, getattr(_module(flavor), pipeline), by_kfp=flavor == "kfp"
    )


def _run_function(platform: Platform, tmp_path: Path, function: Any, *, by_kfp: bool) -> Run:
    path = tmp_path / "pipeline.yaml"
    if by_kfp:
        kfp_compiler.Compiler().compile(function, str(path))
    else:
        Compiler().compile(function, path)
    spec = runs.load_pipeline_spec(path)
    submitted = runs.submit_run(platform, spec, parameters={"steps": 3})
    return runs.drive_run(platform, submitted.run_id)


@FLAVORS
def test_a_task_that_cannot_import_the_classes_module_fails_naming_it(
    platform: Platform, tmp_path: Path, flavor: str
) -> None:
    run = _run(platform, tmp_path, flavor, "unimportable")
    assert run.state == RunState.FAILED
    (task,) = platform.store.list_tasks(run.run_id)
    assert task.state == TaskState.FAILED
    module = "custom_types_kfp" if flavor == "kfp" else "custom_types_dy"
    assert f"ModuleNotFoundError: No module named '{module}'" in (task.error or "")


def test_a_returned_artifact_of_the_users_class_is_built_as_that_class(
    platform: Platform, tmp_path: Path
) -> None:
    """Dagyard-compiled: the runtime reads the class from the return annotation."""
    run = _run(platform, tmp_path, "dy", "returned")
    assert run.state == RunState.SUCCEEDED, run.error
    tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
    assert tasks["describe"].outputs == {"Output": "Checkpoint google.Checkpoint 4 3"}


def test_kfps_executor_cannot_build_a_returned_artifact_of_the_users_class(
    platform: Platform, tmp_path: Path
) -> None:
    """kfp compiles it, but its executor looks the class up among the function's
    annotations under the output's name 'Output', finds nothing and calls None
    (executor.create_artifact_instance): the kfp-compiled task fails in kfp's code."""
    run = _run(platform, tmp_path, "kfp", "returned")
    assert run.state == RunState.FAILED
    tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
    assert tasks["promote-returned"].state == TaskState.FAILED
    assert "'NoneType' object is not callable" in (tasks["promote-returned"].error or "")
    assert tasks["describe"].state == TaskState.SKIPPED


# A class built on kfp's own Artifact (as Google Cloud Pipeline Components' are) in a
# Dagyard-compiled component: the task imports it with kfp, which this Python has.
sys.path.insert(0, str(PIPELINES))
from custom_types_kfp import Checkpoint  # noqa: E402


@dsl.component(base_image="python:3.11")
def save(steps: int, checkpoint: dsl.Output[Checkpoint]) -> str:
    with open(checkpoint.path, "w") as f:
        f.write("w" * steps)
    checkpoint.metadata["step"] = steps
    return type(checkpoint).__module__


@dsl.component(base_image="python:3.11")
def grow(checkpoint: dsl.Input[Checkpoint]) -> Checkpoint:
    grown = Checkpoint(uri=dsl.get_uri(), metadata={"step": checkpoint.step + 1})
    with open(checkpoint.path) as src, open(grown.path, "w") as dst:
        dst.write(src.read() * 2)
    return grown


@dsl.component(base_image="python:3.11")
def measure(checkpoint: dsl.Input[Checkpoint]) -> str:
    with open(checkpoint.path) as f:
        size = len(f.read())
    return f"{type(checkpoint).__module__} {checkpoint.step} {size}"


@dsl.pipeline(name="kfp-class")
def kfp_class(steps: int = 2) -> None:
    path = str(PIPELINES)
    saved = save(steps=steps).set_env_variable("PYTHONPATH", path)
    grown = grow(checkpoint=saved.outputs["checkpoint"]).set_env_variable("PYTHONPATH", path)
    measure(checkpoint=grown.output).set_env_variable("PYTHONPATH", path)


def test_a_dagyard_task_builds_artifacts_of_a_class_on_kfps_artifact(
    platform: Platform, tmp_path: Path
) -> None:
    run = _run_function(platform, tmp_path, kfp_class, by_kfp=False)
    assert run.state == RunState.SUCCEEDED, run.error
    tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
    assert tasks["save"].outputs == {"Output": "custom_types_kfp"}
    assert tasks["measure"].outputs == {"Output": "custom_types_kfp 4 6"}
