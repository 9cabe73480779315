"""Calling a pipeline after `local.init()` runs the whole of it through the engine."""

from __future__ import annotations

from pathlib import Path

import local_components as c
import pytest

from dagyard import dsl, local
from dagyard.dsl import PipelineTask
from dagyard.errors import TaskFailed
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.listing import ListQuery
from dagyard.store.records import RunState, TaskKind, TaskState


def test_a_pipeline_runs_with_every_kind_of_control_flow(
    session: Path, platform: Platform, tmp_path: Path
) -> None:
    marker = str(tmp_path / "marker")
    result = c.everything(xs=[1, 2, 3], big=10, marker=marker)
    assert result.state == "SUCCEEDED"
    assert result.output == "large:14"
    tasks = {t.path: t for t in runs.list_tasks(platform, result.run_id)}
    loop = "exit-handler-1/sum-of-squares/for-loop-1"
    assert [tasks[f"{loop}/{i}/square"].outputs for i in range(3)] == [
        {"Output": 1},
        {"Output": 4},
        {"Output": 9},
    ]
    assert tasks["exit-handler-1/sum-of-squares/total"].outputs == {"Output": 14}
    assert tasks["exit-handler-1/flaky"].attempts == 2
    assert tasks["exit-handler-1/flaky"].state == TaskState.SUCCEEDED
    branches = "exit-handler-1/condition-branches-2"
    assert tasks[f"{branches}/condition-3/label"].state == TaskState.SUCCEEDED
    assert tasks[f"{branches}/condition-4"].state == TaskState.SKIPPED
    assert tasks[f"{branches}/condition-5"].state == TaskState.SKIPPED
    assert tasks["report"].outputs == {"Output": "COMPLETE:exit-handler-1"}
    assert runs.get_run(platform, result.run_id)[0].runtime_config["parameters"] == {
        "xs": [1, 2, 3],
        "big": 10,
        "marker": marker,
    }


def test_calling_a_pipeline_again_reuses_its_tasks_from_the_cache(
    session: Path, platform: Platform, tmp_path: Path
) -> None:
    marker = str(tmp_path / "marker")
    c.everything(xs=[2, 2], big=8, marker=marker)
    again = c.everything(xs=[2, 2], big=8, marker=marker)
    assert again.output == "equal:8"
    leaves = {
        t.path: t.state
        for t in runs.list_tasks(platform, again.run_id)
        if t.kind is TaskKind.CONTAINER and t.name != "report"
    }
    assert len(leaves) == 5  # two squares, total, flaky, the label of the taken branch
    assert set(leaves.values()) == {TaskState.CACHED}


def test_a_pipeline_returns_artifacts_and_parameters(session: Path) -> None:
    assert c.rows_then_count(n=6).output == 6


def test_a_failed_task_inside_a_pipeline_raises_naming_it(session: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        c.fails_inside(x=4)
    assert caught.value.task == "explode"
    assert "of the pipeline 'fails-inside' ended FAILED" in str(caught.value)
    assert "x=4 is not allowed" in caught.value.log_tail


def test_a_pipeline_defined_after_init_still_calls_components_as_tasks(
    session: Path, platform: Platform
) -> None:
    made: list[object] = []

    @dsl.pipeline
    def outer(n: int) -> int:
        inner = c.rows_then_count(n=n)
        made.append(inner)
        return c.add(a=inner.output, b=1).output

    assert isinstance(made[0], PipelineTask)
    assert runs.list_runs(platform, ListQuery()).records == []
    result = outer(n=2)
    assert result.output == 3
    paths = {t.path for t in runs.list_tasks(platform, result.run_id)}
    assert {"rows-then-count", "rows-then-count/make-rows", "add"} <= paths
    assert runs.get_run(platform, result.run_id)[0].state == RunState.SUCCEEDED


def test_the_html_view_shows_the_run_its_tasks_and_a_link(session: Path, tmp_path: Path) -> None:
    result = c.everything(xs=[1], big=0, marker=str(tmp_path / "marker"))
    page = result._repr_html_()
    assert f'href="http://127.0.0.1:8888/runs/{result.run_id}"' in page
    assert 'data-task="exit-handler-1/sum-of-squares/total"' in page
    assert 'data-state="SUCCEEDED"' in page
    assert "large:1" in page
    assert result.view is not None
    tasks = {t.name: t for t in result.view.tasks}
    # The IR's dependencies between siblings, else the group a task belongs to.
    assert tasks["exit-handler-1/condition-branches-2"].upstream == (
        "exit-handler-1/sum-of-squares",
    )
    assert tasks["exit-handler-1/sum-of-squares/total"].upstream == (
        "exit-handler-1/sum-of-squares/for-loop-1",
    )
    assert tasks["exit-handler-1/flaky"].upstream == ("exit-handler-1",)


def test_the_link_follows_the_server_address(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGYARD_ENDPOINT", "http://dagyard.example:9000/")
    local.init()
    result = c.add(a=1, b=1)
    assert result.url == f"http://dagyard.example:9000/runs/{result.run_id}"


def test_a_pipeline_takes_an_artifact_from_an_earlier_call(
    session: Path, platform: Platform
) -> None:
    rows = c.make_rows(n=3).output
    result = c.count_plus(rows=rows, extra=10)
    assert result.output == 13
    tasks = {t.path: t for t in runs.list_tasks(platform, result.run_id)}
    # The artifact comes in through an importer of its URI; the pipeline runs nested.
    assert tasks["importer"].kind is TaskKind.IMPORTER
    assert tasks["count-plus/count-rows"].state == TaskState.SUCCEEDED
    assert runs.get_run(platform, result.run_id)[0].runtime_config["parameters"] == {"extra": 10}
