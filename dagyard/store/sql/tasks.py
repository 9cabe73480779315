"""A run's tasks on SQL: created one by one or written in the run driver's batches (each
statement prepared once per database and run once per batch), read back, and looked up
by cache fingerprint. Part of `SqlMetadataStore`; the other records live in `store.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from dagyard.errors import AlreadyExists, NotFound
from dagyard.store.records import (
    Artifact,
    Event,
    EventKind,
    Subtree,
    Task,
    TaskDigest,
    TaskScope,
    TaskState,
)
from dagyard.store.sql import rows
from dagyard.store.sql.leases import lease_lost
from dagyard.store.sql.metrics import record_metrics
from dagyard.store.sql.prepared import Prepared
from dagyard.store.sql.schema import ArtifactRow, EventRow, ExperimentRow, RunRow, TaskRow
from dagyard.store.sql.transactions import Conflict, Transactions, chunks, stamped

log = logging.getLogger(__name__)


class TaskStorage(Transactions):
    """The task methods of the metadata store, and `write_tasks`."""

    def get_or_create_task(self, task: Task) -> tuple[Task, bool]:
        task = stamped(task, "created_at")
        row = rows.to_row(TaskRow, task)
        try:
            with self._session(write=True) as session:
                existing = self._task_at(session, task.run_id, task.path)
                if existing is None:
                    self._require(session, RunRow, task.run_id)
                    row.revision = self._next_revision(session.connection(), task.run_id)
                    session.add(row)
                    session.flush()
                result = (rows.to_record(existing or row, Task), existing is None)
        except Conflict:
            # Another process created it between our read and our insert.
            with self._session() as session:
                existing = self._task_at(session, task.run_id, task.path)
                found = None if existing is None else rows.to_record(existing, Task)
            if found is None:
                raise self._id_taken(TaskRow, task.task_id) from None
            return found, False
        return result

    def _task_at(self, session: Session, run_id: str, path: str) -> TaskRow | None:
        return session.scalar(
            sa.select(TaskRow).where(TaskRow.run_id == run_id, TaskRow.path == path)
        )

    def get_task(self, task_id: str) -> Task:
        return self._fetch(TaskRow, task_id, Task)

    def list_tasks(self, run_id: str) -> list[Task]:
        return self.changed_tasks(run_id)[0]

    def changed_tasks(
        self, run_id: str, after: int | None = None, *, scope: TaskScope | None = None
    ) -> tuple[list[Task], int]:
        """See `MetadataStore.changed_tasks`."""
        # Core rows, not ORM objects: a run may have tens of thousands of tasks.
        query = sa.select(*_TASK_COLUMNS, _TASKS.c.revision).where(_TASKS.c.run_id == run_id)
        if after is not None:
            query = query.where(_TASKS.c.revision > after)
        if scope is not None:
            query = query.where(*_within(scope))
        query = query.order_by(_TASKS.c.created_at, _TASKS.c.path)
        revision = after or 0
        found = []
        with self._session() as session:
            for row in session.execute(query):
                *values, task_revision = row
                found.append(Task(*values))
                revision = max(revision, task_revision)
        return found, revision

    def task_tally(self, run_id: str) -> tuple[int, int]:
        """See `MetadataStore.task_tally`."""
        query = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.max(_TASKS.c.revision), 0)
        ).where(_TASKS.c.run_id == run_id)
        with self._session() as session:
            records, revision = session.execute(query).one()
        return int(records), int(revision)

    def task_digests(self, run_id: str) -> list[TaskDigest]:
        """See `MetadataStore.task_digests`."""
        # Warnings are stored as compact JSON text: an empty list is exactly "[]", so
        # the database answers "any?" without sending the sentences.
        warned = sa.type_coerce(_TASKS.c.warnings, sa.Text()) != "[]"
        query = (
            sa.select(*_DIGEST_COLUMNS, warned, _TASKS.c.revision)
            .where(_TASKS.c.run_id == run_id)
            .order_by(_TASKS.c.created_at, _TASKS.c.path)
        )
        with self._session() as session:
            found: list[Any] = list(session.execute(query))
        return [
            TaskDigest(task_id, path, kind, state, bool(cached), index, bool(warned), revision)
            for task_id, path, kind, state, cached, index, warned, revision in found
        ]

    def get_tasks(self, task_ids: Sequence[str]) -> list[Task]:
        found: dict[str, Task] = {}
        for chunk in chunks(task_ids):
            query = sa.select(TaskRow).where(TaskRow.task_id.in_(chunk))
            found.update((t.task_id, t) for t in self._list(Task, query))
        return [found[i] for i in dict.fromkeys(task_ids) if i in found]

    def update_task(self, task_id: str, **changes: Any) -> Task:
        def revision(session: Session) -> dict[str, Any]:
            # Taken before the task's row is locked: the run's row first, then the
            # task's, the order `write_tasks` locks them in.
            run_id = session.scalar(sa.select(TaskRow.run_id).where(TaskRow.task_id == task_id))
            return (
                {}
                if run_id is None
                else {"revision": self._next_revision(session.connection(), run_id)}
            )

        return self._update(TaskRow, task_id, Task, changes, also=revision)

    def _next_revision(self, connection: sa.Connection, run_id: str) -> int:
        """Take the run's next task revision; the run's row stays locked until the
        transaction ends, so revisions commit in the order they are taken. 0 for an
        unknown run (whose task writes then fail on their own)."""
        statements = self._task_statements
        statements.bump_revision.execute_many(connection, [{"b_run_id": run_id}])
        found = statements.read_revision.fetch(connection, {"run_id": run_id})
        return int(found[0][0]) if found else 0

    @functools.cached_property
    def _task_statements(self) -> _TaskStatements:
        return _TaskStatements(self._writer.dialect)

    def write_tasks(
        self,
        created: Sequence[Task],
        changed: Sequence[Task],
        *,
        artifacts: Sequence[Artifact] = (),
        events: Sequence[Event] = (),
        fence: str | None = None,
    ) -> None:
        """See `MetadataStore.write_tasks`. A batch may be written again after the
        database did not answer (`StoreUnavailable`): if the connection was lost during
        COMMIT, the first try may have landed. Such a batch is recognised rather than
        written twice: it is atomic and its new rows (tasks, artifacts) carry ids made
        for it, so when inserting them breaks a key and every one of them is stored, the
        earlier try committed all of it, and this one returns having changed nothing.
        Inserts that skip rows already there (ON CONFLICT DO NOTHING, INSERT IGNORE)
        would do it too, but differ on every backend and would also pass over a genuine
        clash (a new task on a path taken), which must stay AlreadyExists. Lineage
        events carry no id of their own: those already stored are left out (a batch
        without new tasks or artifacts is written again whole, which changes nothing).
        """
        # Each statement runs once (executemany) for the whole batch, prepared for this
        # database: a driver's batch costs a few statements whatever its size, where the
        # ORM would flush row by row and Connection.execute costs more than the writes.
        new_events = [stamped(e, "created_at") for e in events]
        statements = self._task_statements
        try:
            with self._writing_connection() as connection:
                if fence is not None:
                    run_ids = {t.run_id for t in (*created, *changed)}
                    run_ids.update(a.run_id for a in artifacts)
                    for run_id in sorted(run_ids):  # locked in one order: no deadlock
                        held = statements.lease_holder.fetch(connection, {"run_id": run_id})
                        if not held:
                            raise NotFound(f"No run with id {run_id!r}.")
                        if held[0][0] != fence:
                            raise lease_lost(run_id, fence, held[0][0])
                # One revision per run for the whole batch, taken after the lease check
                # (which locks the same rows in the same order).
                revisions = {
                    run_id: self._next_revision(connection, run_id)
                    for run_id in sorted({t.run_id for t in (*created, *changed)})
                }
                statements.insert_task.execute_many(
                    connection,
                    [
                        {**_TASK_VALUES(stamped(t, "created_at")), "revision": revisions[t.run_id]}
                        for t in created
                    ],
                )
                statements.insert_artifact.execute_many(
                    connection, [_ARTIFACT_VALUES(stamped(a, "created_at")) for a in artifacts]
                )
                if new_events:
                    new_events = _unrecorded(connection, new_events)
                statements.insert_event.execute_many(
                    connection, [_EVENT_VALUES(e) for e in new_events]
                )
                record_metrics(connection, new_events)
                statements.update_task.execute_many(
                    connection,
                    [
                        {
                            "b_task_id": t.task_id,
                            **_TASK_CHANGES(t),
                            "revision": revisions[t.run_id],
                        }
                        for t in changed
                    ],
                )
        except Conflict as conflict:
            if self._landed(created, artifacts):
                log.info(
                    "A batch of %d task records had been written already (the database's "
                    "answer to its COMMIT was lost); it is not written again.",
                    len(created) + len(changed),
                )
                return
            raise AlreadyExists(
                "Cannot record the run's tasks: a task with one of these ids or paths "
                f"exists already, or one names a record that does not exist ({conflict})."
            ) from None

    def _landed(self, created: Sequence[Task], artifacts: Sequence[Artifact]) -> bool:
        """Whether every task and artifact of a batch is stored already, each task on
        its path in its run (see `write_tasks`)."""
        if not created and not artifacts:
            return False
        tasks = (_TASKS.c.task_id, _TASKS.c.run_id, _TASKS.c.path)
        ids = _ARTIFACTS.c.artifact_id
        with self._session() as session:
            stored = {
                tuple(row)
                for chunk in chunks([t.task_id for t in created])
                for row in session.execute(sa.select(*tasks).where(tasks[0].in_(chunk)))
            }
            stored_ids = {
                row[0]
                for chunk in chunks([a.artifact_id for a in artifacts])
                for row in session.execute(sa.select(ids).where(ids.in_(chunk)))
            }
        return all((t.task_id, t.run_id, t.path) in stored for t in created) and all(
            a.artifact_id in stored_ids for a in artifacts
        )

    def find_cached_task(
        self, fingerprint: str, *, newer_than: datetime | None, namespace: str | None = None
    ) -> Task | None:
        query = sa.select(TaskRow).where(
            TaskRow.fingerprint == fingerprint, TaskRow.state == TaskState.SUCCEEDED
        )
        if namespace is not None:
            rows.check_text("namespace", namespace)
            # A run's namespace is its experiment's; "" when it has none (or it is gone).
            query = (
                query.join(RunRow, RunRow.run_id == TaskRow.run_id)
                .outerjoin(ExperimentRow, ExperimentRow.experiment_id == RunRow.experiment_id)
                .where(sa.func.coalesce(ExperimentRow.namespace, "") == namespace)
            )
        if newer_than is not None:
            rows.check_time("newer_than", newer_than)
            query = query.where(TaskRow.finished_at > newer_than)
        # Newest first; a task without finished_at (NULL sorts first on PostgreSQL) last.
        unfinished_last = sa.case((TaskRow.finished_at.is_(None), 1), else_=0)
        query = query.order_by(
            unfinished_last,
            TaskRow.finished_at.desc(),
            TaskRow.created_at.desc(),
            TaskRow.task_id,
        ).limit(1)
        found = self._list(Task, query)
        return found[0] if found else None


_RUNS = cast(sa.Table, RunRow.__table__)
_TASKS = cast(sa.Table, TaskRow.__table__)
_ARTIFACTS = cast(sa.Table, ArtifactRow.__table__)
_EVENTS = cast(sa.Table, EventRow.__table__)
_TASK_VALUES = rows.column_values(TaskRow, Task)
# The record's columns, in the record's field order (a task's revision is not in it).
_TASK_COLUMNS = [_TASKS.c[field.name] for field in dataclasses.fields(Task)]
_TASK_CHANGES = rows.column_values(TaskRow, Task, key=False)
_DIGEST_COLUMNS = [
    _TASKS.c[name] for name in ("task_id", "path", "kind", "state", "cache_hit", "iteration_index")
]
_ARTIFACT_VALUES = rows.column_values(ArtifactRow, Artifact)
_EVENT_VALUES = rows.column_values(EventRow, Event)


class _TaskStatements:
    """`write_tasks`'s statements, prepared for one database."""

    def __init__(self, dialect: Dialect) -> None:
        task_fields = [*_fields(Task), "revision"]
        self.insert_task = Prepared(sa.insert(_TASKS), dialect, task_fields)
        self.insert_artifact = Prepared(sa.insert(_ARTIFACTS), dialect, _fields(Artifact))
        self.insert_event = Prepared(sa.insert(_EVENTS), dialect, _fields(Event))
        self.update_task = Prepared(
            sa.update(_TASKS).where(_TASKS.c.task_id == sa.bindparam("b_task_id")),
            dialect,
            [*(f for f in task_fields if not _TASKS.c[f].primary_key), "b_task_id"],
        )
        # "b_run_id": a parameter named as a column is taken for a SET value.
        self.bump_revision = Prepared(
            sa.update(_RUNS)
            .where(_RUNS.c.run_id == sa.bindparam("b_run_id"))
            .values(task_revision=_RUNS.c.task_revision + sa.literal_column("1")),
            dialect,
            ["b_run_id"],
        )
        self.read_revision = Prepared(
            sa.select(_RUNS.c.task_revision).where(_RUNS.c.run_id == sa.bindparam("run_id")),
            dialect,
            ["run_id"],
        )
        # Locks the run's row until the transaction ends (FOR UPDATE; SQLite has one
        # writer at a time): no claim can come between the check and the writes.
        self.lease_holder = Prepared(
            sa.select(_RUNS.c.lease_owner)
            .where(_RUNS.c.run_id == sa.bindparam("run_id"))
            .with_for_update(),
            dialect,
            ["run_id"],
        )


