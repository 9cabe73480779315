"""The driver's journal of task writes, on a real SQLite store: changes apply to the
newest version of a record, a flush writes everything held at once, and a refused flush
keeps it all for the next try."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagyard.engine.journal import Journal
from dagyard.errors import AlreadyExists
from dagyard.store.records import Artifact, Event, EventKind, Run, Task, TaskKind, TaskState
from dagyard.store.sql import SqlMetadataStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_run(Run(run_id="r1", display_name="run", pipeline_spec={}))
    yield store
    store.close()


def task(task_id: str, path: str) -> Task:
    return Task(task_id=task_id, run_id="r1", path=path, name=path, kind=TaskKind.CONTAINER)


def test_changes_apply_to_the_newest_version_and_land_in_one_flush(
    store: SqlMetadataStore,
) -> None:
    journal = Journal(store)
    created = journal.create(task("t1", "train"))
    journal.update(created, state=TaskState.RUNNING, attempts=1)
    # A caller holding the record as created must not undo the change above.
    journal.update(created, error="slow")
    assert store.list_tasks("r1") == []  # nothing is written before the flush
    journal.flush()
    stored = store.get_task("t1")
    assert (stored.state, stored.attempts, stored.error) == (TaskState.RUNNING, 1, "slow")
    assert len(journal) == 0

    model = Artifact(
        artifact_id="a1", run_id="r1", name="model", uri="file:///m", schema_title="system.Model"
    )
    journal.finish(
        stored,
        artifacts=[model],
        events=[Event("t1", "a1", EventKind.OUTPUT, "model")],
        state=TaskState.SUCCEEDED,
        fingerprint="f1",
    )
    assert journal.holds_success("f1") and not journal.holds_success("f2")
    journal.flush()
    assert store.get_task("t1").state == TaskState.SUCCEEDED
    assert [e.artifact_id for e in store.list_events(task_id="t1")] == ["a1"]
    assert not journal.holds_success("f1")  # written: the store answers for it now


def test_a_refused_flush_writes_nothing_and_keeps_everything(store: SqlMetadataStore) -> None:
    journal = Journal(store)
    journal.create(task("t1", "first"))
    journal.flush()
    journal.update(store.get_task("t1"), state=TaskState.RUNNING)
    journal.create(task("t2", "first"))  # the path is taken
    with pytest.raises(AlreadyExists):
        journal.flush()
    assert store.get_task("t1").state == TaskState.PENDING  # not half of the batch
    assert len(journal) == 2
    journal.discard()  # as a driver that lost its run does
    journal.flush()
    assert [t.task_id for t in store.list_tasks("r1")] == ["t1"]


def test_a_finished_task_is_let_go_once_written_an_unfinished_one_is_kept(
    store: SqlMetadataStore,
) -> None:
    """A big run's driver must not keep every task it ever ran: once written, a finished
    record is the journal's no more (nothing else holds it here, so it is collected);
    an unfinished one stays the version changes apply to."""
    journal = Journal(store)
    done = journal.update(journal.create(task("t1", "a")), state=TaskState.SUCCEEDED)
    running = journal.create(task("t2", "b"))
    journal.update(running, state=TaskState.RUNNING)
    journal.flush()
    gone = weakref.ref(done)
    del done
    gc.collect()
    assert gone() is None
    journal.update(running, error="slow")  # `running` as created: still not stale
    journal.flush()
    stored = store.get_task("t2")
    assert (stored.state, stored.error) == (TaskState.RUNNING, "slow")
