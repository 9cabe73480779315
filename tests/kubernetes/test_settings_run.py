"""kfp-compiled pipelines with kfp-kubernetes settings, run on Dagyard's engine
(service layer, SQLite, real child processes): what one machine honours, and what it
refuses before the task runs.

KFP facts: `set_timeout` is the pod's activeDeadlineSeconds, past which Kubernetes kills
the pod and the task fails (kfp.kubernetes.timeout); `use_field_path_as_env` is the
Downward API (kfp.kubernetes.field); an optional secret that does not exist sets no
variable (kfp.kubernetes.secret, `optional`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes

from dagyard.service import logs, runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState
from tests.pipelines import k8s_settings

pytestmark = pytest.mark.kfp


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(home=tmp_path / "home"))
    try:
        yield opened
    finally:
        opened.close()


def _run(
    platform: Platform, tmp_path: Path, build: Any, **arguments: Any
) -> tuple[Run, dict[str, Task]]:
    path = tmp_path / "pipeline.yaml"
    kfp_compiler.Compiler().compile(build(kfp_dsl, kfp_kubernetes), str(path))
    spec = runs.load_pipeline_spec(path)
    submitted = runs.submit_run(platform, spec, parameters=arguments)
    run = runs.drive_run(platform, submitted.run_id)
    tasks = {t.name: t for t in platform.store.list_tasks(run.run_id)}
    return run, tasks


def test_the_run_keeps_the_platform_spec(platform: Platform, tmp_path: Path) -> None:
    run, _ = _run(platform, tmp_path, k8s_settings.timed)
    assert "kubernetes" in run.pipeline_spec["platform_spec"]["platforms"]


def test_a_task_past_its_timeout_is_stopped_and_fails_saying_so(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, tmp_path, k8s_settings.timed)
    assert run.state is RunState.FAILED
    task = tasks["sleep"]
    assert task.state is TaskState.FAILED
    assert task.error is not None
    assert "Timed out" in task.error and "limit of 1 s (set_timeout)" in task.error


def test_field_paths_reach_the_task_and_recorded_settings_are_named_in_its_log(
    platform: Platform, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    run, tasks = _run(platform, tmp_path, k8s_settings.field_paths, marker=str(marker))
    assert run.state is RunState.SUCCEEDED, run.error
    task = tasks["write"]
    pod, node = task.outputs["said"].split("|")
    assert pod == task.task_id
    assert node
    log = logs.read_log(platform, run.run_id, task.task_id).text
    assert "not enforced on this host: nodeSelector, podMetadata" in log
