"""The running-time rule of task records (engine/running_time.py): an attempt's time
counts once when it ends, a wait does not, and the first start is kept."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from dagyard.engine.running_time import created, held, timed
from dagyard.store.records import Task, TaskKind, TaskState

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def task(**fields: object) -> Task:
    base = Task("t", "r", "train", "train", TaskKind.CONTAINER, created_at=T0)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_the_first_start_is_kept_and_later_starts_do_not_move_it() -> None:
    fresh = task()
    assert timed(fresh, {"state": TaskState.RUNNING, "started_at": at(3)}, now=at(3)) == {
        "first_started_at": at(3),
        "state": TaskState.RUNNING,
        "started_at": at(3),
    }
    assert created(task(started_at=at(1))).first_started_at == at(1)
    assert created(task()).first_started_at is None
    again = task(first_started_at=at(3), ran_seconds=2.0)
    assert "first_started_at" not in timed(again, {"started_at": at(9)}, now=at(9))


def test_an_attempt_that_ends_adds_its_time_once() -> None:
    running = task(
        state=TaskState.RUNNING, started_at=at(10), first_started_at=at(4), ran_seconds=2.0
    )
    failed = timed(running, {"state": TaskState.PENDING, "started_at": None}, now=at(15))
    assert failed["ran_seconds"] == 7.0
    finished = timed(running, {"state": TaskState.SUCCEEDED, "finished_at": at(12)}, now=at(99))
    assert finished["ran_seconds"] == 4.0  # until it finished, not until it was written
    # Waiting for its retry (no attempt live), a change of state adds nothing.
    waiting = task(state=TaskState.PENDING, first_started_at=at(4), ran_seconds=7.0)
    assert "ran_seconds" not in timed(waiting, {"state": TaskState.CANCELED}, now=at(30))
    # A finished task opened again (a retried group) had its time counted already.
    done = task(state=TaskState.FAILED, started_at=at(10), finished_at=at(12), ran_seconds=2.0)
    assert "ran_seconds" not in timed(done, {"state": TaskState.PENDING}, now=at(40))


def test_an_attempt_held_for_capacity_did_not_run() -> None:
    submitted = task(state=TaskState.RUNNING, started_at=at(5), first_started_at=at(5))
    changes = held(submitted)
    assert changes == {"started_at": None, "ran_seconds": 0.0, "first_started_at": None}
    written = timed(submitted, {"state": TaskState.PENDING, **changes}, now=at(8))
    assert written["ran_seconds"] == 0.0 and written["first_started_at"] is None
    retried = task(
        state=TaskState.RUNNING, started_at=at(20), first_started_at=at(5), ran_seconds=3.0
    )
    assert held(retried) == {"started_at": None, "ran_seconds": 3.0}
