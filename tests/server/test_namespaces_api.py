"""Namespaces over HTTP: each resource carries KFP's `namespace`, names are unique per
namespace, and listings asked for one namespace show only its resources (runs through
their experiment). A real server on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from api_pipelines import compiled, sum_and_write


@pytest.fixture
def spec(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(compiled(sum_and_write, tmp_path).read_bytes())
    return loaded


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def experiment(api: httpx.Client, name: str, namespace: str) -> str:
    made = ok(api.post("/experiments", json={"display_name": name, "namespace": namespace}))
    assert made["namespace"] == namespace
    experiment_id: str = made["experiment_id"]
    return experiment_id


def run(api: httpx.Client, spec: dict[str, Any], experiment_id: str, name: str) -> str:
    body = {
        "display_name": name,
        "experiment_id": experiment_id,
        "pipeline_spec": spec,
        "runtime_config": {"parameters": {"a": 1}},
    }
    run_id: str = ok(api.post("/runs", json=body))["run_id"]
    return run_id


def names(listing: dict[str, Any], key: str) -> set[str]:
    return {item["display_name"] for item in listing.get(key, [])}


def test_experiments_and_runs_list_per_namespace(api: httpx.Client, spec: dict[str, Any]) -> None:
    team_a = experiment(api, "training", "team-a")
    team_b = experiment(api, "training", "team-b")  # the same name in another namespace
    run(api, spec, team_a, "a-1")
    run(api, spec, team_a, "a-2")
    run(api, spec, team_b, "b-1")

    listed = ok(api.get("/experiments", params={"namespace": "team-a"}))
    assert [e["experiment_id"] for e in listed["experiments"]] == [team_a]
    assert names(ok(api.get("/runs", params={"namespace": "team-a"})), "runs") == {"a-1", "a-2"}
    assert names(ok(api.get("/runs", params={"namespace": "team-b"})), "runs") == {"b-1"}
    assert ok(api.get("/runs", params={"namespace": "team-c"})) == {}
    assert names(ok(api.get("/runs")), "runs") == {"a-1", "a-2", "b-1"}

    duplicate = api.post("/experiments", json={"display_name": "training", "namespace": "team-a"})
    assert duplicate.status_code == 409
    assert "team-a" in duplicate.json()["message"]


def test_pipeline_names_are_per_namespace(api: httpx.Client, tmp_path: Path) -> None:
    package = compiled(sum_and_write, tmp_path)
    ids = {}
    for namespace in ("team-a", "team-b"):
        with package.open("rb") as f:
            made = ok(
                api.post(
                    "/pipelines/upload",
                    params={"name": "sums", "namespace": namespace},
                    files={"uploadfile": ("sums.yaml", f)},
                )
            )
        assert made["namespace"] == namespace
        ids[namespace] = made["pipeline_id"]

    for namespace, pipeline_id in ids.items():
        found = ok(api.get("/pipelines/names/sums", params={"namespace": namespace}))
        assert found["pipeline_id"] == pipeline_id
        listed = ok(api.get("/pipelines", params={"namespace": namespace}))
        assert [p["pipeline_id"] for p in listed["pipelines"]] == [pipeline_id]
    assert api.get("/pipelines/names/sums", params={"namespace": "team-c"}).status_code == 404


def test_recurring_runs_live_in_their_experiments_namespace(
    api: httpx.Client, spec: dict[str, Any]
) -> None:
    team_a = experiment(api, "nightly", "team-a")
    body = {
        "pipeline_spec": spec,
        "runtime_config": {"parameters": {"a": 1}},
        "trigger": {"periodic_schedule": {"interval_second": 3600}},
        "experiment_id": team_a,
    }
    inherited = ok(api.post("/recurringruns", json={**body, "display_name": "hourly"}))
    assert inherited["namespace"] == "team-a"

    wrong = api.post(
        "/recurringruns", json={**body, "display_name": "elsewhere", "namespace": "team-b"}
    )
    assert wrong.status_code == 400
    assert "namespace of its experiment" in wrong.json()["message"]

    default = {k: v for k, v in body.items() if k != "experiment_id"}
    in_b = ok(
        api.post("/recurringruns", json={**default, "display_name": "b", "namespace": "team-b"})
    )
    assert in_b["namespace"] == "team-b"
    b_experiment = ok(api.get(f"/experiments/{in_b['experiment_id']}"))
    assert (b_experiment["display_name"], b_experiment["namespace"]) == ("Default", "team-b")

    by_namespace = ok(api.get("/recurringruns", params={"namespace": "team-a"}))
    assert [r["display_name"] for r in by_namespace["recurringRuns"]] == ["hourly"]


def test_recurring_runs_are_paged_sorted_and_filtered(
    api: httpx.Client, spec: dict[str, Any]
) -> None:
    body = {
        "pipeline_spec": spec,
        "runtime_config": {"parameters": {"a": 1}},
        "trigger": {"periodic_schedule": {"interval_second": 3600}},
    }
    for name in ("alpha", "beta", "gamma"):
        ok(api.post("/recurringruns", json={**body, "display_name": name}))

    first = ok(api.get("/recurringruns", params={"page_size": 2, "sort_by": "display_name desc"}))
    assert [r["display_name"] for r in first["recurringRuns"]] == ["gamma", "beta"]
    assert first["total_size"] == 3
    rest = ok(
        api.get(
            "/recurringruns",
            params={
                "page_size": 2,
                "sort_by": "display_name desc",
                "page_token": first["next_page_token"],
            },
        )
    )
    assert [r["display_name"] for r in rest["recurringRuns"]] == ["alpha"]
    assert "next_page_token" not in rest

    only_beta = (
        '{"predicates": [{"key": "display_name", "operation": "EQUALS", "string_value": "beta"}]}'
    )
    filtered = ok(api.get("/recurringruns", params={"filter": only_beta}))
    assert [r["display_name"] for r in filtered["recurringRuns"]] == ["beta"]
    bad_sort = api.get("/recurringruns", params={"sort_by": "colour"})
    assert bad_sort.status_code == 400