def _within(scope: TaskScope) -> list[sa.ColumnElement[bool]]:
    """The conditions on a task row of being in `scope`."""
    path = _TASKS.c.path
    below = path.startswith(scope.path + "/", autoescape=True)
    if isinstance(scope, Subtree):
        return [sa.or_(path == scope.path, below)]
    # One more segment: one more "/" (each is one byte and one character everywhere).
    slashes = sa.func.length(path) - sa.func.length(sa.func.replace(path, "/", ""))
    conditions = [below, slashes == scope.path.count("/") + 1]
    index = _TASKS.c.iteration_index
    if scope.from_index is not None:
        conditions.append(index >= scope.from_index)
    if scope.to_index is not None:
        conditions.append(index < scope.to_index)
    return conditions


def _fields(record_type: type[Any]) -> list[str]:
    return [field.name for field in dataclasses.fields(record_type)]


def _unrecorded(connection: sa.Connection, events: list[Event]) -> list[Event]:
    """Of `events`, those not in the store yet (nor repeated earlier in the list)."""
    task_ids = sorted({e.task_id for e in events})
    columns = (
        EventRow.task_id,
        EventRow.artifact_id,
        EventRow.kind,
        EventRow.key,
        EventRow.index,
    )
    known = {
        tuple(row)
        for chunk in chunks(task_ids)
        for row in connection.execute(sa.select(*columns).where(EventRow.task_id.in_(chunk)))
    }
    fresh = []
    for event in events:
        key = (event.task_id, event.artifact_id, EventKind(event.kind), event.key, event.index)
        if key not in known:
            known.add(key)
            fresh.append(event)
    return fresh
