"""Task logs over the API: read in pieces while a real task writes them, by attempt, and
through the cache; and a run created with caching off, whose log is its own. A real
server, worker and child processes on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from conditions import eventually

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service.worker import RunWorker


@dsl.component
def talk(release: str) -> None:
    import os
    import time

    print("first line: déjà vu ✓", flush=True)
    while not os.path.exists(release):
        time.sleep(0.02)
    print("last line", flush=True)


@dsl.component
def flaky(marker: str) -> None:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("attempt one fails on purpose")
    print("attempt two works")


@dsl.pipeline
def talking(release: str) -> None:
    talk(release=release)


@dsl.pipeline
def retrying(marker: str) -> None:
    flaky(marker=marker).set_retry(num_retries=1, backoff_duration="0s")


def submit(api: httpx.Client, pipeline: Any, **parameters: Any) -> str:
    body = {
        "display_name": "logs",
        "pipeline_spec": compile_to_dict(pipeline),
        "runtime_config": {"parameters": parameters},
    }
    response = api.post("/runs", json=body)
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def finished(api: httpx.Client, run_id: str) -> str:
    def state() -> str | None:
        value: str = api.get(f"/runs/{run_id}").json()["state"]
        return value if value in ("SUCCEEDED", "FAILED", "CANCELED") else None

    result: str = eventually(state, f"run {run_id} ends")
    return result


def log(api: httpx.Client, run_id: str, task: str, **query: Any) -> dict[str, Any]:
    response = api.get(f"/runs/{run_id}/nodes/{task}/logs", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_running_task_log_is_tailed_until_complete(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    run_id = submit(api, talking, release=str(release))

    def first_line() -> dict[str, Any] | None:
        # A read may land between the line's text and its line break (print writes them
        # apart): the line is there once its break is.
        response = api.get(f"/runs/{run_id}/nodes/talk/logs")
        if response.status_code != 200 or not response.json()["text"].endswith("\n"):
            return None
        return response.json()

    first = eventually(first_line, "the first line shows")
    assert first["text"] == "first line: déjà vu ✓\n"
    assert first["complete"] is False
    assert first["attempt"] == 1
    assert first["next_offset"] == len(first["text"].encode())

    release.touch()
    assert finished(api, run_id) == "SUCCEEDED"
    rest = log(api, run_id, "talk", offset=first["next_offset"])
    assert rest["text"] == "last line\n"
    assert rest["complete"] is True
    assert rest["next_offset"] == rest["size"]


def test_small_reads_never_split_a_character(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()
    run_id = submit(api, talking, release=str(release))
    assert finished(api, run_id) == "SUCCEEDED"

    whole = log(api, run_id, "talk")["text"]
    pieces, offset, complete = [], 0, False
    while not complete:
        piece = log(api, run_id, "talk", offset=offset, limit=4)
        assert piece["next_offset"] > offset, "a read of a finished log always moves on"
        pieces.append(piece["text"])
        offset, complete = piece["next_offset"], piece["complete"]
    assert "".join(pieces) == whole
    assert "\ufffd" not in whole


def test_each_attempt_has_its_own_log(api: httpx.Client, worker: RunWorker, tmp_path: Path) -> None:
    run_id = submit(api, retrying, marker=str(tmp_path / "marker"))
    assert finished(api, run_id) == "SUCCEEDED"

    latest = log(api, run_id, "flaky")
    assert (latest["attempt"], latest["attempts"]) == (2, 2)
    assert "attempt two works" in latest["text"]
    assert "attempt one fails on purpose" in log(api, run_id, "flaky", attempt=1)["text"]

    missing = api.get(f"/runs/{run_id}/nodes/flaky/logs", params={"attempt": 3})
    assert missing.status_code == 400
    assert "attempts 1 to 2" in missing.json()["message"]


def test_a_cached_task_shows_the_log_of_the_task_it_reused(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()
    first = submit(api, talking, release=str(release))
    assert finished(api, first) == "SUCCEEDED"
    second = submit(api, talking, release=str(release))
    assert finished(api, second) == "SUCCEEDED"

    original = log(api, first, "talk")
    reused = log(api, second, "talk")
    assert reused["cached_from_node_id"] == original["node_id"]
    assert reused["text"] == original["text"]
    assert reused["complete"] is True


def test_bad_references_get_clear_errors(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()
    run_id = submit(api, talking, release=str(release))
    assert finished(api, run_id) == "SUCCEEDED"

    assert api.get(f"/runs/{run_id}/nodes/nothing/logs").status_code == 404
    assert api.get("/runs/no-such-run/nodes/talk/logs").status_code == 404
    negative = api.get(f"/runs/{run_id}/nodes/talk/logs", params={"offset": -1})
    assert negative.status_code == 400
    assert "negative" in negative.json()["message"]
    huge = api.get(f"/runs/{run_id}/nodes/talk/logs", params={"limit": 1 << 30})
    assert huge.status_code == 400
    tiny = api.get(f"/runs/{run_id}/nodes/talk/logs", params={"limit": 3})
    assert tiny.status_code == 400 and "between 4" in tiny.json()["message"]


def test_a_run_created_with_caching_off_reuses_nothing(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()
    first = submit(api, talking, release=str(release))
    assert finished(api, first) == "SUCCEEDED"
    body = {
        "display_name": "fresh",
        "pipeline_spec": compile_to_dict(talking),
        "runtime_config": {"parameters": {"release": str(release)}},
        "cache_enabled": False,
    }
    created = api.post("/runs", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["cache_enabled"] is False
    second = created.json()["run_id"]
    assert finished(api, second) == "SUCCEEDED"
    assert "cached_from_node_id" not in log(api, second, "talk")
    tasks = api.get(f"/runs/{second}/tasks").json()["tasks"]
    assert [t.get("cache_hit", False) for t in tasks if t["name"] == "talk"] == [False]
