"""The REST API over plain HTTP: bad requests get a 4xx in KFP's error JSON whose
message names the problem, and leave nothing stored; lists page and filter."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_pipelines import compiled, sum_and_write
from api_server import Server

from dagyard.service.platform import Platform
from dagyard.store.records import RunState

V2 = "/apis/v2beta1"


@pytest.fixture
def package(tmp_path: Path) -> bytes:
    return compiled(sum_and_write, tmp_path).read_bytes()


def upload(api: httpx.Client, data: bytes, filename: str = "p.yaml", **query: str) -> Any:
    return api.post("/pipelines/upload", params=query, files={"uploadfile": (filename, data)})


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code", "message"}, body
    assert message in body["message"], body["message"]


def test_healthz_and_openapi(api: httpx.Client, server: Server) -> None:
    assert api.get("/healthz").json()["pipeline_store"] == "database"
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert f"{V2}/runs/{{run_id}}:terminate" in paths
    assert f"{V2}/pipelines/upload" in paths


def test_upload_formats_and_versions(api: httpx.Client, package: bytes) -> None:
    pipeline = upload(api, package, name="flow", description="d").json()
    assert pipeline["name"] == "flow" and pipeline["display_name"] == "flow"
    assert pipeline["created_at"].endswith("Z")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("pipeline.yaml", package)
    assert upload(api, zipped.getvalue(), "p.zip", name="zipped").status_code == 200
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as archive:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(package)
        archive.addfile(info, io.BytesIO(package))
    assert upload(api, tarred.getvalue(), "p.tar.gz", name="tarred").status_code == 200
    version = api.post(
        "/pipelines/upload_version",
        params={"pipelineid": pipeline["pipeline_id"], "name": "v2"},
        files={"uploadfile": ("p.yaml", package)},
    ).json()
    assert version["name"] == "v2" and version["pipeline_spec"]["pipelineInfo"]
    versions = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions").json()
    assert versions["total_size"] == 2
    by_name = api.get("/pipelines/names/flow").json()
    assert by_name["pipeline_id"] == pipeline["pipeline_id"]


@pytest.mark.parametrize(
    ("data", "filename", "status", "message"),
    [
        (b"root: [unclosed", "p.yaml", 400, ""),
        (b"pipelineInfo: {name: x}\n", "p.yaml", 400, "schemaVersion is missing"),
        (b"\xff\xfe", "p.yaml", 400, "not UTF-8"),
        (b"x", "p.exe", 400, "suffixes"),
        (b"not a zip", "p.zip", 400, "Cannot open the archive"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(
    api: httpx.Client, platform: Platform, data: bytes, filename: str, status: int, message: str
) -> None:
    assert_error(upload(api, data, filename, name="bad"), status, message)
    assert platform.store.list_pipelines() == []


def test_oversize_upload_is_refused(api: httpx.Client, platform: Platform) -> None:
    big = b"#" * (33 * 1024 * 1024)
    assert_error(upload(api, big, name="big"), 413, "more than")
    assert platform.store.list_pipelines() == []


def test_duplicate_and_unknown_ids(api: httpx.Client, package: bytes) -> None:
    upload(api, package, name="flow")
    assert_error(upload(api, package, name="flow"), 409, "exists already")
    assert_error(api.get("/pipelines/nope"), 404, "'nope'")
    assert_error(api.get("/pipelines/names/nope"), 404, "'nope'")
    assert_error(api.get("/experiments/nope"), 404, "'nope'")
    assert_error(api.get("/runs/nope"), 404, "'nope'")
    assert_error(api.post("/runs/nope:terminate"), 404, "'nope'")
    assert_error(api.delete("/runs/nope"), 404, "'nope'")
    assert_error(api.get("/pipelines/nope/versions"), 404, "'nope'")
    assert_error(
        api.post("/pipelines/upload_version", files={"uploadfile": ("p.yaml", package)}),
        400,
        "pipelineid",
    )


def spec_of(package: bytes) -> dict[str, Any]:
    import yaml

    document: dict[str, Any] = yaml.safe_load(package)
    return document


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"display_name": "r"}, "neither pipeline_spec nor pipeline_version_reference"),
        ({"pipeline_spec": {"root": {}}}, ""),
        ({"pipeline_spec": "text"}, "body.pipeline_spec"),
        ({"runtime_config": {"parameters": {"a": "three"}}}, "'a'"),
        ({"runtime_config": {"parameters": {"zz": 1}}}, "Unknown pipeline parameter 'zz'"),
        ({"runtime_config": {}}, "Parameter 'a'"),
        ({"experiment_id": "nope", "runtime_config": {"parameters": {"a": 1}}}, "'nope'"),
        ({"pipeline_version_reference": {"pipeline_id": "nope"}}, "'nope'"),
        ({"runtime_config": {"parameters": []}}, "parameters"),
    ],
)
def test_bad_runs_are_refused_and_store_nothing(
    api: httpx.Client, platform: Platform, package: bytes, body: dict[str, Any], message: str
) -> None:
    if "runtime_config" in body or "experiment_id" in body:
        body = {"pipeline_spec": spec_of(package), **body}
    response = api.post("/runs", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert message in response.json()["message"]
    assert platform.store.list_runs() == []


def test_run_from_a_version_reference_and_its_lifecycle(
    api: httpx.Client, platform: Platform, package: bytes
) -> None:
    pipeline = upload(api, package, name="flow").json()
    body = {
        "display_name": "one",
        "pipeline_version_reference": {"pipeline_id": pipeline["pipeline_id"]},
        "runtime_config": {"parameters": {"a": 1}},
    }
    run = api.post("/runs", json=body).json()
    assert run["state"] == "PENDING" and run["runtime_config"]["parameters"] == {"a": 1, "b": 2}
    assert run["pipeline_version_reference"]["pipeline_version_id"]
    run_id = run["run_id"]
    assert api.post(f"/runs/{run_id}:archive").status_code == 200
    assert api.get(f"/runs/{run_id}").json()["storage_state"] == "ARCHIVED"
    assert api.post(f"/runs/{run_id}:unarchive").status_code == 200
    assert_error(api.delete(f"/runs/{run_id}"), 400, "terminate it")
    assert_error(api.post(f"/runs/{run_id}:retry"), 400, "only a FAILED or CANCELED")
    assert api.post(f"/runs/{run_id}:terminate").status_code == 200
    assert api.get(f"/runs/{run_id}").json()["state"] == "CANCELED"
    assert api.post(f"/runs/{run_id}:retry").status_code == 200
    assert platform.store.get_run(run_id).state is RunState.PENDING
    platform.store.update_run(run_id, state=RunState.RUNNING)
    api.post(f"/runs/{run_id}:terminate")
    assert api.get(f"/runs/{run_id}").json()["state"] == "CANCELING"
    platform.store.update_run(run_id, state=RunState.CANCELED)
    assert api.delete(f"/runs/{run_id}").status_code == 200
    assert_error(api.get(f"/runs/{run_id}"), 404, run_id)


def test_artifact_reads_stay_inside_the_artifact_root(api: httpx.Client, package: bytes) -> None:
    run_id = api.post(
        "/runs",
        json={"pipeline_spec": spec_of(package), "runtime_config": {"parameters": {"a": 1}}},
    ).json()["run_id"]
    for node, name in [("..", "x"), ("%2E%2E", "etc"), ("n", "..%2F..%2Fetc%2Fpasswd")]:
        response = api.get(f"/runs/{run_id}/nodes/{node}/artifacts/{name}:read")
        assert 400 <= response.status_code < 500, response.text
    for node in ["../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"]:
        response = api.get(f"/runs/{run_id}/nodes/{node}/logs")
        assert 400 <= response.status_code < 500, response.text
        assert "root:" not in response.text


def test_experiments_archive_and_lists_page(api: httpx.Client, package: bytes) -> None:
    for i in range(5):
        created = api.post("/experiments", json={"display_name": f"exp-{i}"})
        assert created.status_code == 200, created.text
    assert_error(api.post("/experiments", json={"display_name": "exp-0"}), 409, "exp-0")
    seen: list[str] = []
    token = ""
    while True:
        page = api.get(
            "/experiments",
            params={"page_size": 2, "sort_by": "display_name desc", "page_token": token},
        ).json()
        assert page["total_size"] == 5
        seen += [e["display_name"] for e in page["experiments"]]
        token = page.get("next_page_token", "")
        if not token:
            break
    assert seen == [f"exp-{i}" for i in reversed(range(5))]
    one = api.get(
        "/experiments",
        params={
            "filter": json.dumps(
                {
                    "predicates": [
                        {"operation": "EQUALS", "key": "display_name", "stringValue": "exp-3"}
                    ]
                }
            )
        },
    ).json()["experiments"]
    experiment_id = one[0]["experiment_id"]
    assert api.post(f"/experiments/{experiment_id}:archive").status_code == 200
    assert api.get(f"/experiments/{experiment_id}").json()["storage_state"] == "ARCHIVED"
    assert api.post(f"/experiments/{experiment_id}:unarchive").status_code == 200
    assert api.delete(f"/experiments/{experiment_id}").status_code == 200
    assert_error(api.get(f"/experiments/{experiment_id}"), 404, experiment_id)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "{"}, "not JSON"),
        (
            {"filter": '{"predicates": [{"key": "state", "operation": 42, "string_value": "x"}]}'},
            "operation 42",
        ),
        (
            {"filter": '{"predicates": [{"key": "color", "operation": 1, "string_value": "x"}]}'},
            "'color'",
        ),
        ({"filter": '{"predicates": [{"key": "state", "operation": 1}]}'}, "exactly one value"),
        ({"sort_by": "color"}, "Cannot sort runs by 'color'"),
        ({"page_token": "bogus"}, "was not issued"),
        ({"page_size": "many"}, "page_size"),
        ({"page_size": "5000"}, "out of range"),
    ],
)
def test_bad_list_parameters_are_400(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    assert_error(api.get("/runs", params=params), 400, message)


def test_the_token_guards_everything_but_healthz(platform: Platform) -> None:
    server = Server(platform, token="s3cret").start()
    try:
        with server.client() as api:
            assert api.get("/healthz").status_code == 200
            assert_error(api.get("/runs"), 401, "Bearer")
            assert api.get("/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    finally:
        server.stop()
