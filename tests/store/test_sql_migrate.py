"""The schema check every open makes without Alembic (`migrate.file_head_revision`,
`migrate.current_revision`) says what Alembic says, on every supported database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from store_backends import Backend

from dagyard.store.listing import ListQuery
from dagyard.store.records import Artifact, Event, EventKind, Run, RunState, Task, TaskKind
from dagyard.store.sql import SqlMetadataStore, migrate

pytestmark = pytest.mark.db

T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_the_revision_files_name_alembics_head() -> None:
    assert migrate.file_head_revision() == migrate.head_revision()


@pytest.mark.parametrize("name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_the_stored_revision_is_read_as_alembic_reads_it(
    name: str, request: pytest.FixtureRequest
) -> None:
    backend: Backend = request.getfixturevalue(name)
    url = backend.new_database_url()
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database:  # its folder is made by the store otherwise
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:  # a fresh database: no version table yet
            assert migrate.current_revision(connection) is None
            assert MigrationContext.configure(connection).get_current_revision() is None
        SqlMetadataStore(url).close()  # migrates it
        with engine.connect() as connection:
            ours = migrate.current_revision(connection)
            assert ours == MigrationContext.configure(connection).get_current_revision()
            assert ours == migrate.head_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_runs_written_before_0013_sort_by_duration_and_metric_after_it(
    name: str, request: pytest.FixtureRequest
) -> None:
    from alembic import command

    backend: Backend = request.getfixturevalue(name)
    url = backend.new_database_url()
    store = SqlMetadataStore(url)
    try:
        for run_id, score in (("slow", 0.5), ("fast", 0.9)):
            store.create_run(Run(run_id, run_id, {}, created_at=T0))
            store.update_run(run_id, state=RunState.RUNNING)
            made = Task(f"{run_id}-t", run_id, "eval", "eval", TaskKind.CONTAINER)
            metrics = Artifact(
                f"{run_id}-a", run_id, "m", "file:///m", "system.Metrics", metadata={"f1": score}
            )
            event = Event(made.task_id, metrics.artifact_id, EventKind.OUTPUT, "metrics")
            store.write_tasks([made], [], artifacts=[metrics], events=[event])
        store.update_run("fast", state=RunState.SUCCEEDED)
        store.update_run("slow", state=RunState.SUCCEEDED)
        config = migrate.alembic_config(url)
        command.downgrade(config, "0012")  # as the runs were before
        command.upgrade(config, "head")  # filled in from their history and lineage
        by_duration = store.page_runs(ListQuery(sort_by="duration desc"))
        assert [r.run_id for r in by_duration.records] == ["slow", "fast"]
        by_f1 = store.page_runs(ListQuery(sort_by="metric:eval/f1 desc"))
        assert [r.run_id for r in by_f1.records] == ["fast", "slow"]
        assert store.run_metric_keys(ListQuery()) == ["eval/f1"]
    finally:
        store.close()


def _a_task_with_lineage(store: SqlMetadataStore) -> None:
    """Run "r" with task "t", which made artifact "a" (an output event)."""
    store.create_run(Run("r", "r", {}, created_at=T0))
    made = Task("t", "r", "make", "make", TaskKind.CONTAINER)
    data = Artifact("a", "r", "data", "file:///d", "system.Dataset")
    event = Event("t", "a", EventKind.OUTPUT, "data")
    store.write_tasks([made], [], artifacts=[data], events=[event])


@pytest.mark.parametrize("name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_task_revisions_go_and_come_back_without_losing_a_row(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Down to before 0011 and up again: every run, task and lineage event stays (a
    table copied and dropped on SQLite would take its children along), and the tasks
    written before count as revision 0, below every later write."""
    from alembic import command

    backend: Backend = request.getfixturevalue(name)
    url = backend.new_database_url()
    store = SqlMetadataStore(url)
    try:
        _a_task_with_lineage(store)
        config = migrate.alembic_config(url)
        command.downgrade(config, "0010")
        command.upgrade(config, "head")
        assert [t.task_id for t in store.list_tasks("r")] == ["t"]
        assert len(store.list_events(task_id="t")) == 1
        assert store.changed_tasks("r") == (store.list_tasks("r"), 0)
        store.update_task("t", attempts=1)
        changed, revision = store.changed_tasks("r", 0)
        assert [t.attempts for t in changed] == [1] and revision == 1
    finally:
        store.close()


@pytest.mark.parametrize("name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_migrations_that_copy_tables_keep_every_row_that_points_at_them(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Down to 0007 and up again through the store's own upgrade: on SQLite, 0008 and
    0010 copy the tasks and runs tables (batch mode), which with foreign keys enforced
    took every task, artifact and event along."""
    from alembic import command

    backend: Backend = request.getfixturevalue(name)
    url = backend.new_database_url()
    store = SqlMetadataStore(url)
    try:
        _a_task_with_lineage(store)
        command.downgrade(migrate.alembic_config(url), "0007")
    finally:
        store.close()
    again = SqlMetadataStore(url)  # migrates it to the head
    try:
        assert [t.task_id for t in again.list_tasks("r")] == ["t"]
        assert [a.artifact_id for a in again.list_artifacts("r")] == ["a"]
        assert len(again.list_events(task_id="t")) == 1
    finally:
        again.close()
