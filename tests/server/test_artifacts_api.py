"""Dagyard's endpoints for the UI over real runs: a run's tasks, its artifacts with their
lineage, artifact pages, artifact bytes and run metrics. A real server, worker and child
processes on SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from test_logs_api import finished, submit

from dagyard import dsl
from dagyard.dsl import HTML, Artifact, Dataset, Input, Metrics, Output
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.store.artifact_store import open_url

CSV = "x,y\n1,2\n3,4\n"
PAGE = "<h1>Report</h1><script>document.title = 'ran'</script>"


@dsl.component
def make(dataset: Output[Dataset], metrics: Output[Metrics], report: Output[HTML]) -> None:
    with open(dataset.path, "w") as f:
        f.write("x,y\n1,2\n3,4\n")
    metrics.log_metric("accuracy", 0.9)
    metrics.log_metric("epochs", 3)
    metrics.log_metric("note", "not a number")
    with open(report.path, "w") as f:
        f.write("<h1>Report</h1><script>document.title = 'ran'</script>")


@dsl.component
def use(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return len(f.read().splitlines())


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def folder(out: Output[Artifact]) -> None:
    import os

    os.makedirs(out.path)
    with open(os.path.join(out.path, "part-0"), "w") as f:
        f.write("0")


@dsl.component
def nothing() -> None:
    pass


@dsl.pipeline
def lineage() -> None:
    made = make()
    use(data=made.outputs["dataset"])
    with dsl.ParallelFor([1, 2]) as item:
        square(x=item)


@dsl.pipeline
def odd_files(outside: str) -> None:
    folder()
    dsl.importer(artifact_uri=outside, artifact_class=Dataset)


@dsl.pipeline
def quiet() -> None:
    nothing()


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def by_name(artifacts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in artifacts}


def test_a_runs_tasks_and_artifacts_show_who_made_and_read_what(
    api: httpx.Client, worker: RunWorker
) -> None:
    run_id = submit(api, lineage)
    assert finished(api, run_id) == "SUCCEEDED"

    tasks = ok(api.get(f"/runs/{run_id}/tasks"))["tasks"]
    paths = {t["path"]: t for t in tasks}
    assert {"make", "use", "for-loop-2", "for-loop-2/0", "for-loop-2/1/square"} <= set(paths)
    assert [t["created_at"] for t in tasks] == sorted(t["created_at"] for t in tasks)
    loop = paths["for-loop-2"]
    assert (loop["kind"], loop["name"]) == ("loop", "for-loop-2")
    iteration = paths["for-loop-2/1"]
    assert (iteration["kind"], iteration["iteration_index"]) == ("dag", 1)
    assert iteration["parent_task_id"] == loop["task_id"]
    squared = paths["for-loop-2/1/square"]
    assert squared["kind"] == "container" and squared["state"] == "SUCCEEDED"
    assert squared["inputs"]["parameters"] == {"x": 2}
    assert squared["outputs"] == {"Output": 4}
    assert squared["attempts"] == 1 and squared["run_id"] == run_id
    assert "cache_hit" not in squared and "error" not in squared

    artifacts = by_name(ok(api.get(f"/runs/{run_id}/artifacts"))["artifacts"])
    assert set(artifacts) == {"dataset", "metrics", "report"}
    dataset = artifacts["dataset"]
    make_task, use_task = paths["make"], paths["use"]
    assert dataset["schema_title"] == "system.Dataset" and dataset["run_id"] == run_id
    assert dataset["producer"] == {
        "task_id": make_task["task_id"],
        "run_id": run_id,
        "path": "make",
        "key": "dataset",
    }
    assert dataset["consumers"] == [
        {"task_id": use_task["task_id"], "run_id": run_id, "path": "use", "key": "data"}
    ]
    assert use_task["inputs"]["artifacts"] == {"data": [dataset["artifact_id"]]}
    assert artifacts["metrics"]["metadata"] == {
        "accuracy": 0.9,
        "epochs": 3,
        "note": "not a number",
    }
    assert "consumers" not in artifacts["report"]

    one = ok(api.get(f"/artifacts/{dataset['artifact_id']}"))
    assert one == dataset

    assert api.get("/runs/no-such-run/tasks").status_code == 404
    assert api.get("/runs/no-such-run/artifacts").status_code == 404
    assert api.get("/artifacts/no-such-artifact").status_code == 404


def test_following_a_live_run_by_revision_gets_each_change_once_and_misses_none(
    api: httpx.Client, worker: RunWorker
) -> None:
    """What the UI does on a live run's page: one full read, then only the tasks written
    after the last answer's revision; put together, they are the run's final tasks."""
    run_id = submit(api, lineage)
    first = ok(api.get(f"/runs/{run_id}/tasks"))
    known = {t["task_id"]: t for t in first["tasks"]}
    revision = first["revision"]
    reads = []
    while True:
        ended = api.get(f"/runs/{run_id}").json()["state"] in ("SUCCEEDED", "FAILED")
        answer = ok(api.get(f"/runs/{run_id}/tasks", params={"after_revision": revision}))
        assert answer["revision"] >= revision
        reads.append(len(answer["tasks"]))
        known.update((t["task_id"], t) for t in answer["tasks"])
        revision = answer["revision"]
        if ended:  # this read began after the run's last write
            break
    final = ok(api.get(f"/runs/{run_id}/tasks"))
    assert final["revision"] == revision
    assert sorted(known.values(), key=lambda t: t["task_id"]) == sorted(
        final["tasks"], key=lambda t: t["task_id"]
    )
    assert all(t["state"] == "SUCCEEDED" for t in known.values())
    # Nothing changed since: an empty answer, however often it is asked.
    assert ok(api.get(f"/runs/{run_id}/tasks", params={"after_revision": revision})) == {
        "tasks": [],
        "revision": revision,
    }
    assert sum(reads) < len(reads) * len(final["tasks"])  # not everything every time
    assert api.get(f"/runs/{run_id}/tasks", params={"after_revision": -1}).status_code == 400


def test_a_cached_run_lists_the_artifacts_it_reused_as_its_own_tasks_outputs(
    api: httpx.Client, worker: RunWorker
) -> None:
    first = submit(api, lineage)
    assert finished(api, first) == "SUCCEEDED"
    second = submit(api, lineage)
    assert finished(api, second) == "SUCCEEDED"

    tasks = {t["path"]: t for t in ok(api.get(f"/runs/{second}/tasks"))["tasks"]}
    assert tasks["make"]["state"] == "CACHED" and tasks["make"]["cache_hit"] is True
    original = {t["path"]: t for t in ok(api.get(f"/runs/{first}/tasks"))["tasks"]}
    assert tasks["make"]["cached_from_task_id"] == original["make"]["task_id"]

    reused = by_name(ok(api.get(f"/runs/{second}/artifacts"))["artifacts"])["dataset"]
    assert reused["run_id"] == first  # the bytes are the first run's
    assert reused["producer"]["task_id"] == tasks["make"]["task_id"]
    # Seen on its own, the artifact was made by the first run's task, and read by both.
    alone = ok(api.get(f"/artifacts/{reused['artifact_id']}"))
    assert alone["producer"]["task_id"] == original["make"]["task_id"]
    assert {c["run_id"] for c in alone["consumers"]} == {first, second}


def test_run_metrics_are_keyed_by_task_path_and_metric(
    api: httpx.Client, worker: RunWorker
) -> None:
    scored = submit(api, lineage)
    plain = submit(api, quiet)
    assert finished(api, scored) == "SUCCEEDED" and finished(api, plain) == "SUCCEEDED"

    answer = ok(api.get("/runs:metrics", params={"run_ids": [scored, plain, "no-such-run"]}))
    assert answer == {"metrics": {scored: {"make/accuracy": 0.9, "make/epochs": 3}, plain: {}}}
    assert ok(api.get("/runs:metrics")) == {"metrics": {}}
    too_many = api.get("/runs:metrics", params={"run_ids": [f"r{i}" for i in range(201)]})
    assert too_many.status_code == 400
    assert "at most 200" in too_many.json()["message"]


def test_runs_sort_by_a_metric_and_by_duration_and_a_scope_lists_its_metric_keys(
    api: httpx.Client, worker: RunWorker
) -> None:
    scored = submit(api, lineage)
    plain = submit(api, quiet)
    assert finished(api, scored) == "SUCCEEDED" and finished(api, plain) == "SUCCEEDED"
    predicate = {"key": "run_id", "operation": "IN", "string_values": {"values": [scored, plain]}}
    both = {"filter": json.dumps({"predicates": [predicate]})}

    keys = ok(api.get("/runs:metric_keys", params=both))
    assert keys == {"metric_keys": ["make/accuracy", "make/epochs"]}
    by_metric = ok(api.get("/runs", params={**both, "sort_by": "metric:make/accuracy desc"}))
    assert [r["run_id"] for r in by_metric["runs"]] == [scored, plain]  # without it: last
    by_duration = ok(api.get("/runs", params={**both, "sort_by": "duration desc"}))
    assert {r["run_id"] for r in by_duration["runs"]} == {scored, plain}
    wrong = api.get("/runs", params={"sort_by": "metric:"})
    assert wrong.status_code == 400 and "needs a metric's key" in wrong.json()["message"]


def test_artifact_content_is_served_in_pieces_and_never_as_active_content(
    api: httpx.Client, worker: RunWorker, platform: Platform, tmp_path: Path
) -> None:
    run_id = submit(api, lineage)
    assert finished(api, run_id) == "SUCCEEDED"
    artifacts = by_name(ok(api.get(f"/runs/{run_id}/artifacts"))["artifacts"])
    dataset_id, report_id = artifacts["dataset"]["artifact_id"], artifacts["report"]["artifact_id"]

    whole = api.get(f"/artifacts/{dataset_id}:content")
    assert whole.status_code == 200 and whole.content == CSV.encode()
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["x-artifact-size"] == str(len(CSV))
    assert "content-disposition" not in whole.headers
    piece = api.get(f"/artifacts/{dataset_id}:content", params={"offset": 4, "limit": 3})
    assert piece.content == CSV.encode()[4:7]
    beyond = api.get(f"/artifacts/{dataset_id}:content", params={"offset": 1000})
    assert beyond.status_code == 200 and beyond.content == b""
    saved = api.get(f"/artifacts/{dataset_id}:content", params={"download": "true"})
    assert saved.headers["content-disposition"].startswith('attachment; filename="dataset"')

    page = api.get(f"/artifacts/{report_id}:content")
    assert page.content == PAGE.encode()
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == "sandbox"
    assert page.headers["x-content-type-options"] == "nosniff"

    for query, status, message in [
        ({"offset": -1}, 400, "negative"),
        ({"limit": 0}, 400, "out of range"),
        ({"limit": 32 * 1024 * 1024 + 1}, 400, "out of range"),
    ]:
        refused = api.get(f"/artifacts/{dataset_id}:content", params=query)
        assert refused.status_code == status and message in refused.json()["message"]
    assert api.get("/artifacts/no-such-artifact:content").status_code == 404

    fs, path = open_url(artifacts["dataset"]["uri"])
    fs.rm_file(path)
    gone = api.get(f"/artifacts/{dataset_id}:content")
    assert gone.status_code == 404 and "no file" in gone.json()["message"]


def test_folders_and_files_outside_the_artifact_store_are_not_served(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("secret")
    run_id = submit(api, odd_files, outside=str(outside))
    assert finished(api, run_id) == "SUCCEEDED"
    artifacts = by_name(ok(api.get(f"/runs/{run_id}/artifacts"))["artifacts"])

    a_folder = api.get(f"/artifacts/{artifacts['out']['artifact_id']}:content")
    assert a_folder.status_code == 400 and "is a folder" in a_folder.json()["message"]
    imported = api.get(f"/artifacts/{artifacts['artifact']['artifact_id']}:content")
    assert imported.status_code == 400
    assert "outside the artifact store" in imported.json()["message"]


def test_artifacts_page_by_run_and_type(api: httpx.Client, worker: RunWorker) -> None:
    runs = [submit(api, lineage), submit(api, odd_files, outside="/nonexistent/file.csv")]
    assert [finished(api, r) for r in runs] == ["SUCCEEDED", "SUCCEEDED"]
    everything = [
        a["artifact_id"] for a in ok(api.get("/artifacts", params={"page_size": 100}))["artifacts"]
    ]
    assert len(everything) == 5

    walked, token = [], ""
    while True:
        page = ok(api.get("/artifacts", params={"page_size": 2, "page_token": token}))
        assert page["total_size"] == 5
        assert all("producer" in a for a in page["artifacts"])
        walked += [a["artifact_id"] for a in page["artifacts"]]
        token = page.get("next_page_token", "")
        if not token:
            break
    assert walked == everything

    newest = ok(api.get("/artifacts", params={"sort_by": "created_at desc", "page_size": 100}))
    assert [a["artifact_id"] for a in newest["artifacts"]] == everything[::-1]
    metrics = ok(api.get("/artifacts", params={"schema_title": "system.Metrics"}))
    assert [a["name"] for a in metrics["artifacts"]] == ["metrics"]
    of_run = ok(api.get("/artifacts", params={"run_id": runs[1]}))
    assert {a["name"] for a in of_run["artifacts"]} == {"out", "artifact"}
    consumed = ok(api.get("/artifacts", params={"run_id": runs[0], "filter": _named("dataset")}))[
        "artifacts"
    ]
    assert [c["path"] for c in consumed[0]["consumers"]] == ["use"]
    assert api.get("/artifacts", params={"sort_by": "color"}).status_code == 400
    assert ok(api.get("/artifacts", params={"run_id": "no-such-run"})) == {}


def _named(name: str) -> str:
    return f'{{"predicates": [{{"operation": "EQUALS", "key": "name", "string_value": "{name}"}}]}}'
