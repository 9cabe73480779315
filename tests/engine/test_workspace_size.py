"""A run's workspace is held to the size its pipeline asks for: the PipelineConfig
workspace that kfp and Dagyard write to the PlatformSpec (kfp's
pipeline_spec_builder._merge_pipeline_config, `platforms.kubernetes.pipelineConfig`).
On KFP it is a volume claim of that size; here a folder per run, so the disk must have
the size free before anything runs, and a task that leaves the workspace fuller than the
size fails saying so. Each pipeline is compiled by the real kfp 2.17 and by Dagyard and
run with real child processes on SQLite."""

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from dagyard import compiler as dagyard_compiler
from dagyard import dsl as dagyard_dsl
from dagyard import ir
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import RunState, TaskState

pytestmark = pytest.mark.kfp

BOTH = pytest.mark.parametrize("dsl", [kfp_dsl, dagyard_dsl], ids=["kfp", "dagyard"])


def _spec(dsl: ModuleType, pipeline: Any, folder: Path) -> dict[str, Any]:
    path = folder / "pipeline.yaml"
    if dsl is kfp_dsl:
        kfp_compiler.Compiler().compile(pipeline, str(path))
    else:
        dagyard_compiler.Compiler().compile(pipeline, path)
    return runs.load_pipeline_spec(path)


def _filler(dsl: ModuleType, size: str) -> Any:
    """A pipeline with a workspace of `size` whose task writes `count` bytes there, then
    a task that reads them back."""

    @dsl.component(base_image="python:3.11")
    def fill(workspace: str, count: int) -> int:
        import os

        with open(os.path.join(workspace, "data.bin"), "wb") as f:
            f.write(b"x" * count)
        return count

    @dsl.component(base_image="python:3.11")
    def measure(workspace: str) -> int:
        import os

        return os.path.getsize(os.path.join(workspace, "data.bin"))

    config = dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=size))

    @dsl.pipeline(name="filler", pipeline_config=config)
    def pipeline(count: int = 100):  # type: ignore[no-untyped-def]
        filled = fill(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER, count=count)
        measure(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER).after(filled)

    return pipeline


@BOTH
def test_the_plan_reads_the_workspace_size_of_either_compiler(
    dsl: ModuleType, tmp_path: Path
) -> None:
    spec = _spec(dsl, _filler(dsl, "2.5Gi"), tmp_path)
    assert ir.plan(ir.from_dict(spec)).workspace_size == "2.5Gi"


@BOTH
def test_a_workspace_within_its_size_is_shared_by_the_tasks(
    dsl: ModuleType, platform: Platform, tmp_path: Path
) -> None:
    spec = _spec(dsl, _filler(dsl, "1Ki"), tmp_path)
    run = runs.drive_run(
        platform, runs.submit_run(platform, spec, parameters={"count": 1024}).run_id
    )
    assert run.state == RunState.SUCCEEDED, run.error
    tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
    assert tasks["measure"].outputs == {"Output": 1024}


@BOTH
def test_a_task_that_fills_the_workspace_past_its_size_fails_saying_so(
    dsl: ModuleType, platform: Platform, tmp_path: Path
) -> None:
    spec = _spec(dsl, _filler(dsl, "1Ki"), tmp_path)
    run = runs.drive_run(
        platform, runs.submit_run(platform, spec, parameters={"count": 1025}).run_id
    )
    assert run.state == RunState.FAILED
    tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
    assert tasks["fill"].state == TaskState.FAILED
    # The error goes on with the end of the task's log, as for any failed attempt.
    assert (tasks["fill"].error or "").startswith(
        "The task filled the run's workspace past its size: it holds 1.0 KiB, more than "
        "the 1Ki of the pipeline's WorkspaceConfig; write less there, or give the pipeline "
        "a larger WorkspaceConfig(size=...)."
    )
    assert tasks["measure"].state == TaskState.SKIPPED


@BOTH
def test_a_run_whose_workspace_the_disk_cannot_hold_is_refused_before_anything_runs(
    dsl: ModuleType, platform: Platform, tmp_path: Path
) -> None:
    """No disk here has an exbibyte free."""
    spec = _spec(dsl, _filler(dsl, "1Ei"), tmp_path)
    run = runs.drive_run(platform, runs.submit_run(platform, spec).run_id)
    assert run.state == RunState.FAILED
    assert run.error is not None
    assert run.error.startswith("The pipeline's workspace needs 1Ei, but the disk holding ")
    assert run.error.endswith("or give the pipeline a smaller WorkspaceConfig(size=...).")
    assert platform.store.list_tasks(run.run_id) == []
    assert not (platform.settings.work_root / run.run_id / ".workspace").exists()


def test_a_hand_written_size_that_is_not_a_quantity_fails_the_run_naming_it(
    platform: Platform, tmp_path: Path
) -> None:
    spec = _spec(kfp_dsl, _filler(kfp_dsl, "1Gi"), tmp_path)
    spec["platform_spec"]["platforms"]["kubernetes"]["pipelineConfig"]["workspace"]["size"] = "lots"
    run = runs.drive_run(platform, runs.submit_run(platform, spec).run_id)
    assert run.state == RunState.FAILED
    assert run.error == (
        "The pipeline's workspace size 'lots' is not a Kubernetes quantity; compile it with "
        "a size such as WorkspaceConfig(size='10Gi')."
    )
