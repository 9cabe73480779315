"""How long a task ran, kept on its record as its attempts start and end.

Belongs here: the rule that turns a new task record (`created`) or a change of one
(`timed`) into the running-time fields that go with it, and the change for an attempt
the executor holds back for capacity (`held`). No clock is read: callers pass `now`.
No I/O.

The fields (store/records.py): `started_at` is when the latest attempt started,
`first_started_at` when the first did, `ran_seconds` how long the attempts that ended
ran in all. From them a reader tells apart the time a task was queued (created -> first
start), ran (`ran_seconds`, plus the running attempt's time so far) and waited between
attempts (first start -> end, less the time it ran).

Why it is correct: an attempt is live exactly while its task is unfinished and has a
`started_at` (the engine clears `started_at` whenever an attempt ends without ending the
task, and a retried run's tasks are reset without one). So a change that moves such a
task to PENDING or to a finished state ends that attempt, and adds its time once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from dagyard.store.records import Task, TaskState


def created(task: Task) -> Task:
    """A new record, with its first start when it is created started."""
    if task.started_at is None or task.first_started_at is not None:
        return task
    return dataclasses.replace(task, first_started_at=task.started_at)


def timed(task: Task, changes: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """`changes` to `task`'s record, with `first_started_at` and `ran_seconds` when
    they start its first attempt or end a live one. Fields given in `changes` win."""
    added: dict[str, Any] = {}
    started = changes.get("started_at")
    if started is not None and task.first_started_at is None:
        added["first_started_at"] = started
    state = changes.get("state")
    live = task.started_at is not None and not task.state.terminal
    if live and state is not None and (state == TaskState.PENDING or state.terminal):
        assert task.started_at is not None
        end = changes.get("finished_at") or now
        ran = max(0.0, (end - task.started_at).total_seconds())
        added["ran_seconds"] = task.ran_seconds + ran
    return {**added, **changes}


def held(task: Task) -> dict[str, Any]:
    """The changes for an attempt held back for capacity after it was recorded started:
    it did not run, so none of its time counts, and a first attempt has not started."""
    changes: dict[str, Any] = {"started_at": None, "ran_seconds": task.ran_seconds}
    if task.first_started_at is not None and task.first_started_at == task.started_at:
        changes["first_started_at"] = None
    return changes
