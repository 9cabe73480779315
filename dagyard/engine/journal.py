"""The task writes of one run driver, held in memory and written in batches.

A driver changes a few task records for every task it runs (the iteration that holds it,
the attempt that starts, its outputs and end). Written one transaction each, those writes
cost more than running a trivial task does. The journal keeps them until `flush`, which
writes them all in one transaction (`MetadataStore.write_tasks`); the driver flushes
before it waits for the executor, before it reads what it may have written, and at the
end of the run.

What it means for a crash: the database always holds a prefix of the driver's history,
since a batch is written whole or not at all and batches are written in order. A task
finished in the last unwritten batch is simply not finished for the next driver, which
runs it again; a task recorded SUCCEEDED never runs again.

A flush that meets a database that does not answer is tried again (`outages.py`) with
the same batch, and nothing new is added to the journal meanwhile: the batch is written
once, also when the first try's COMMIT landed and only its answer was lost
(`MetadataStore.write_tasks` recognises a batch already written).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dagyard.engine import running_time
from dagyard.engine.outages import Outages
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Artifact, Event, Task, TaskState


class Journal:
    """Task records changed since the last `flush`, and the artifacts and lineage
    events to store with them. Not thread-safe: it belongs to one driver."""

    def __init__(
        self, store: MetadataStore, *, fence: str | None = None, outages: Outages | None = None
    ) -> None:
        self._store = store
        # Through which a flush rides out an unanswering database (default: it does not).
        self._outages = outages or Outages(what="a journal", budget_seconds=0)
        # The lease owner every flush is fenced by: LeaseLost, and nothing written, once
        # another process holds the run.
        self._fence = fence
        # The newest version of every unfinished task this journal has written or been
        # given (and of every task not written yet): changes apply to it, never to a stale
        # copy a caller may hold. A finished task is dropped once written, so a big run's
        # driver does not keep every task it ever ran.
        self._latest: dict[str, Task] = {}
        # Ids of the tasks to insert, in the order created (a parent before its
        # children), and of those to rewrite.
        self._created: dict[str, None] = {}
        self._changed: dict[str, None] = {}
        self._artifacts: list[Artifact] = []
        self._events: list[Event] = []

    def __len__(self) -> int:
        return len(self._created) + len(self._changed) + len(self._artifacts) + len(self._events)

    def create(self, task: Task) -> Task:
        """Record a new task (its `created_at` set now if unset, its first start if it
        starts running)."""
        if task.created_at is None:
            task = dataclasses.replace(task, created_at=datetime.now(UTC))
        task = running_time.created(task)
        self._latest[task.task_id] = task
        self._created[task.task_id] = None
        return task

    def update(self, task: Task, **changes: Any) -> Task:
        """The newest version of `task` with `changes`, to be written at the next flush
        (with the running time they imply: `running_time.timed`)."""
        latest = self._latest.get(task.task_id, task)
        changes = running_time.timed(latest, changes, now=datetime.now(UTC))
        changed = dataclasses.replace(latest, **changes)
        self._latest[task.task_id] = changed
        if task.task_id not in self._created:
            self._changed[task.task_id] = None
        return changed

    def finish(
        self,
        task: Task,
        *,
        artifacts: Sequence[Artifact] = (),
        events: Sequence[Event] = (),
        **changes: Any,
    ) -> Task:
        """Like `update`, with the task's new artifacts and lineage: all of it becomes
        durable in the same transaction."""
        self._artifacts.extend(artifacts)
        self._events.extend(events)
        return self.update(task, **changes)

    def holds_success(self, fingerprint: str) -> bool:
        """Whether an unwritten task SUCCEEDED with this cache fingerprint (a cache
        lookup must see it: flush first)."""
        return any(
            t.fingerprint == fingerprint and t.state == TaskState.SUCCEEDED
            for t in map(self._latest.__getitem__, [*self._created, *self._changed])
        )

    def flush(self) -> None:
        """Write everything held, in one transaction; nothing is held afterwards. On a
        StoreError everything is still held, and nothing was written (LeaseLost, or any
        refusal) or, after StoreUnavailable, maybe all of it: flush again."""
        if not len(self):
            return
        self._outages.call(
            self._store.write_tasks,
            [self._latest[i] for i in self._created],
            [self._latest[i] for i in self._changed],
            artifacts=self._artifacts,
            events=self._events,
            fence=self._fence,
        )
        for task_id in [*self._created, *self._changed]:
            if self._latest[task_id].state.terminal:
                del self._latest[task_id]
        self.discard()

    def discard(self) -> None:
        """Forget every write held (the driver lost its run, or they were written)."""
        self._created = {}
        self._changed = {}
        self._artifacts = []
        self._events = []
