"""The contract of the metadata store's paged listings (`page_runs`, ...), run against
every backend by test_listing_contract.py: KFP's filter operations evaluated by the
database, sort_by, and page tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from store_backends import Backend

from dagyard.errors import NotFound, UsageError
from dagyard.store.listing import ListQuery, Operation, Predicate
from dagyard.store.records import (
    Artifact,
    Event,
    EventKind,
    Experiment,
    Pipeline,
    PipelineVersion,
    Run,
    RunState,
    Task,
    TaskKind,
)
from dagyard.store.sql import SqlMetadataStore

T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def ids(page: Any) -> list[str]:
    return [r.run_id for r in page.records]


def where(key: str, op: Operation, value: Any) -> ListQuery:
    return ListQuery(predicates=(Predicate(key, op, value),))


class ListingContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a backend's test class provides this fixture")

    @pytest.fixture
    def store(self, backend: Backend) -> SqlMetadataStore:
        store = backend.shared_store()
        states = [RunState.SUCCEEDED, RunState.FAILED, RunState.RUNNING, RunState.SUCCEEDED]
        for i, state in enumerate(states):
            store.create_run(
                Run(
                    run_id=f"r{i}",
                    display_name=f"train_{i}%" if i % 2 else f"eval-{i}",
                    pipeline_spec={},
                    state=state,
                    experiment_id="e1" if i < 3 else "e2",
                    created_at=T0 + timedelta(minutes=i),
                )
            )
        return store

    def test_every_operation_is_evaluated(self, store: SqlMetadataStore) -> None:
        assert ids(store.page_runs(where("state", Operation.EQUALS, "SUCCEEDED"))) == ["r0", "r3"]
        assert ids(store.page_runs(where("state", Operation.NOT_EQUALS, "SUCCEEDED"))) == [
            "r1",
            "r2",
        ]
        at = T0 + timedelta(minutes=1)
        assert ids(store.page_runs(where("created_at", Operation.GREATER_THAN, at))) == [
            "r2",
            "r3",
        ]
        text = at.isoformat().replace("+00:00", "Z")
        assert ids(store.page_runs(where("created_at", Operation.GREATER_THAN_EQUALS, text))) == [
            "r1",
            "r2",
            "r3",
        ]
        seconds = int(at.timestamp())
        assert ids(store.page_runs(where("created_at", Operation.LESS_THAN, seconds))) == ["r0"]
        assert ids(store.page_runs(where("created_at", Operation.LESS_THAN_EQUALS, at))) == [
            "r0",
            "r1",
        ]
        assert ids(store.page_runs(where("run_id", Operation.IN, ("r1", "r3", "zz")))) == [
            "r1",
            "r3",
        ]
        # A LIKE wildcard in the value is matched literally.
        assert ids(store.page_runs(where("display_name", Operation.IS_SUBSTRING, "_1%"))) == ["r1"]
        assert ids(store.page_runs(where("name", Operation.IS_SUBSTRING, "eval"))) == ["r0", "r2"]

    def test_scope_sort_and_pages(self, store: SqlMetadataStore) -> None:
        assert ids(store.page_runs(ListQuery(), experiment_id="e1")) == ["r0", "r1", "r2"]
        query = ListQuery(sort_by="created_at desc", page_size=3)
        first = store.page_runs(query)
        assert ids(first) == ["r3", "r2", "r1"] and first.total_size == 4
        second = store.page_runs(
            ListQuery(sort_by="created_at desc", page_size=3, page_token=first.next_page_token)
        )
        assert ids(second) == ["r0"] and second.next_page_token == ""
        by_name = store.page_runs(ListQuery(sort_by="display_name"))
        assert ids(by_name) == ["r0", "r2", "r1", "r3"]

    @pytest.mark.parametrize(
        "sort_by",
        ["created_at", "created_at desc", "finished_at", "finished_at desc", "state", "id desc"],
    )
    def test_walking_the_pages_yields_every_row_once_in_order(
        self, store: SqlMetadataStore, sort_by: str
    ) -> None:
        # Ties in the sort value (the same created_at) and NULLs (unfinished runs) cross
        # page boundaries: the id breaks ties, NULLs come last either way.
        for i in range(4, 11):
            store.create_run(
                Run(
                    run_id=f"r{i:02d}",
                    display_name="tie",
                    pipeline_spec={},
                    state=RunState.SUCCEEDED if i % 3 else RunState.RUNNING,
                    created_at=T0 + timedelta(minutes=5),
                    finished_at=T0 + timedelta(hours=i % 2) if i % 3 else None,
                )
            )
        everything = ids(store.page_runs(ListQuery(sort_by=sort_by, page_size=100)))
        walked, token, offsets = [], "", []
        while True:
            page = store.page_runs(ListQuery(sort_by=sort_by, page_size=2, page_token=token))
            walked += ids(page)
            offsets.append(page.total_size)
            token = page.next_page_token
            if not token:
                break
        assert walked == everything and len(everything) == 11
        assert set(offsets) == {11}

    def test_rows_added_between_pages_are_not_repeated(self, store: SqlMetadataStore) -> None:
        newest = ListQuery(sort_by="created_at desc", page_size=2)
        first = store.page_runs(newest)
        assert ids(first) == ["r3", "r2"]
        store.create_run(
            Run(
                run_id="r9",
                display_name="late",
                pipeline_spec={},
                created_at=T0 + timedelta(hours=1),
            )
        )
        second = store.page_runs(
            ListQuery(sort_by="created_at desc", page_size=2, page_token=first.next_page_token)
        )
        assert ids(second) == ["r1", "r0"]

    def test_runs_sort_by_duration_unfinished_last_and_page_by_it(
        self, store: SqlMetadataStore
    ) -> None:
        # Ran 90 s, 3 s, 45.5 s; one still running; one never started.
        ran = {"d0": 90_000, "d1": 3_000, "d2": 45_500}
        for i, run_id in enumerate(["d0", "d1", "d2", "d3"]):
            started = T0 + timedelta(hours=1, minutes=i)
            store.create_run(
                Run(
                    run_id,
                    run_id,
                    {},
                    state=RunState.RUNNING,
                    experiment_id="dur",
                    created_at=started,
                )
            )
            if run_id in ran:
                finished = started + timedelta(milliseconds=ran[run_id])
                store.update_run(run_id, state=RunState.SUCCEEDED, finished_at=finished)
        store.create_run(Run("d4", "d4", {}, experiment_id="dur", created_at=T0))
        shortest = store.page_runs(ListQuery(sort_by="duration"), experiment_id="dur")
        assert ids(shortest) == ["d1", "d2", "d0", "d3", "d4"]
        longest = store.page_runs(ListQuery(sort_by="duration desc"), experiment_id="dur")
        assert ids(longest)[:3] == ["d0", "d2", "d1"]
        walked, token = [], ""
        while True:
            query = ListQuery(sort_by="duration desc", page_size=2, page_token=token)
            page = store.page_runs(query, experiment_id="dur")
            walked += ids(page)
            token = page.next_page_token
            if not token:
                break
        assert walked == ids(longest)

    def test_runs_sort_by_a_metric_and_list_the_metric_keys_of_a_scope(
        self, store: SqlMetadataStore
    ) -> None:
        def scored(run_id: str, experiment: str, metrics: dict[str, Any], via_events: bool) -> None:
            store.create_run(Run(run_id, run_id, {}, experiment_id=experiment, created_at=T0))
            made = Task(f"{run_id}-t", run_id, "train/eval", "eval", TaskKind.CONTAINER)
            artifact = Artifact(
                f"{run_id}-a",
                run_id,
                "metrics",
                f"file:///{run_id}",
                "system.Metrics",
                metadata=metrics,
            )
            event = Event(made.task_id, artifact.artifact_id, EventKind.OUTPUT, "metrics")
            if via_events:  # as a cached task's lineage is recorded
                store.get_or_create_task(made)
                store.create_artifact(artifact)
                store.add_events([event])
            else:  # as a driver records a finished task
                store.write_tasks([made], [], artifacts=[artifact], events=[event])

        scored("m0", "m", {"accuracy": 0.9, "loss": 0.3, "note": "x", "flag": True}, False)
        scored("m1", "m", {"accuracy": 0.75, "loss name with spaces": 1}, True)
        scored("m2", "m", {"accuracy": 0.95, "nan": float("nan")}, False)
        scored("m3", "m", {}, True)
        scored("o1", "other", {"recall": 0.5}, False)
        best = store.page_runs(
            ListQuery(sort_by="metric:train/eval/accuracy desc"), experiment_id="m"
        )
        assert ids(best) == ["m2", "m0", "m1", "m3"]  # without it: last
        walked, token = [], ""
        while True:
            query = ListQuery(sort_by="metric:train/eval/accuracy", page_size=1, page_token=token)
            page = store.page_runs(query, experiment_id="m")
            walked += ids(page)
            token = page.next_page_token
            if not token:
                break
        assert walked == ["m1", "m0", "m2", "m3"]
        spaced = store.page_runs(
            ListQuery(sort_by="metric:train/eval/loss name with spaces desc"), experiment_id="m"
        )
        assert ids(spaced)[0] == "m1"
        assert store.run_metric_keys(ListQuery(), experiment_id="m") == [
            "train/eval/accuracy",
            "train/eval/loss",
            "train/eval/loss name with spaces",
        ]
        assert store.run_metric_keys(ListQuery(), experiment_id="other") == ["train/eval/recall"]
        low = where("display_name", Operation.EQUALS, "m1")
        assert store.run_metric_keys(low) == [
            "train/eval/accuracy",
            "train/eval/loss name with spaces",
        ]
        # Writing the lineage again replaces, never doubles, a run's values.
        event = Event("m0-t", "m0-a", EventKind.OUTPUT, "metrics")
        store.add_events([event])
        assert (
            ids(store.page_runs(ListQuery(sort_by="metric:train/eval/loss"), experiment_id="m"))[0]
            == "m0"
        )
        store.delete_run("m0")
        assert store.run_metric_keys(ListQuery(), experiment_id="m") == [
            "train/eval/accuracy",
            "train/eval/loss name with spaces",
        ]
        with pytest.raises(UsageError, match="needs a metric's key"):
            store.page_runs(ListQuery(sort_by="metric: desc"))

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            (where("color", Operation.EQUALS, "x"), "Cannot filter runs by 'color'"),
            (where("state", Operation.EQUALS, "DONE"), "cannot be 'DONE'"),
            (where("created_at", Operation.LESS_THAN, "yesterday"), "needs a time"),
            (where("run_id", Operation.IN, "r1"), "needs a list"),
            (ListQuery(sort_by="color"), "Cannot sort runs by 'color'"),
            (ListQuery(sort_by="created_at sideways"), "not understood"),
            (ListQuery(page_size=-1), "page_size -1 is out of range"),
            (ListQuery(page_token="garbage"), "was not issued for this listing"),
        ],
    )
    def test_bad_queries_are_usage_errors(
        self, store: SqlMetadataStore, query: ListQuery, message: str
    ) -> None:
        with pytest.raises(UsageError, match=message):
            store.page_runs(query)

    def test_a_token_of_another_query_is_refused(self, store: SqlMetadataStore) -> None:
        token = store.page_runs(ListQuery(page_size=1)).next_page_token
        with pytest.raises(UsageError, match="was not issued"):
            store.page_runs(ListQuery(page_size=1, sort_by="display_name", page_token=token))

    def test_experiments_pipelines_and_versions_are_listed(self, store: SqlMetadataStore) -> None:
        store.create_experiment(Experiment("e1", "First", namespace="ns"))
        store.create_experiment(Experiment("e2", "Second"))
        page = store.page_experiments(where("display_name", Operation.EQUALS, "Second"))
        assert [e.experiment_id for e in page.records] == ["e2"]
        assert store.page_experiments(ListQuery(), namespace="ns").total_size == 1
        store.create_pipeline(Pipeline("p1", "flow"))
        store.create_pipeline_version(PipelineVersion("v1", "p1", "one", {}))
        store.create_pipeline_version(PipelineVersion("v2", "p1", "two", {}))
        assert store.page_pipelines(where("name", Operation.EQUALS, "flow")).total_size == 1
        versions = store.page_pipeline_versions("p1", ListQuery(sort_by="name desc"))
        assert [v.pipeline_version_id for v in versions.records] == ["v2", "v1"]
        with pytest.raises(NotFound):
            store.page_pipeline_versions("nope", ListQuery())

    def test_artifacts_page_by_run_type_filter_and_sort(self, store: SqlMetadataStore) -> None:
        titles = ["system.Metrics", "system.Dataset", "system.Metrics", "system.Model"]
        for i, title in enumerate(titles):
            store.create_artifact(
                Artifact(
                    artifact_id=f"a{i}",
                    run_id="r0" if i < 3 else "r1",
                    name=f"out_{i}",
                    uri=f"file:///artifacts/a{i}",
                    schema_title=title,
                    created_at=T0 + timedelta(minutes=i),
                )
            )

        def artifact_ids(page: Any) -> list[str]:
            return [a.artifact_id for a in page.records]

        everything = store.page_artifacts(ListQuery())
        assert artifact_ids(everything) == ["a0", "a1", "a2", "a3"]
        assert everything.total_size == 4
        assert artifact_ids(store.page_artifacts(ListQuery(), run_id="r1")) == ["a3"]
        metrics = store.page_artifacts(ListQuery(), schema_title="system.Metrics")
        assert artifact_ids(metrics) == ["a0", "a2"]
        assert store.page_artifacts(ListQuery(), run_id="r1", schema_title="x").total_size == 0
        named = store.page_artifacts(where("name", Operation.IS_SUBSTRING, "_1"))
        assert artifact_ids(named) == ["a1"]
        newest = ListQuery(sort_by="created_at desc", page_size=3)
        first = store.page_artifacts(newest, run_id="r0")
        assert artifact_ids(first) == ["a2", "a1", "a0"] and first.next_page_token == ""
        walked, token = [], ""
        while True:
            page = store.page_artifacts(
                ListQuery(sort_by="schema_title desc", page_size=1, page_token=token)
            )
            walked += artifact_ids(page)
            token = page.next_page_token
            if not token:
                break
        assert walked == ["a3", "a2", "a0", "a1"]
        with pytest.raises(UsageError, match="Cannot filter artifacts by 'uri'"):
            store.page_artifacts(where("uri", Operation.EQUALS, "x"))
