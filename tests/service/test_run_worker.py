"""The background run worker of a server process: real runs, real processes, SQLite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conditions import eventually

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service import runs
from dagyard.service.leases import LeaseKeeper
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.store.records import Run, RunState, TaskState


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def wait_for(path: str) -> None:
    import os
    import time

    while not os.path.exists(path):
        time.sleep(0.02)


@dsl.pipeline
def adding(a: int = 1) -> int:
    return add(a=a, b=1).output


@dsl.pipeline
def blocking(path: str) -> None:
    wait_for(path=path)


@dsl.pipeline
def blocking_then_adding(path: str) -> int:
    held = wait_for(path=path)
    return add(a=1, b=1).after(held).output


def state(platform: Platform, run: Run) -> RunState:
    return platform.store.get_run(run.run_id).state


def test_submitted_runs_are_executed_in_the_background(platform: Platform) -> None:
    spec = compile_to_dict(adding)
    submitted = [runs.submit_run(platform, spec, parameters={"a": a}) for a in (1, 2, 3)]
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:
        for run in submitted:
            eventually(lambda run=run: state(platform, run) == RunState.SUCCEEDED, "done")
        assert [platform.store.get_run(r.run_id).outputs for r in submitted] == [
            {"Output": 2},
            {"Output": 3},
            {"Output": 4},
        ]
    finally:
        worker.stop()


def test_a_run_asked_to_stop_is_canceled_with_its_task(platform: Platform, tmp_path: Path) -> None:
    run = runs.submit_run(
        platform, compile_to_dict(blocking), parameters={"path": str(tmp_path / "never")}
    )
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:
        eventually(
            lambda: any(
                t.state == TaskState.RUNNING for t in platform.store.list_tasks(run.run_id)
            ),
            "the task runs",
        )
        platform.store.update_run(run.run_id, state=RunState.CANCELING)
        eventually(lambda: state(platform, run) == RunState.CANCELED, "the run is canceled")
        (task,) = platform.store.list_tasks(run.run_id)
        assert task.state == TaskState.CANCELED
    finally:
        worker.stop()


def test_runs_left_running_by_a_dead_process_are_resumed(platform: Platform) -> None:
    run = runs.submit_run(platform, compile_to_dict(adding), parameters={"a": 5})
    platform.store.update_run(run.run_id, state=RunState.RUNNING)  # as a killed server left it
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:
        eventually(lambda: state(platform, run) == RunState.SUCCEEDED, "the run is finished")
        assert platform.store.get_run(run.run_id).outputs == {"Output": 6}
    finally:
        worker.stop()


def test_resuming_a_run_that_another_live_process_drives_names_it(platform: Platform) -> None:
    from dagyard.errors import RunError

    run = runs.submit_run(platform, compile_to_dict(adding), parameters={"a": 1})
    now = datetime.now(UTC)
    assert platform.store.claim_run(
        run.run_id, "elsewhere:1:abcd", now=now, until=now + timedelta(seconds=60)
    )
    with pytest.raises(RunError, match=r"driven by elsewhere:1:abcd, whose lease expires at"):
        runs.resume_run(platform, run.run_id)
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:  # once the holder lets go, a worker takes it
        platform.store.release_run(run.run_id, "elsewhere:1:abcd")
        eventually(lambda: state(platform, run) == RunState.SUCCEEDED, "the run is finished")
    finally:
        worker.stop()


def test_a_driver_that_missed_the_loss_of_its_lease_writes_nothing_more(
    platform: Platform, tmp_path: Path
) -> None:
    """The database refuses the writes of a driver whose lease another process took,
    even when the driver itself has not noticed (as a process paused for longer than its
    lease would not): it abandons the run, and the new holder finishes it."""
    gate = tmp_path / "gate"
    run = runs.submit_run(
        platform, compile_to_dict(blocking_then_adding), parameters={"path": str(gate)}
    )
    # Never renewed and never seen as lost for an hour: only the database can stop it.
    lease = LeaseKeeper(platform.store, owner="paused:1:a", seconds=3600).claim(run.run_id)
    assert lease is not None
    ended: list[Run] = []
    driver = threading.Thread(
        target=lambda: ended.append(runs.drive_run(platform, run.run_id, lease=lease))
    )
    driver.start()
    try:
        eventually(
            lambda: any(
                t.name == "wait-for" and t.state == TaskState.RUNNING
                for t in platform.store.list_tasks(run.run_id)
            ),
            "the held task runs",
        )
        now = datetime.now(UTC)
        assert platform.store.claim_run(
            run.run_id,
            "other:2:b",
            now=now,
            until=now + timedelta(seconds=60),
            replacing="paused:1:a",
        )
    finally:
        gate.touch()
        driver.join(60)
    assert not driver.is_alive()
    assert ended[0].state == RunState.RUNNING  # abandoned, not finished
    stored = {t.name: t for t in platform.store.list_tasks(run.run_id)}
    assert stored["wait-for"].state == TaskState.RUNNING  # its end was not recorded
    assert "add" not in stored  # nothing after it started
    record = platform.store.get_run(run.run_id)
    assert (record.state, record.lease_owner) == (RunState.RUNNING, "other:2:b")

    finished = runs.drive_run(platform, run.run_id, owner="other:2:b")
    assert (finished.state, finished.outputs) == (RunState.SUCCEEDED, {"Output": 2})
