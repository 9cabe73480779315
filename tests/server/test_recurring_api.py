"""/recurringruns over HTTP: each endpoint, the errors a client can cause (4xx with a
message, nothing stored), the real kfp 2.17.0 `kfp.Client` calls, and a started
Scheduler creating the runs of an interval trigger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import kfp
import pytest
import yaml
from api_pipelines import compiled, sum_and_write
from api_server import Server

from dagyard.service.platform import Platform
from dagyard.service.recurring import scheduler_for


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return compiled(sum_and_write, tmp_path)


@pytest.fixture
def body(package: Path) -> dict[str, Any]:
    return {
        "display_name": "nightly",
        "pipeline_spec": yaml.safe_load(package.read_bytes()),
        "runtime_config": {"parameters": {"a": 1}},
        "trigger": {"cron_schedule": {"cron": "0 30 2 * * *"}},
    }


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert message in response.json()["message"], response.json()


def test_create_get_list_enable_disable_delete(api: httpx.Client, body: dict[str, Any]) -> None:
    created = api.post("/recurringruns", json={**body, "timezone": "Europe/Berlin"})
    assert created.status_code == 200, created.text
    made = created.json()
    rid = made["recurring_run_id"]
    assert made["status"] == "ENABLED" and made["timezone"] == "Europe/Berlin"
    assert made["trigger"] == {"cron_schedule": {"cron": "0 30 2 * * *"}}
    assert made["runtime_config"]["parameters"] == {"a": 1, "b": 2} and made["max_concurrency"] == 1
    assert made["experiment_id"] and made["created_at"] and "mode" not in made
    assert api.get(f"/recurringruns/{rid}").json() == made

    periodic = {**body, "trigger": {"periodic_schedule": {"interval_second": "3600"}}}
    other = api.post("/recurringruns", json={**periodic, "mode": "DISABLE"}).json()
    assert other["status"] == "DISABLED" and other["timezone"] == "UTC"
    assert other["trigger"]["periodic_schedule"]["interval_second"] == 3600

    listed = api.get("/recurringruns").json()
    assert listed["total_size"] == 2
    assert {r["recurring_run_id"] for r in listed["recurringRuns"]} == {
        rid,
        other["recurring_run_id"],
    }
    assert api.get("/recurringruns", params={"experiment_id": "elsewhere"}).json() == {}

    assert api.post(f"/recurringruns/{rid}:disable").json() == {}
    assert api.get(f"/recurringruns/{rid}").json()["status"] == "DISABLED"
    assert api.post(f"/recurringruns/{rid}:enable").json() == {}
    assert api.get(f"/recurringruns/{rid}").json()["status"] == "ENABLED"
    assert api.delete(f"/recurringruns/{rid}").json() == {}
    assert_error(api.get(f"/recurringruns/{rid}"), 404, rid)


def test_recurring_run_of_a_pipeline_version(
    api: httpx.Client, body: dict[str, Any], package: Path
) -> None:
    uploaded = api.post(
        "/pipelines/upload", files={"uploadfile": ("p.yaml", package.read_bytes())}
    ).json()
    pipeline_id = uploaded["pipeline_id"]
    versions = api.get(f"/pipelines/{pipeline_id}/versions").json()["pipeline_versions"]
    del body["pipeline_spec"]
    made = api.post(
        "/recurringruns", json={**body, "pipeline_version_reference": {"pipeline_id": pipeline_id}}
    ).json()
    assert made["pipeline_version_reference"] == {
        "pipeline_id": pipeline_id,
        "pipeline_version_id": versions[0]["pipeline_version_id"],
    }
    assert "pipeline_spec" not in made
    unknown = {"pipeline_id": pipeline_id, "pipeline_version_id": "nope"}
    response = api.post("/recurringruns", json={**body, "pipeline_version_reference": unknown})
    assert_error(response, 404, "nope")


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"trigger": {"cron_schedule": {"cron": "not a cron"}}}, 400, "not a cron"),
        ({"timezone": "Mars/Olympus"}, 400, "Mars/Olympus"),
        ({"trigger": {}}, 400, "exactly one of cron_schedule or periodic_schedule"),
        ({"trigger": None}, 400, "exactly one of cron_schedule or periodic_schedule"),
        (
            {
                "trigger": {
                    "cron_schedule": {"cron": "0 * * * * *"},
                    "periodic_schedule": {"interval_second": 5},
                }
            },
            400,
            "exactly one of",
        ),
        ({"trigger": {"periodic_schedule": {"interval_second": 0}}}, 400, "interval_second"),
        ({"trigger": {"periodic_schedule": {"interval_second": 10**30}}}, 400, "interval_second"),
        (
            {"trigger": {"cron_schedule": {"cron": "0 * * * * *", "start_time": "soon"}}},
            400,
            "'soon' is not an RFC 3339 time",
        ),
        (
            {
                "trigger": {
                    "cron_schedule": {"cron": "* * * * *", "end_time": "9999-12-31T23:00:00-05:00"}
                }
            },
            400,
            "out of range",
        ),
        ({"mode": "SOMETIMES"}, 400, "mode"),
        ({"max_concurrency": 0}, 400, "max_concurrency"),
        ({"display_name": ""}, 400, "display_name"),
        ({"pipeline_spec": None}, 400, "neither pipeline_spec nor pipeline_version_reference"),
        ({"pipeline_spec": {"root": {}}}, 400, ""),
        ({"pipeline_version_reference": {"pipeline_id": "x"}}, 400, "not both"),
        ({"experiment_id": "missing"}, 404, "missing"),
        ({"runtime_config": {"parameters": {}}}, 400, "a"),
    ],
)
def test_bad_recurring_runs_are_refused_and_store_nothing(
    api: httpx.Client, body: dict[str, Any], change: dict[str, Any], status: int, message: str
) -> None:
    assert_error(api.post("/recurringruns", json={**body, **change}), status, message)
    assert api.get("/recurringruns").json() == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/recurringruns/nope"),
        ("DELETE", "/recurringruns/nope"),
        ("POST", "/recurringruns/nope:enable"),
        ("POST", "/recurringruns/nope:disable"),
    ],
)
def test_unknown_recurring_run_ids_are_404(api: httpx.Client, method: str, path: str) -> None:
    assert_error(api.request(method, path), 404, "nope")


@pytest.mark.kfp
@pytest.mark.filterwarnings("ignore:This client only works with Kubeflow:FutureWarning")
def test_kfp_client_manages_recurring_runs(server: Server, package: Path) -> None:
    client = kfp.Client(host=server.url)
    experiment = client.create_experiment("recurring")
    by_cron = client.create_recurring_run(
        experiment.experiment_id,
        "every-second",
        cron_expression="*/1 * * * * *",
        pipeline_package_path=str(package),
        params={"a": 3},
        no_catchup=True,
    )
    assert by_cron.status == "ENABLED" and by_cron.trigger.cron_schedule.cron == "*/1 * * * * *"
    assert by_cron.no_catchup is True and by_cron.runtime_config.parameters == {"a": 3, "b": 2}
    by_interval = client.create_recurring_run(
        experiment.experiment_id,
        "hourly",
        interval_second=3600,
        pipeline_package_path=str(package),
        params={"a": 4},
        enabled=False,
    )
    assert by_interval.status == "DISABLED"
    assert int(by_interval.trigger.periodic_schedule.interval_second) == 3600

    got = client.get_recurring_run(by_cron.recurring_run_id)
    assert got.display_name == "every-second" and got.experiment_id == experiment.experiment_id
    listed = client.list_recurring_runs(experiment_id=experiment.experiment_id)
    assert listed.total_size == 2
    assert {r.display_name for r in listed.recurring_runs} == {"every-second", "hourly"}

    client.disable_recurring_run(by_cron.recurring_run_id)
    assert client.get_recurring_run(by_cron.recurring_run_id).status == "DISABLED"
    client.enable_recurring_run(by_interval.recurring_run_id)
    assert client.get_recurring_run(by_interval.recurring_run_id).status == "ENABLED"
    client.delete_recurring_run(by_cron.recurring_run_id)
    assert [r.recurring_run_id for r in client.list_recurring_runs().recurring_runs] == [
        by_interval.recurring_run_id
    ]


@pytest.mark.kfp
@pytest.mark.filterwarnings("ignore:This client only works with Kubeflow:FutureWarning")
def test_started_scheduler_creates_runs_of_an_interval_trigger(
    server: Server, platform: Platform, package: Path
) -> None:
    client = kfp.Client(host=server.url)
    experiment = client.create_experiment("scheduled")
    scheduler = scheduler_for(platform, period=0.2)
    scheduler.start()
    try:
        made = client.create_recurring_run(
            experiment.experiment_id,
            "each-second",
            interval_second=1,
            pipeline_package_path=str(package),
            params={"a": 2},
            max_concurrency=3,
        )
        deadline = time.monotonic() + 6
        runs: list[Any] = []
        while len(runs) < 2:
            assert time.monotonic() < deadline, f"only {len(runs)} scheduled runs in 6 s"
            time.sleep(0.1)
            runs = client.list_runs(experiment_id=experiment.experiment_id).runs or []
    finally:
        scheduler.stop()
    assert all(r.recurring_run_id == made.recurring_run_id for r in runs)
    times = sorted(r.scheduled_at for r in runs)
    assert all(times) and times[0] != times[1]
    assert all(r.runtime_config.parameters == {"a": 2, "b": 2} for r in runs)
