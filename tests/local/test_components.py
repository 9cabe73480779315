"""Calling a component after `local.init()` runs it at once and returns its outputs."""

from __future__ import annotations

from pathlib import Path

import local_components as c
import pytest

from dagyard import local
from dagyard.dsl import Dataset, Model
from dagyard.errors import DagyardError, TaskFailed, UsageError
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import RunState, TaskState


def test_a_component_call_returns_its_value_as_the_declared_type(session: Path) -> None:
    task = c.add(a=1, b=2)
    assert isinstance(task, local.LocalTask)
    assert task.state == "SUCCEEDED"
    assert task.output == 3 and type(task.output) is int
    assert task.outputs == {"Output": 3}
    halved = c.halve(x=3)
    assert halved.output == 1.5 and type(halved.output) is float


def test_an_artifact_output_is_a_dsl_artifact_with_a_readable_path(session: Path) -> None:
    made = c.make_rows(n=4)
    rows = made.outputs["rows"]
    assert isinstance(rows, Dataset)
    assert made.output is rows
    assert rows.metadata == {"count": 4}
    assert rows.uri.startswith(str(session / "artifacts"))
    assert Path(rows.path).read_text() == "row 0\nrow 1\nrow 2\nrow 3\n"


def test_an_artifact_from_one_call_feeds_the_next(session: Path) -> None:
    made = c.make_rows(n=3)
    assert c.count_rows(rows=made.outputs["rows"]).output == 3
    # A single-output result stands for its output, as a task does in a pipeline.
    assert c.count_rows(rows=made).output == 3


def test_an_artifact_made_by_hand_is_imported(session: Path, tmp_path: Path) -> None:
    data = tmp_path / "mine.csv"
    data.write_text("a\nb\n")
    assert c.count_rows(rows=Dataset(uri=str(data))).output == 2


def test_several_outputs_are_read_by_name_and_output_says_so(session: Path) -> None:
    trained = c.train(rows=c.make_rows(n=5).outputs["rows"])
    assert trained.outputs["rows"] == 5
    assert trained.outputs["loss"] == pytest.approx(0.2)
    model = trained.outputs["model"]
    assert isinstance(model, Model)
    assert model.metadata == {"framework": "counting"}
    assert Path(model.path).read_text() == "weights for 5 rows"
    with pytest.raises(UsageError, match=r"3 outputs .*'rows'.*use `.outputs\['<name>'\]`"):
        _ = trained.output


def test_a_second_identical_call_is_served_from_the_cache(
    session: Path, platform: Platform
) -> None:
    first = c.add(a=5, b=6)
    second = c.add(a=5, b=6)
    assert second.output == 11
    assert second.run_id != first.run_id
    assert [t.state for t in runs.list_tasks(platform, first.run_id)] == [TaskState.SUCCEEDED]
    assert [t.state for t in runs.list_tasks(platform, second.run_id)] == [TaskState.CACHED]


def test_caching_can_be_turned_off_at_init(home: Path, platform: Platform) -> None:
    local.init(runner=local.SubprocessRunner(), enable_caching=False)
    c.add(a=5, b=6)
    again = c.add(a=5, b=6)
    assert [t.state for t in runs.list_tasks(platform, again.run_id)] == [TaskState.SUCCEEDED]


def test_a_failed_task_raises_with_its_name_state_and_log_tail(session: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        c.explode(x=7)
    error = caught.value
    # kfp.local raises RuntimeError; code catching that keeps working.
    assert isinstance(error, RuntimeError) and isinstance(error, DagyardError)
    assert error.task == "explode"
    assert error.state == "FAILED"
    assert "working on x=7" in error.log_tail
    assert "ValueError: x=7 is not allowed" in error.log_tail
    message = str(error)
    assert message.startswith("Task 'explode' of the component 'explode' ended FAILED")
    assert error.run_id in message
    assert "about to fail" in message


def test_without_raise_on_error_a_failure_comes_back_as_the_result(home: Path) -> None:
    local.init(runner=local.SubprocessRunner(), raise_on_error=False)
    result = c.explode(x=1)
    assert result.state == "FAILED"
    assert result.outputs == {}
    assert isinstance(result.failure, TaskFailed)
    assert "x=1 is not allowed" in result.failure.log_tail
    assert "explode" in (result.error or "")


def test_every_call_is_a_run_of_the_home(session: Path, platform: Platform) -> None:
    from dagyard.store.listing import ListQuery

    done = c.add(a=2, b=2)
    try:
        c.explode(x=0)
    except TaskFailed as e:
        failed_run = e.run_id
    listed = {r.run_id: r for r in runs.list_runs(platform, ListQuery()).records}
    assert listed[done.run_id].state == RunState.SUCCEEDED
    assert listed[done.run_id].outputs == {"Output": 4}
    assert listed[failed_run].state == RunState.FAILED
    # Its artifacts are in the home's artifact store, where the UI reads them.
    made = c.make_rows(n=1)
    task = runs.find_task(platform, made.run_id, "make-rows")
    assert runs.read_artifact(platform, made.run_id, task.task_id, "rows") == b"row 0\n"


def test_arguments_of_the_wrong_kind_are_refused_before_anything_runs(
    session: Path, platform: Platform
) -> None:
    from dagyard.store.listing import ListQuery

    with pytest.raises(UsageError, match=r"Input 'rows' of 'count-rows' is an artifact"):
        c.count_rows(rows="/some/file")
    made = c.make_rows(n=1)
    with pytest.raises(UsageError, match=r"Input 'a' of 'add' is a parameter"):
        c.add(a=made.output, b=1)
    with pytest.raises(DagyardError, match=r"Parameter 'a' must be an integer; got 'one'"):
        c.add(a="one", b=1)
    assert [r.run_id for r in runs.list_runs(platform, ListQuery()).records] == [made.run_id]
