"""The contract of `MetadataStore`, written once and run against every backend: a
subclass per backend (test_metadata_contract.py) provides the `backend` fixture.

The store fixture is shared by the tests of a backend and emptied before each test, so
ids can be fixed strings. Ids are chosen in creation order ("a" < "b"), because records
created within the same microsecond are listed by id.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_backends import Backend

from dagyard.errors import AlreadyExists, LeaseLost, NotFound, StoreError
from dagyard.store.listing import ListQuery
from dagyard.store.records import (
    Artifact,
    Children,
    Event,
    EventKind,
    Experiment,
    NamedValues,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    RunState,
    StorageState,
    Subtree,
    Task,
    TaskKind,
    TaskState,
    ValuesKind,
)
from dagyard.store.sql import SqlMetadataStore
from dagyard.store.sql.migrate import head_revision
from dagyard.store.sql.schema import Base

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def run(run_id: str = "r1", **fields: Any) -> Run:
    fields.setdefault("pipeline_spec", {"x": 1})
    return Run(run_id=run_id, display_name=f"run {run_id}", **fields)


def task(task_id: str, path: str, run_id: str = "r1", **fields: Any) -> Task:
    fields.setdefault("kind", TaskKind.CONTAINER)
    return Task(task_id=task_id, run_id=run_id, path=path, name=path, **fields)


def artifact(artifact_id: str, run_id: str = "r1", **fields: Any) -> Artifact:
    return Artifact(
        artifact_id=artifact_id,
        run_id=run_id,
        name="model",
        uri=f"file:///a/{artifact_id}",
        schema_title="system.Model",
        **fields,
    )


def race(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` in `count` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as error:  # reported by the assertion of the caller
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class MetadataStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a backend's test class provides this fixture")

    @pytest.fixture
    def store(self, backend: Backend) -> SqlMetadataStore:
        return backend.shared_store()

    # -- experiments ----------------------------------------------------------------
    def test_experiment_round_trips_with_created_at(self, store: SqlMetadataStore) -> None:
        created = store.create_experiment(Experiment("e1", "Default", description="d"))
        assert created.created_at is not None and created.created_at.tzinfo is UTC
        assert store.get_experiment("e1") == created
        assert store.find_experiment("Default") == created
        assert store.find_experiment("Default", namespace="other") is None
        assert store.list_experiments() == [created]

    def test_experiment_names_are_unique_per_namespace_and_case_sensitive(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_experiment(Experiment("e1", "Train"))
        store.create_experiment(Experiment("e2", "Train", namespace="team"))
        store.create_experiment(Experiment("e3", "train"))
        with pytest.raises(AlreadyExists, match="'Train' exists already"):
            store.create_experiment(Experiment("e4", "Train"))
        with pytest.raises(AlreadyExists, match="id 'e1'"):
            store.create_experiment(Experiment("e1", "Other"))
        with pytest.raises(AlreadyExists):
            store.update_experiment("e3", display_name="Train")
        assert [e.experiment_id for e in store.list_experiments()] == ["e1", "e2", "e3"]

    def test_experiment_update_and_delete(self, store: SqlMetadataStore) -> None:
        store.create_experiment(Experiment("e1", "Default"))
        archived = store.update_experiment("e1", storage_state="ARCHIVED")
        assert archived.storage_state is StorageState.ARCHIVED
        assert store.get_experiment("e1") == archived
        store.delete_experiment("e1")
        with pytest.raises(NotFound, match="'e1'"):
            store.get_experiment("e1")
        with pytest.raises(NotFound):
            store.delete_experiment("e1")

    # -- pipelines ------------------------------------------------------------------
    def test_pipeline_and_versions_round_trip(self, store: SqlMetadataStore) -> None:
        pipeline = store.create_pipeline(Pipeline("p1", "train", tags={"team": "ml"}))
        assert store.get_pipeline("p1") == pipeline
        assert store.find_pipeline("train") == pipeline
        assert store.find_pipeline("train", namespace="x") is None
        v1 = store.create_pipeline_version(PipelineVersion("v1", "p1", "v1", {"a": 1}))
        v2 = store.create_pipeline_version(
            PipelineVersion("v2", "p1", "v2", {"a": 2}, platform_spec={"k": {"x": 1}})
        )
        assert v1.platform_spec is None
        assert store.get_pipeline_version("v2") == v2
        assert store.list_pipeline_versions("p1") == [v1, v2]
        assert store.list_pipelines() == [pipeline]
        store.delete_pipeline_version("v1")
        assert store.list_pipeline_versions("p1") == [v2]

    def test_pipeline_names_and_version_names_are_unique(self, store: SqlMetadataStore) -> None:
        store.create_pipeline(Pipeline("p1", "train"))
        store.create_pipeline(Pipeline("p2", "train", namespace="team"))
        with pytest.raises(AlreadyExists, match="'train' exists already"):
            store.create_pipeline(Pipeline("p3", "train"))
        store.create_pipeline_version(PipelineVersion("v1", "p1", "first", {}))
        store.create_pipeline_version(PipelineVersion("v2", "p2", "first", {}))
        with pytest.raises(AlreadyExists, match="'first'"):
            store.create_pipeline_version(PipelineVersion("v3", "p1", "first", {}))
        with pytest.raises(NotFound, match="'nope'"):
            store.create_pipeline_version(PipelineVersion("v4", "nope", "x", {}))
        with pytest.raises(NotFound):
            store.list_pipeline_versions("nope")

    def test_deleting_a_pipeline_deletes_its_versions(self, store: SqlMetadataStore) -> None:
        store.create_pipeline(Pipeline("p1", "train"))
        store.create_pipeline_version(PipelineVersion("v1", "p1", "v1", {}))
        store.delete_pipeline("p1")
        with pytest.raises(NotFound):
            store.get_pipeline_version("v1")
        assert store.list_pipelines() == []

    # -- runs -----------------------------------------------------------------------
    def test_run_round_trips_with_initial_state_history(self, store: SqlMetadataStore) -> None:
        store.create_experiment(Experiment("e1", "Default"))
        created = store.create_run(run(experiment_id="e1", runtime_config={"parameters": {"n": 3}}))
        assert created.state is RunState.PENDING and created.created_at is not None
        assert [h["state"] for h in created.state_history] == ["PENDING"]
        assert store.get_run("r1") == created
        assert store.get_experiment("e1").last_run_created_at == created.created_at
        with pytest.raises(AlreadyExists, match="'r1'"):
            store.create_run(run())

    def test_list_runs_filters_by_experiment_and_state(self, store: SqlMetadataStore) -> None:
        store.create_run(run("a", experiment_id="e1"))
        store.create_run(run("b", experiment_id="e1", state=RunState.RUNNING))
        store.create_run(run("c", experiment_id="e2", state=RunState.RUNNING))

        def ids(runs: list[Run]) -> list[str]:
            return [r.run_id for r in runs]

        assert ids(store.list_runs()) == ["a", "b", "c"]
        assert ids(store.list_runs(experiment_id="e1")) == ["a", "b"]
        assert ids(store.list_runs(states=[RunState.RUNNING])) == ["b", "c"]
        assert ids(store.list_runs(experiment_id="e1", states=[RunState.RUNNING])) == ["b"]
        assert store.list_runs(states=[]) == []

    def test_runs_page_by_the_namespace_of_their_experiment(self, store: SqlMetadataStore) -> None:
        store.create_experiment(Experiment("e1", "Train", namespace="team-a"))
        store.create_experiment(Experiment("e2", "Train", namespace="team-b"))
        store.create_run(run("a", experiment_id="e1"))
        store.create_run(run("b", experiment_id="e2"))
        store.create_run(run("c", experiment_id="e1"))

        def ids(**scope: str) -> list[str]:
            return [r.run_id for r in store.page_runs(ListQuery(), **scope).records]

        assert ids(namespace="team-a") == ["a", "c"]
        assert ids(namespace="team-b", experiment_id="e2") == ["b"]
        assert ids(namespace="team-b", experiment_id="e1") == []
        assert ids(namespace="nobody") == []

    def test_state_changes_append_history_and_finish_the_run(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        running = store.update_run("r1", state=RunState.RUNNING)
        assert running.finished_at is None
        same = store.update_run("r1", state="RUNNING", display_name="renamed")
        assert len(same.state_history) == 2 and same.display_name == "renamed"
        failed = store.update_run("r1", state=RunState.FAILED, error="boom")
        assert failed.finished_at is not None and failed.error == "boom"
        history = failed.state_history
        assert [(h["state"], h["error"]) for h in history] == [
            ("PENDING", None),
            ("RUNNING", None),
            ("FAILED", "boom"),
        ]
        assert datetime.fromisoformat(history[-1]["update_time"]) == failed.finished_at
        assert store.get_run("r1") == failed

    def test_concurrent_state_changes_are_all_recorded(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        states = [state for state in RunState if state is not RunState.PENDING]
        results = race(len(states), lambda i: store.update_run("r1", state=states[i]))
        assert not [r for r in results if isinstance(r, Exception)], results
        final = store.get_run("r1")
        recorded = [entry["state"] for entry in final.state_history]
        assert sorted(recorded[1:]) == sorted(state.value for state in states)
        assert recorded[-1] == final.state.value

    def test_a_given_finished_at_is_kept(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        done = store.update_run("r1", state=RunState.SUCCEEDED, finished_at=T0)
        assert done.finished_at == T0

    def test_updates_reject_unknown_fields_ids_and_values(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        with pytest.raises(StoreError, match="no field 'colour'"):
            store.update_run("r1", colour="red")
        with pytest.raises(StoreError, match="'DONE'"):
            store.update_run("r1", state="DONE")
        with pytest.raises(StoreError, match="naive"):
            store.update_run("r1", finished_at=datetime(2024, 1, 1))
        with pytest.raises(StoreError, match="display_name cannot be None"):
            store.update_run("r1", display_name=None)
        with pytest.raises(StoreError, match="more than the 255"):
            store.update_run("r1", display_name="x" * 256)
        with pytest.raises(StoreError, match="not JSON serializable"):
            store.update_run("r1", outputs={"x": object()})
        with pytest.raises(StoreError, match="'DONE'"):
            store.list_runs(states=["DONE"])  # type: ignore[list-item]
        with pytest.raises(NotFound, match="'nope'"):
            store.update_run("nope", state=RunState.RUNNING)
        with pytest.raises(NotFound):
            store.update_task("nope", state=TaskState.RUNNING)
        assert store.get_run("r1").state is RunState.PENDING

    def test_deleting_a_run_deletes_its_tasks_artifacts_and_events(
        self, store: SqlMetadataStore
    ) -> None:
        for run_id in ("r1", "r2"):
            store.create_run(run(run_id))
            store.get_or_create_task(task(f"{run_id}-t", "train", run_id=run_id))
            store.create_artifact(artifact(f"{run_id}-a", run_id=run_id))
            store.add_events([Event(f"{run_id}-t", f"{run_id}-a", EventKind.OUTPUT, "model")])
        store.delete_run("r1")
        with pytest.raises(NotFound):
            store.get_run("r1")
        assert store.list_tasks("r1") == [] and store.list_artifacts("r1") == []
        assert store.list_events(task_id="r1-t") == []
        assert len(store.list_events(task_id="r2-t")) == 1
        assert [a.artifact_id for a in store.list_artifacts()] == ["r2-a"]
        with pytest.raises(NotFound):
            store.delete_run("r1")

    # -- run leases -----------------------------------------------------------------
    def test_one_of_two_owners_racing_claims_a_run(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1"))
        owners = ["worker-a", "worker-b"]
        until = T0 + timedelta(seconds=15)
        won = race(2, lambda i: store.claim_run("r1", owners[i], now=T0, until=until))
        assert sorted(won) == [False, True]
        held = store.get_run("r1")
        assert held.lease_owner == owners[won.index(True)]
        assert held.lease_expires_at == until

    def test_an_owner_claims_again_and_renews_its_own_lease(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1", state=RunState.RUNNING))
        assert store.claim_run("r1", "a", now=T0, until=T0 + timedelta(seconds=15))
        assert store.claim_run("r1", "a", now=T0, until=T0 + timedelta(seconds=20))
        assert store.renew_lease("r1", "a", until=T0 + timedelta(seconds=30))
        assert store.get_run("r1").lease_expires_at == T0 + timedelta(seconds=30)

    def test_a_live_lease_cannot_be_claimed_but_an_expired_one_can(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_run(run("r1", state=RunState.RUNNING))
        assert store.claim_run("r1", "a", now=T0, until=T0 + timedelta(seconds=15))
        later = T0 + timedelta(seconds=14)
        assert not store.claim_run("r1", "b", now=later, until=later + timedelta(seconds=15))
        expired = T0 + timedelta(seconds=16)
        assert store.claim_run("r1", "b", now=expired, until=expired + timedelta(seconds=15))
        assert store.get_run("r1").lease_owner == "b"
        # The old owner's renewal fails once another took the run over.
        assert not store.renew_lease("r1", "a", until=expired + timedelta(seconds=15))

    def test_only_the_owner_renews_or_releases_a_lease(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1"))
        assert not store.renew_lease("r1", "a", until=T0)  # nobody holds it
        assert store.claim_run("r1", "a", now=T0, until=T0 + timedelta(seconds=15))
        assert not store.renew_lease("r1", "b", until=T0 + timedelta(seconds=60))
        store.release_run("r1", "b")
        assert store.get_run("r1").lease_owner == "a"
        # Expired but not taken: still a's, and renewing it is fine.
        assert store.renew_lease("r1", "a", until=T0 + timedelta(seconds=60))
        store.release_run("r1", "a")
        released = store.get_run("r1")
        assert (released.lease_owner, released.lease_expires_at) == (None, None)
        assert store.claim_run("r1", "b", now=T0, until=T0 + timedelta(seconds=15))

    def test_a_live_lease_of_a_dead_owner_can_be_replaced(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1", state=RunState.RUNNING))
        assert store.claim_run("r1", "dead", now=T0, until=T0 + timedelta(seconds=15))
        until = T0 + timedelta(seconds=15)
        assert not store.claim_run("r1", "b", now=T0, until=until, replacing="other")
        assert store.claim_run("r1", "b", now=T0, until=until, replacing="dead")
        assert store.get_run("r1").lease_owner == "b"

    def test_finished_and_unknown_runs_cannot_be_claimed(self, store: SqlMetadataStore) -> None:
        for i, state in enumerate(s for s in RunState if s.terminal):
            store.create_run(run(f"r{i}", state=state))
            assert not store.claim_run(f"r{i}", "a", now=T0, until=T0 + timedelta(seconds=15))
            assert store.get_run(f"r{i}").lease_owner is None
        assert not store.claim_run("nope", "a", now=T0, until=T0 + timedelta(seconds=15))

    def test_fenced_writes_need_the_lease(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1", state=RunState.RUNNING))
        assert store.claim_run("r1", "a", now=T0, until=T0 + timedelta(seconds=15))
        first = task("t1", "first")
        store.write_tasks([first], [], fence="a")
        store.update_run("r1", display_name="renamed", fence="a")
        later = T0 + timedelta(seconds=20)
        assert store.claim_run("r1", "b", now=later, until=later + timedelta(seconds=15))
        # a's lease lapsed and b took the run: nothing a writes lands any more.
        finished = dataclasses.replace(store.get_task("t1"), state=TaskState.SUCCEEDED)
        with pytest.raises(LeaseLost, match=r"no longer driven by a.*b holds it now"):
            store.write_tasks(
                [task("t2", "second")], [finished], artifacts=[artifact("a1")], fence="a"
            )
        with pytest.raises(LeaseLost):
            store.write_tasks([], [], artifacts=[artifact("a1")], fence="a")
        with pytest.raises(LeaseLost):
            store.update_run("r1", state=RunState.FAILED, error="stale", fence="a")
        assert [t.task_id for t in store.list_tasks("r1")] == ["t1"]
        assert store.get_task("t1").state == first.state
        assert store.list_artifacts("r1") == []
        stored = store.get_run("r1")
        assert (stored.state, stored.display_name, stored.error) == (
            RunState.RUNNING,
            "renamed",
            None,
        )
        # The holder writes; so do writers without a fence (the API's terminate).
        store.write_tasks([task("t2", "second")], [finished], fence="b")
        store.update_run("r1", state=RunState.CANCELING)
        store.release_run("r1", "b")
        with pytest.raises(LeaseLost, match="nobody holds it now"):
            store.update_run("r1", state=RunState.CANCELED, fence="b")
        with pytest.raises(NotFound):
            store.write_tasks([task("t3", "x", run_id="nope")], [], fence="b")

    def test_lease_times_must_be_aware(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1"))
        with pytest.raises(StoreError, match="naive"):
            store.claim_run("r1", "a", now=datetime(2024, 1, 1), until=T0)

    # -- tasks ----------------------------------------------------------------------
    def test_get_or_create_task_is_idempotent(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        first, created = store.get_or_create_task(task("t1", "loop/0/train", iteration_index=0))
        assert created and first.iteration_index == 0
        again, created = store.get_or_create_task(task("t2", "loop/0/train"))
        assert not created and again == first
        with pytest.raises(AlreadyExists, match="'t1'"):
            store.get_or_create_task(task("t1", "other"))
        with pytest.raises(NotFound, match="'nope'"):
            store.get_or_create_task(task("t3", "x", run_id="nope"))
        assert store.list_tasks("r1") == [first]

    def test_get_or_create_task_races_create_one_task(
        self, store: SqlMetadataStore, backend: Backend
    ) -> None:
        store.create_run(run())
        other = SqlMetadataStore(backend.shared_url)
        try:
            stores = [store, other]
            results = race(8, lambda i: stores[i % 2].get_or_create_task(task(f"t{i}", "a/b")))
        finally:
            other.close()
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(created for _, created in results) == 1
        assert len({t.task_id for t, _ in results}) == 1
        assert len(store.list_tasks("r1")) == 1

    def test_update_task_and_list_in_creation_order(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        store.get_or_create_task(task("a", "root", kind=TaskKind.DAG))
        store.get_or_create_task(task("b", "root/train", parent_task_id="a"))
        updated = store.update_task(
            "b", state="RUNNING", attempts=1, started_at=T0, outputs={"n": 1}, node="host-1"
        )
        assert updated.state is TaskState.RUNNING and updated.started_at == T0
        assert store.get_task("b") == updated
        assert [t.task_id for t in store.list_tasks("r1")] == ["a", "b"]
        assert store.list_tasks("r1")[0].kind is TaskKind.DAG

    def test_changed_tasks_returns_what_was_written_after_a_revision(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_run(run("r1"))
        store.create_run(run("r2"))
        store.get_or_create_task(task("a", "root", kind=TaskKind.DAG))
        store.write_tasks([task("b", "root/x"), task("c", "root/y")], [])
        everything, first = store.changed_tasks("r1")
        assert [t.task_id for t in everything] == ["a", "b", "c"] and first > 0
        assert store.changed_tasks("r1", first) == ([], first)

        store.update_task("b", state="RUNNING")
        store.get_or_create_task(task("o", "other", run_id="r2"))  # another run's write
        changed, second = store.changed_tasks("r1", first)
        assert [(t.task_id, t.state) for t in changed] == [("b", TaskState.RUNNING)]
        assert second > first

        running = store.get_task("c")
        store.write_tasks([task("d", "root/z")], [dataclasses.replace(running, attempts=2)])
        changed, third = store.changed_tasks("r1", second)
        assert [(t.task_id, t.attempts) for t in changed] == [("c", 2), ("d", 0)]
        # Reading again from an older revision returns the later writes too.
        assert {t.task_id for t in store.changed_tasks("r1", first)[0]} == {"b", "c", "d"}
        assert store.changed_tasks("r1", third) == ([], third)
        assert store.changed_tasks("r2")[0][0].task_id == "o"

    def test_changed_tasks_misses_no_write_of_concurrent_writers(
        self, store: SqlMetadataStore, backend: Backend
    ) -> None:
        """Two stores write a run's tasks while a third reads only what changed since its
        last read: what it put together is, at the end, exactly what the run holds."""
        store.create_run(run())
        names = [f"t{i:02d}" for i in range(40)]
        store.write_tasks([task(n, n) for n in names], [])
        writers = [SqlMetadataStore(backend.shared_url) for _ in range(2)]
        seen, revision = store.changed_tasks("r1")
        known = {t.task_id: t for t in seen}

        def write(i: int) -> None:
            mine = writers[i % 2]
            for step in range(1, 6):
                for n in names[i::4]:
                    if step % 2:
                        mine.update_task(n, attempts=step)
                    else:
                        current = mine.get_task(n)
                        mine.write_tasks([], [dataclasses.replace(current, attempts=step)])

        try:
            threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
            for thread in threads:
                thread.start()
            while True:
                finished = not any(t.is_alive() for t in threads)
                changed, revision = store.changed_tasks("r1", revision)
                known.update((t.task_id, t) for t in changed)
                if finished:  # this read began after the last write
                    break
        finally:
            for writer in writers:
                writer.close()
        assert {n: t.attempts for n, t in known.items()} == dict.fromkeys(names, 5)
        assert sorted(known.values(), key=lambda t: t.task_id) == store.list_tasks("r1")

    def test_changed_tasks_in_a_subtree_take_wildcards_literally(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_run(run())
        paths = ["a_b", "a_b/x", "a_b/x/y", "a_b2", "axb/x", "a%/x", "a%b/x", "a_b-c/x"]
        store.write_tasks([task(f"t{i}", p) for i, p in enumerate(paths)], [])
        _, revision = store.changed_tasks("r1")

        def under(path: str, after: int | None = None) -> list[str]:
            return [t.path for t in store.changed_tasks("r1", after, scope=Subtree(path))[0]]

        assert under("a_b") == ["a_b", "a_b/x", "a_b/x/y"]
        assert under("a%") == ["a%/x"]
        assert under("a_b/x/y") == ["a_b/x/y"]
        assert under("nothing") == []
        assert store.changed_tasks("r1", revision, scope=Subtree("a_b")) == ([], revision)
        store.update_task("t2", state="RUNNING")
        store.update_task("t4", state="RUNNING")
        assert under("a_b", revision) == ["a_b/x/y"]

    def test_changed_tasks_of_one_level_bounded_by_iteration_index(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_run(run())
        store.write_tasks(
            [
                task("a", "loop", kind=TaskKind.LOOP),
                *(
                    task(f"i{n}", f"loop/{n}", kind=TaskKind.DAG, iteration_index=n)
                    for n in range(6)
                ),
                task("s", "loop/2/square", iteration_index=2),
                task("o", "loop_other/1", iteration_index=1),
            ],
            [],
        )

        def children(after: int | None = None, **bounds: int) -> list[str]:
            scope = Children("loop", **bounds)
            return [t.path for t in store.changed_tasks("r1", after, scope=scope)[0]]

        assert children() == [f"loop/{n}" for n in range(6)]
        assert children(from_index=2, to_index=4) == ["loop/2", "loop/3"]
        assert children(from_index=4) == ["loop/4", "loop/5"]
        assert children(to_index=1) == ["loop/0"]
        assert children(from_index=3, to_index=3) == []
        _, revision = store.changed_tasks("r1")
        store.update_task("i3", state="RUNNING")
        store.update_task("s", state="RUNNING")
        assert children(revision) == ["loop/3"]
        found, later = store.changed_tasks("r1", revision, scope=Children("loop", 0, 2))
        assert (found, later) == ([], revision)

    def test_task_tally_and_digests_read_a_few_columns_of_every_record(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_run(run("r1"))
        store.create_run(run("r2"))
        assert store.task_tally("r1") == (0, 0) and store.task_digests("r1") == []
        store.write_tasks(
            [
                task("a", "loop", kind=TaskKind.LOOP),
                task("b", "loop/0", kind=TaskKind.DAG, iteration_index=0),
                task("c", "loop/0/x", state=TaskState.SUCCEEDED, cache_hit=True),
                task("o", "other", run_id="r2"),
            ],
            [],
        )
        store.update_task("c", warnings=["Pod labels are recorded, not applied."])
        records, revision = store.task_tally("r1")
        assert records == 3 and revision == store.changed_tasks("r1")[1]
        digests = store.task_digests("r1")
        assert [(d.task_id, d.path, d.kind, d.iteration_index) for d in digests] == [
            ("a", "loop", TaskKind.LOOP, None),
            ("b", "loop/0", TaskKind.DAG, 0),
            ("c", "loop/0/x", TaskKind.CONTAINER, None),
        ]
        assert [(d.state, d.cache_hit, d.warned) for d in digests] == [
            (TaskState.PENDING, False, False),
            (TaskState.PENDING, False, False),
            (TaskState.SUCCEEDED, True, True),
        ]
        assert [d.revision for d in digests] == [revision - 1, revision - 1, revision]

    def test_task_warnings_round_trip_and_start_empty(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        created, _ = store.get_or_create_task(task("a", "train"))
        assert created.warnings == []
        said = ["Pod labels team=ml (add_pod_label) are recorded, not applied.", "ü ✓"]
        store.update_task("a", warnings=said)
        assert store.get_task("a").warnings == said
        assert store.list_tasks("r1")[0].warnings == said

    def test_task_running_time_round_trips_and_starts_empty(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        created, _ = store.get_or_create_task(task("a", "train"))
        assert created.first_started_at is None and created.ran_seconds == 0.0
        first = datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)
        store.update_task("a", first_started_at=first, ran_seconds=12345.678901)
        for read in (store.get_task("a"), store.list_tasks("r1")[0]):
            assert read.first_started_at == first
            assert read.ran_seconds == 12345.678901  # a double, not a float's 7 digits

    def test_find_cached_task_returns_the_newest_success(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1"))
        store.create_run(run("r2"))
        hour = timedelta(hours=1)
        candidates = [
            ("t0", "fp", TaskState.SUCCEEDED, T0),
            ("t1", "fp", TaskState.SUCCEEDED, T0 + 2 * hour),  # the newest success
            ("t2", "fp", TaskState.SUCCEEDED, T0 + hour),
            ("t3", "fp", TaskState.FAILED, T0 + 3 * hour),
            ("t4", "fp", TaskState.CACHED, T0 + 5 * hour),
            ("t5", "fp2", TaskState.SUCCEEDED, T0 + 6 * hour),
            ("t6", "fp", TaskState.SUCCEEDED, None),  # never newest (NULLs sort first on PG)
        ]
        for i, (task_id, fingerprint, state, finished_at) in enumerate(candidates):
            store.get_or_create_task(
                task(
                    task_id,
                    task_id,
                    run_id=f"r{i % 2 + 1}",
                    fingerprint=fingerprint,
                    state=state,
                    finished_at=finished_at,
                )
            )
        found = store.find_cached_task("fp", newer_than=None)
        assert found is not None and found.task_id == "t1"
        assert store.find_cached_task("fp", newer_than=T0 + timedelta(minutes=30)) == found
        assert store.find_cached_task("fp", newer_than=T0 + timedelta(hours=2)) is None
        assert store.find_cached_task("unknown", newer_than=None) is None
        with pytest.raises(StoreError, match="naive"):
            store.find_cached_task("fp", newer_than=datetime(2024, 1, 1))

    def test_find_cached_task_in_a_namespace_looks_at_its_runs_only(
        self, store: SqlMetadataStore
    ) -> None:
        store.create_experiment(Experiment(experiment_id="ea", display_name="a", namespace="a"))
        store.create_experiment(Experiment(experiment_id="eb", display_name="b", namespace="b"))
        store.create_experiment(Experiment(experiment_id="gone", display_name="g", namespace="b"))
        store.create_run(run("in-a", experiment_id="ea"))
        store.create_run(run("in-b", experiment_id="eb"))
        store.create_run(run("bare"))
        store.create_run(run("orphan", experiment_id="gone"))
        store.delete_experiment("gone")  # its run stays, in no namespace now
        hour = timedelta(hours=1)
        for i, run_id in enumerate(("in-a", "in-b", "bare", "orphan")):
            store.get_or_create_task(
                task(
                    run_id,
                    "step",
                    run_id=run_id,
                    fingerprint="fp",
                    state=TaskState.SUCCEEDED,
                    finished_at=T0 + i * hour,
                )
            )

        def found(namespace: str | None) -> str | None:
            hit = store.find_cached_task("fp", newer_than=None, namespace=namespace)
            return None if hit is None else hit.task_id

        assert found(None) == "orphan"  # the newest, from any run
        assert found("a") == "in-a"
        assert found("b") == "in-b"
        assert found("") == "orphan"  # no experiment, or a deleted one: no namespace
        assert found("c") is None
        hit = store.find_cached_task("fp", newer_than=T0 + hour / 2, namespace="a")
        assert hit is None

    # -- artifacts and lineage ------------------------------------------------------
    def test_artifacts_round_trip(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        first = store.create_artifact(artifact("a1", metadata={"accuracy": 0.9, "epochs": 3}))
        second = store.create_artifact(artifact("a2", digest="ab" * 32, output_key="model"))
        assert store.get_artifact("a1") == first and first.metadata["epochs"] == 3
        assert store.list_artifacts("r1") == [first, second]
        assert store.list_artifacts() == [first, second]
        with pytest.raises(NotFound, match="'nope'"):
            store.create_artifact(artifact("a3", run_id="nope"))
        with pytest.raises(AlreadyExists):
            store.create_artifact(artifact("a1"))

    def test_write_tasks_stores_a_batch_together(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        earlier, _ = store.get_or_create_task(task("t0", "seed"))
        loop = task("t1", "loop", kind=TaskKind.LOOP, state=TaskState.RUNNING)
        body = task("t2", "loop/0/train", parent_task_id="t1", iteration_index=0)
        made = artifact("a1")
        output = Event("t2", "a1", EventKind.OUTPUT, "model", created_at=T0)
        finished = dataclasses.replace(earlier, state=TaskState.SUCCEEDED, outputs={"n": 3})
        # An event given twice is stored once.
        store.write_tasks([loop, body], [finished], artifacts=[made], events=[output, output])
        stored = {t.task_id: t for t in store.list_tasks("r1")}
        assert set(stored) == {"t0", "t1", "t2"}
        assert stored["t2"].parent_task_id == "t1" and stored["t2"].created_at is not None
        assert (stored["t0"].state, stored["t0"].outputs) == (TaskState.SUCCEEDED, {"n": 3})
        assert store.get_artifact("a1").uri == made.uri
        assert store.list_events(task_id="t2") == [output]
        # A changed record replaces every field; an event recorded before is kept once.
        done = dataclasses.replace(stored["t2"], state=TaskState.FAILED, error="boom", attempts=2)
        store.write_tasks([], [done], events=[output])
        assert store.get_task("t2") == done
        assert store.list_events(task_id="t2") == [output]

    def test_write_tasks_a_batch_written_again_is_stored_once(
        self, store: SqlMetadataStore
    ) -> None:
        """As a driver writes a batch again when the answer to its COMMIT was lost."""
        store.create_run(run())
        earlier, _ = store.get_or_create_task(task("t0", "seed"))
        finished = dataclasses.replace(earlier, state=TaskState.SUCCEEDED)
        made = artifact("a1")
        output = Event("t1", "a1", EventKind.OUTPUT, "model", created_at=T0)
        for _ in range(2):
            store.write_tasks([task("t1", "train")], [finished], artifacts=[made], events=[output])
            store.write_tasks([], [], artifacts=[artifact("a2")])
        assert [t.task_id for t in store.list_tasks("r1")] == ["t0", "t1"]
        assert [a.artifact_id for a in store.list_artifacts("r1")] == ["a1", "a2"]
        assert store.list_events(task_id="t1") == [output]
        # A new task on a path taken is a clash all the same, beside a repeated one.
        with pytest.raises(AlreadyExists, match="exists already"):
            store.write_tasks([task("t1", "train"), task("t2", "train")], [])

    def test_write_tasks_writes_nothing_of_a_refused_batch(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        first, _ = store.get_or_create_task(task("t1", "producer"))
        changed = dataclasses.replace(first, state=TaskState.SUCCEEDED)
        with pytest.raises(AlreadyExists, match="exists already"):
            store.write_tasks(
                [task("t2", "other"), task("t3", "producer")],  # the path is taken
                [changed],
                artifacts=[artifact("a1")],
            )
        with pytest.raises(StoreError, match=r"tasks\.state"):
            store.write_tasks([task("t4", "fine")], [], artifacts=[artifact("a2")])  # fine
            store.write_tasks([], [dataclasses.replace(first, state="bogus")])
        with pytest.raises(StoreError, match="Cannot store a value"):
            store.write_tasks([task("t6", "json", outputs={"x": object()})], [])
        assert [t.task_id for t in store.list_tasks("r1")] == ["t1", "t4"]
        assert store.get_task("t1").state == first.state
        with pytest.raises(NotFound):
            store.get_artifact("a1")
        with pytest.raises(AlreadyExists):  # an unknown run
            store.write_tasks([task("t5", "x", run_id="nope")], [])

    def test_events_link_tasks_and_artifacts(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        store.get_or_create_task(task("t1", "producer"))
        store.get_or_create_task(task("t2", "consumer"))
        store.create_artifact(artifact("a1"))
        store.create_artifact(artifact("a2"))
        produced = [
            Event("t1", "a1", EventKind.OUTPUT, "model", created_at=T0),
            Event("t1", "a2", EventKind.OUTPUT, "data", created_at=T0),
        ]
        consumed = [
            Event("t2", "a1", EventKind.INPUT, "models", index=1, created_at=T0),
            Event("t2", "a2", EventKind.INPUT, "models", index=0, created_at=T0),
        ]
        store.add_events(produced + consumed)
        store.add_events(consumed + consumed)  # recorded again, e.g. after a crash
        assert store.list_events(task_id="t1") == [produced[1], produced[0]]
        assert store.list_events(task_id="t2") == [consumed[1], consumed[0]]
        assert store.list_events(artifact_id="a1") == [produced[0], consumed[0]]
        assert store.list_events(task_id="t2", artifact_id="a1") == [consumed[0]]
        assert len(store.list_events()) == 4
        with pytest.raises(NotFound, match="'nope'"):
            store.add_events([Event("t1", "nope", EventKind.INPUT, "x")])
        assert len(store.list_events()) == 4
        store.add_events([])

    def test_events_are_found_by_many_artifacts_and_by_runs(self, store: SqlMetadataStore) -> None:
        store.create_run(run("r1"))
        store.create_run(run("r2"))
        store.get_or_create_task(task("t1", "producer"))
        store.get_or_create_task(task("t2", "consumer", run_id="r2"))
        store.create_artifact(artifact("a1"))
        store.create_artifact(artifact("a2"))
        made = Event("t1", "a1", EventKind.OUTPUT, "model", created_at=T0)
        made_too = Event("t1", "a2", EventKind.OUTPUT, "data", created_at=T0)
        # A task of another run reads r1's artifact (as a cached task's consumer does).
        used = Event("t2", "a1", EventKind.INPUT, "model", created_at=T0 + timedelta(seconds=1))
        store.add_events([used, made, made_too])
        assert store.list_events(artifact_ids=["a1"]) == [made, used]
        assert store.list_events(artifact_ids=["a2", "a1", "a2", "nope"]) == [
            made_too,
            made,
            used,
        ]
        assert store.list_events(artifact_ids=[]) == []
        assert store.list_events(run_ids=["r1"]) == [made_too, made]
        assert store.list_events(run_ids=["r2", "nope"]) == [used]
        assert store.list_events(run_ids=["r2"], artifact_ids=["a2"]) == []
        # Long id lists are queried in pieces, with the same answer.
        many = [f"x{i}" for i in range(1200)] + ["a1"]
        assert store.list_events(artifact_ids=many) == [made, used]

    def test_tasks_and_artifacts_are_fetched_by_ids(self, store: SqlMetadataStore) -> None:
        store.create_run(run())
        first, _ = store.get_or_create_task(task("t1", "one"))
        second, _ = store.get_or_create_task(task("t2", "two"))
        a1 = store.create_artifact(artifact("a1"))
        a2 = store.create_artifact(artifact("a2"))
        assert store.get_tasks(["t2", "nope", "t1", "t2"]) == [second, first]
        assert store.get_artifacts(["a2", "a1", "nope"]) == [a2, a1]
        assert store.get_tasks([]) == [] and store.get_artifacts([]) == []

    # -- recurring runs -------------------------------------------------------------
    def test_recurring_runs_round_trip(self, store: SqlMetadataStore) -> None:
        trigger = {"cron_schedule": {"cron": "0 0 9 ? * 2-6", "start_time": "2024-01-01T00:00Z"}}
        recurring = RecurringRun("rr1", "nightly", pipeline_spec={"a": 1}, trigger=trigger)
        created = store.create_recurring_run(recurring)
        assert created.updated_at is not None and created.updated_at == created.created_at
        assert store.get_recurring_run("rr1") == created
        disabled = store.update_recurring_run("rr1", enabled=False, max_concurrency=3)
        assert not disabled.enabled and disabled.max_concurrency == 3
        assert disabled.updated_at is not None and disabled.updated_at >= created.updated_at
        assert store.list_recurring_runs() == [disabled]
        store.delete_recurring_run("rr1")
        assert store.list_recurring_runs() == []
        with pytest.raises(NotFound):
            store.get_recurring_run("rr1")

    def test_recurring_runs_page_by_experiment_and_namespace(self, store: SqlMetadataStore) -> None:
        for rid, name, experiment_id, namespace in [
            ("rr1", "nightly", "e1", "team-a"),
            ("rr2", "hourly", "e2", "team-b"),
            ("rr3", "weekly", "e1", "team-a"),
        ]:
            store.create_recurring_run(
                RecurringRun(rid, name, experiment_id=experiment_id, namespace=namespace)
            )

        def ids(query: ListQuery = ListQuery(), **scope: str) -> list[str]:
            return [r.recurring_run_id for r in store.page_recurring_runs(query, **scope).records]

        assert ids(namespace="team-a") == ["rr1", "rr3"]
        assert ids(experiment_id="e2") == ["rr2"]
        assert ids(ListQuery(sort_by="display_name")) == ["rr2", "rr1", "rr3"]
        page = store.page_recurring_runs(ListQuery(page_size=2))
        assert (len(page.records), page.total_size, bool(page.next_page_token)) == (2, 3, True)

    # -- values ---------------------------------------------------------------------
    def test_json_values_keep_their_types_order_and_text(self, store: SqlMetadataStore) -> None:
        outputs = {
            "z": 1,
            "a": {"nested": {"list": [1, 2.5, True, None, "x"], "big": 2**53 + 1}},
            "float_whole": 2.0,
            "text": "héllo \u4e16\u754c \U0001f680 \x00",
            "nan": math.nan,
            "empty": {},
        }
        store.create_run(run(outputs=outputs, max_cache_staleness_seconds=0.1))
        back = store.get_run("r1").outputs
        assert list(back) == list(outputs)
        assert back["a"] == outputs["a"] and back["text"] == outputs["text"]
        assert type(back["z"]) is int and type(back["a"]["nested"]["big"]) is int
        assert type(back["float_whole"]) is float and math.isnan(back["nan"])
        assert store.get_run("r1").max_cache_staleness_seconds == 0.1

    @pytest.mark.parametrize(
        ("bad", "problem"),
        [("a\x00b", "contains a NUL character"), ("a\ud800b", "not valid UTF-8 text")],
        ids=["nul", "lone-surrogate"],
    )
    def test_text_with_nul_or_a_lone_surrogate_is_refused_naming_the_field(
        self, store: SqlMetadataStore, bad: str, problem: str
    ) -> None:
        attempts: list[tuple[str, Callable[[], Any]]] = [
            ("experiments.display_name", lambda: store.create_experiment(Experiment("e", bad))),
            (
                "experiments.description",
                lambda: store.create_experiment(Experiment("e", "ok", description=bad)),
            ),
            ("pipelines.name", lambda: store.create_pipeline(Pipeline("p", bad))),
            ("runs.display_name", lambda: store.create_run(Run("r2", bad, pipeline_spec={}))),
            ("runs.description", lambda: store.update_run("r1", description=bad)),
            ("runs.error", lambda: store.update_run("r1", error=bad)),
            ("tasks.path", lambda: store.write_tasks([task("t2", bad)], [])),
            ("tasks.error", lambda: store.update_task("t1", error=bad)),
        ]
        store.create_run(run())
        store.get_or_create_task(task("t1", "a"))
        for field, attempt in attempts:
            with pytest.raises(StoreError, match=f"^{field} .*{problem}.*position 1"):
                attempt()
        assert store.list_experiments() == [] and store.get_run("r1").description == ""
        assert [t.task_id for t in store.list_tasks("r1")] == ["t1"]
        assert store.get_task("t1").error is None

    @pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
    def test_lookups_with_nul_or_a_lone_surrogate_are_refused_alike(
        self, store: SqlMetadataStore, bad: str
    ) -> None:
        store.create_run(run())
        for field, lookup in [
            ("experiments.experiment_id", lambda: store.get_experiment(bad)),
            ("runs.run_id", lambda: store.update_run(bad, description="x")),
            ("pipelines.pipeline_id", lambda: store.delete_pipeline(bad)),
        ]:
            with pytest.raises(StoreError, match=f"^{field} .*position 1") as refused:
                lookup()
            assert not isinstance(refused.value, NotFound)
        # Lookups by other columns find nothing, or are refused as the caller's fault
        # (PostgreSQL's driver refuses a NUL in any query); never an error of ours.
        for lookup in [lambda: store.find_experiment(bad), lambda: store.list_tasks(bad)]:
            try:
                assert not lookup()
            except StoreError as error:
                assert error.status == 400, error

    def test_a_lone_surrogate_in_json_is_refused_naming_its_path(
        self, store: SqlMetadataStore
    ) -> None:
        parameters = {"runtime_config": {"parameters": {"ok": "x", "greeting": "hi \ud800"}}}
        with pytest.raises(
            StoreError,
            match=r"^runs.runtime_config at parameters.greeting is not valid UTF-8 .*position 3",
        ):
            store.create_run(run(**parameters))
        with pytest.raises(StoreError, match=r"^runs.outputs at a.1.\\udfff is not valid UTF-8"):
            store.create_run(run(outputs={"a": [0, {"\udfff": 1}]}))
        with pytest.raises(StoreError, match=r"^pipelines.tags at t is not valid UTF-8"):
            store.create_pipeline(Pipeline("p", "p", tags={"t": "\ud800"}))
        assert store.list_runs() == [] and store.list_pipelines() == []
        # A NUL is well-formed text in JSON, stored escaped alike on every backend.
        store.create_run(run(runtime_config={"parameters": {"nul": "a\x00b"}}))
        assert store.get_run("r1").runtime_config == {"parameters": {"nul": "a\x00b"}}

    def test_a_large_pipeline_spec_fits(self, store: SqlMetadataStore) -> None:
        tasks = {f"task-{i}": {"componentRef": {"name": f"comp-{i}"}, "n": i} for i in range(30000)}
        spec = {"root": {"dag": {"tasks": tasks}}, "pad": "é" * 100_000}
        assert len(str(spec)) > 2_000_000
        store.create_run(run(pipeline_spec=spec))
        assert store.get_run("r1").pipeline_spec == spec

    def test_times_round_trip_as_aware_utc_with_microseconds(self, store: SqlMetadataStore) -> None:
        plus_five = datetime(2024, 5, 6, 12, 8, 9, 654321, tzinfo=timezone(timedelta(hours=5)))
        store.create_run(run(created_at=T0, scheduled_at=plus_five))
        back = store.get_run("r1")
        assert back.created_at == T0 and back.created_at.tzinfo is UTC
        assert back.scheduled_at == plus_five and back.scheduled_at.tzinfo is UTC
        assert back.scheduled_at.hour == 7 and back.scheduled_at.microsecond == 654321
        with pytest.raises(StoreError, match="naive"):
            store.create_run(run("r2", created_at=datetime(2024, 1, 1)))

    # -- schema and migrations ------------------------------------------------------
    def test_the_migrated_schema_matches_the_models(
        self, store: SqlMetadataStore, backend: Backend
    ) -> None:
        engine = sa.create_engine(backend.shared_url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, Base.metadata)
        finally:
            engine.dispose()
        assert differences == []

    # -- secrets and config maps ------------------------------------------------------
    def test_named_values_are_replaced_whole_and_keep_their_creation_time(
        self, store: SqlMetadataStore
    ) -> None:
        secret = ValuesKind.SECRET
        first = store.put_values(NamedValues(secret, "db", {"user": "u", "password": "p"}))
        assert first.created_at is not None and first.updated_at == first.created_at
        second = store.put_values(NamedValues(secret, "db", {"password": "q"}))
        assert second.data == {"password": "q"}
        assert second.created_at == first.created_at
        assert second.updated_at is not None and second.updated_at >= first.updated_at
        assert store.get_values(secret, "db").data == {"password": "q"}

    def test_named_values_are_kept_apart_by_kind_and_namespace(
        self, store: SqlMetadataStore
    ) -> None:
        secret, config_map = ValuesKind.SECRET, ValuesKind.CONFIG_MAP
        store.put_values(NamedValues(secret, "db", {"k": "secret"}))
        store.put_values(NamedValues(config_map, "db", {"k": "config"}))
        store.put_values(NamedValues(secret, "db", {"k": "team"}, namespace="team"))
        store.put_values(NamedValues(secret, "Db", {"k": "upper"}))
        assert store.get_values(config_map, "db").data == {"k": "config"}
        assert store.get_values(secret, "db", "team").data == {"k": "team"}
        assert [v.name for v in store.list_values(secret)] == ["Db", "db"]
        assert [v.name for v in store.list_values(secret, "team")] == ["db"]
        store.delete_values(secret, "db")
        assert store.get_values(config_map, "db").data == {"k": "config"}
        with pytest.raises(NotFound, match="No secret named 'db' in namespace ''"):
            store.get_values(secret, "db")
        with pytest.raises(NotFound, match="config map named 'x'"):
            store.delete_values(config_map, "x")

    def test_named_values_refuse_names_no_backend_can_hold(self, store: SqlMetadataStore) -> None:
        with pytest.raises(StoreError, match=r"named_values\.name"):
            store.put_values(NamedValues(ValuesKind.SECRET, "a\x00b", {"k": "v"}))
        with pytest.raises(StoreError):
            store.put_values(NamedValues(ValuesKind.SECRET, "n" * 256, {"k": "v"}))

    def test_a_fresh_database_is_migrated_and_reopened(self, backend: Backend) -> None:
        url = backend.new_database_url()
        store = SqlMetadataStore(url)
        store.create_run(run())
        store.close()
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() == (
                    head_revision()
                )
                tables = set(sa.inspect(connection).get_table_names())
        finally:
            engine.dispose()
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        reopened = SqlMetadataStore(url)
        try:
            assert reopened.get_run("r1").run_id == "r1"
        finally:
            reopened.close()

    def test_concurrent_openers_of_a_fresh_database_all_succeed(self, backend: Backend) -> None:
        url = backend.new_database_url()
        stores = race(4, lambda i: SqlMetadataStore(url))
        try:
            errors = [str(s) for s in stores if isinstance(s, Exception)]
            assert not errors, "\n".join(errors)
            stores[0].create_run(run())
            assert stores[3].get_run("r1").run_id == "r1"
        finally:
            for opened in stores:
                if isinstance(opened, SqlMetadataStore):
                    opened.close()
