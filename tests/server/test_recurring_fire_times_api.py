"""When recurring runs fire next (`next_fire_time`), and the due times of a trigger before
it is created (`POST /recurringruns:preview`), over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from api_pipelines import compiled, sum_and_write


@pytest.fixture
def body(tmp_path: Path) -> dict[str, Any]:
    package = compiled(sum_and_write, tmp_path)
    return {
        "display_name": "nightly",
        "pipeline_spec": yaml.safe_load(package.read_bytes()),
        "runtime_config": {"parameters": {"a": 1}},
        "trigger": {"cron_schedule": {"cron": "0 30 2 * * *"}},
        "timezone": "Europe/Berlin",
    }


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_enabled_recurring_run_says_when_it_fires_next(
    api: httpx.Client, body: dict[str, Any]
) -> None:
    before = datetime.now(UTC)
    made = api.post("/recurringruns", json=body).json()
    due = moment(made["next_fire_time"])
    assert before < due <= before + timedelta(days=1, hours=1)
    wall = due.astimezone(ZoneInfo("Europe/Berlin"))
    assert (wall.hour, wall.minute, wall.second) == (2, 30, 0)
    rid = made["recurring_run_id"]
    assert api.get(f"/recurringruns/{rid}").json()["next_fire_time"] == made["next_fire_time"]
    listed = api.get("/recurringruns").json()["recurringRuns"]
    assert [r["next_fire_time"] for r in listed] == [made["next_fire_time"]]

    assert api.post(f"/recurringruns/{rid}:disable").status_code == 200
    assert "next_fire_time" not in api.get(f"/recurringruns/{rid}").json()
    assert api.post(f"/recurringruns/{rid}:enable").status_code == 200
    assert api.get(f"/recurringruns/{rid}").json()["next_fire_time"] == made["next_fire_time"]


def test_a_recurring_run_past_its_end_has_no_next_fire_time(
    api: httpx.Client, body: dict[str, Any]
) -> None:
    ended = {
        "periodic_schedule": {
            "interval_second": 60,
            "start_time": "2020-01-01T00:00:00Z",
            "end_time": "2020-01-02T00:00:00Z",
        }
    }
    made = api.post("/recurringruns", json={**body, "trigger": ended}).json()
    assert made["status"] == "ENABLED" and "next_fire_time" not in made


def test_preview_lists_the_next_due_times_in_the_time_zone(api: httpx.Client) -> None:
    before = datetime.now(UTC)
    answer = api.post(
        "/recurringruns:preview",
        json={
            "trigger": {"cron_schedule": {"cron": "0 0 9 * * MON-FRI"}},
            "timezone": "America/New_York",
            "count": 7,
        },
    )
    assert answer.status_code == 200, answer.text
    times = [moment(t) for t in answer.json()["fire_times"]]
    assert len(times) == 7 and times == sorted(times) and times[0] > before
    walls = [t.astimezone(ZoneInfo("America/New_York")) for t in times]
    assert {(w.hour, w.minute) for w in walls} == {(9, 0)}
    assert all(w.weekday() < 5 for w in walls)

    periodic = api.post(
        "/recurringruns:preview", json={"trigger": {"periodic_schedule": {"interval_second": 90}}}
    ).json()["fire_times"]
    gaps = {b - a for a, b in zip(map(moment, periodic), map(moment, periodic[1:]), strict=False)}
    assert len(periodic) == 5 and gaps == {timedelta(seconds=90)}


@pytest.mark.parametrize(
    "change",
    [
        {"trigger": {"cron_schedule": {"cron": "61 * * * *"}}},
        {"timezone": "Mars/Olympus"},
        {"trigger": {"periodic_schedule": {"interval_second": 0}}},
        {"trigger": {}},
    ],
)
def test_a_bad_trigger_gets_the_message_creating_one_gets(
    api: httpx.Client, body: dict[str, Any], change: dict[str, Any]
) -> None:
    created = api.post("/recurringruns", json={**body, **change})
    previewed = api.post(
        "/recurringruns:preview",
        json={"trigger": body["trigger"], "timezone": body["timezone"], **change},
    )
    assert created.status_code == previewed.status_code == 400
    assert previewed.json()["message"] == created.json()["message"]


def test_preview_counts_are_bounded(api: httpx.Client) -> None:
    trigger = {"periodic_schedule": {"interval_second": 60}}
    for count in (0, 51):
        refused = api.post("/recurringruns:preview", json={"trigger": trigger, "count": count})
        assert refused.status_code == 400 and "1 to 50" in refused.json()["message"]
    most = api.post("/recurringruns:preview", json={"trigger": trigger, "count": 50})
    assert len(most.json()["fire_times"]) == 50
    # A trigger that ends soon previews only the times it has.
    ending = {"periodic_schedule": {"interval_second": 3600, "end_time": _in(hours=3)}}
    short = api.post("/recurringruns:preview", json={"trigger": ending, "count": 10})
    assert len(short.json()["fire_times"]) in (2, 3)


def _in(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()
