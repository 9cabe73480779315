"""A run's tasks in parts (`GET /runs/{id}/tasks` with `outline`, `under`, `parent`): a
real run with a loop, read by a real server over SQLite, and checked against what the
whole task list says. The outline's threshold is lowered so that a small loop is big."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api_errors import assert_error
from test_artifacts_api import ok
from test_logs_api import finished, submit

from dagyard import dsl, kubernetes
from dagyard.errors import UsageError
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.settings import Settings
from dagyard.store.records import TaskState

ITEMS = 8
FAILING = 5


@dsl.component
def prepare() -> str:
    return "ready"


@dsl.component
def square(x: int) -> int:
    if x == 5:
        raise ValueError("five is refused on purpose")
    return x * x


@dsl.component
def note(x: int) -> int:
    return x


@dsl.pipeline
def looped() -> None:
    prepare()
    with dsl.ParallelFor(list(range(ITEMS))) as item:
        square(x=item)
        with dsl.If(item == 2):
            kubernetes.add_pod_label(note(x=item), "team", "ml")


def patterns_of(tasks: list[dict[str, Any]]) -> dict[str, str]:
    """Every task's pattern, worked out as the UI does (ui/src/graph/model.ts)."""
    by_path = {t["path"]: t for t in tasks}
    iterations = set()
    for t in tasks:
        if t.get("iteration_index") is None:
            continue
        parent = by_path.get(t["path"].rpartition("/")[0])
        if (
            parent["kind"] == "loop"
            if parent
            else t["kind"] == "dag" and re.search(r"/\d+$", t["path"])
        ):
            iterations.add(t["path"])
    found = {}
    for path in list(by_path) + [p.rpartition("/")[0] for p in by_path if "/" in p]:
        segments = path.split("/")
        found[path] = "/".join(
            "*" if "/".join(segments[: i + 1]) in iterations else s for i, s in enumerate(segments)
        )
    return found


def state_of(t: dict[str, Any]) -> str:
    return "CACHED" if t["state"] == "SUCCEEDED" and t.get("cache_hit") else str(t["state"])


def expected_outline(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    patterns = patterns_of(tasks)
    counts: dict[str, Counter[str]] = {}
    leaves: dict[str, Counter[str]] = {}
    for t in tasks:
        counts.setdefault(patterns[t["path"]], Counter())[state_of(t)] += 1
        if t["kind"] in ("container", "importer"):
            segments = t["path"].split("/")
            for i in range(1, len(segments)):
                ancestor = patterns["/".join(segments[:i])]
                leaves.setdefault(ancestor, Counter())[state_of(t)] += 1
    return {
        "counts": {p: dict(c) for p, c in counts.items()},
        "leaves": {p: dict(c) for p, c in leaves.items()},
        "warned": sum(1 for t in tasks if t.get("warnings")),
    }


def kept(tasks: list[dict[str, Any]]) -> list[str]:
    patterns = patterns_of(tasks)
    return [
        t["path"]
        for t in tasks
        if "*" not in patterns[t["path"]] or t["state"] == "FAILED" or t.get("warnings")
    ]


def tasks_of(api: httpx.Client, run_id: str, **query: Any) -> dict[str, Any]:
    found: dict[str, Any] = ok(api.get(f"/runs/{run_id}/tasks", params=query))
    return found


@pytest.fixture
def ran(api: httpx.Client, worker: RunWorker, platform: Platform) -> str:
    run_id = submit(api, looped)
    assert finished(api, run_id) == "FAILED"
    outline_over(platform, 10)
    return run_id


def outline_over(platform: Platform, records: int) -> None:
    """The server outlines runs of more than `records` task records from now on."""
    platform.settings = dataclasses.replace(platform.settings, task_outline_over=records)


def test_a_big_runs_outline_keeps_what_is_outside_loops_and_what_failed_or_warned(
    api: httpx.Client, ran: str
) -> None:
    whole = tasks_of(api, ran)
    tasks = whole["tasks"]
    assert len(tasks) > 10
    answer = tasks_of(api, ran, outline="true")
    assert answer["revision"] == whole["revision"]
    paths = [t["path"] for t in answer["tasks"]]
    assert paths == kept(tasks)
    by_path = {t["path"]: t for t in tasks}
    assert [t for t in answer["tasks"]] == [by_path[p] for p in paths]  # whole records
    assert any(
        t["state"] == "FAILED" and "*" in patterns_of(tasks)[t["path"]] for t in answer["tasks"]
    )
    assert any(t.get("warnings") for t in answer["tasks"])
    assert answer["outline"] == {
        "complete": False,
        "left_out": len(tasks) - len(paths),
        **expected_outline(tasks),
    }
    loop = next(t["path"] for t in tasks if t["kind"] == "loop")
    assert answer["outline"]["counts"][f"{loop}/*/square"]["FAILED"] == 1
    assert sum(answer["outline"]["leaves"][loop].values()) == sum(
        t["kind"] == "container" and t["path"].startswith(f"{loop}/") for t in tasks
    )

    # An idle poll: nothing, not even the outline. From revision 0: the selection again.
    idle = tasks_of(api, ran, outline="true", after_revision=answer["revision"])
    assert idle == {"tasks": [], "revision": answer["revision"]}
    assert tasks_of(api, ran, outline="true", after_revision=0) == answer


def test_a_record_that_enters_the_selection_comes_with_the_next_poll(
    api: httpx.Client, ran: str, platform: Platform
) -> None:
    tasks = tasks_of(api, ran)["tasks"]
    first = tasks_of(api, ran, outline="true")
    left_out = [t for t in tasks if t["path"] not in kept(tasks)]
    quiet, failing = left_out[0], left_out[1]

    platform.store.update_task(quiet["task_id"], attempts=7)  # changes, stays out
    moved = tasks_of(api, ran, outline="true", after_revision=first["revision"])
    assert moved["tasks"] == [] and moved["revision"] > first["revision"]
    assert moved["outline"] == first["outline"]  # something changed: the whole outline

    platform.store.update_task(failing["task_id"], state=TaskState.FAILED)
    later = tasks_of(api, ran, outline="true", after_revision=moved["revision"])
    assert [t["path"] for t in later["tasks"]] == [failing["path"]]
    assert later["tasks"][0]["state"] == "FAILED"
    now = tasks_of(api, ran)["tasks"]
    assert later["outline"] == {
        "complete": False,
        "left_out": first["outline"]["left_out"] - 1,
        **expected_outline(now),
    }


def test_a_run_within_the_threshold_is_read_whole_with_a_complete_outline(
    api: httpx.Client, ran: str, platform: Platform
) -> None:
    whole = tasks_of(api, ran)
    outline_over(platform, len(whole["tasks"]))
    assert tasks_of(api, ran, outline="true") == {**whole, "outline": {"complete": True}}
    idle = tasks_of(api, ran, outline="true", after_revision=whole["revision"])
    assert idle == {"tasks": [], "revision": whole["revision"], "outline": {"complete": True}}


def test_a_subtree_and_a_page_of_iterations(api: httpx.Client, ran: str) -> None:
    whole = tasks_of(api, ran)
    tasks = whole["tasks"]
    loop = next(t["path"] for t in tasks if t["kind"] == "loop")
    second = f"{loop}/2"

    subtree = tasks_of(api, ran, under=second)
    assert [t["path"] for t in subtree["tasks"]] == [
        t["path"] for t in tasks if t["path"] == second or t["path"].startswith(f"{second}/")
    ]
    assert len(subtree["tasks"]) >= 3 and subtree["tasks"][0]["path"] == second
    assert subtree["revision"] <= whole["revision"]
    again = tasks_of(api, ran, under=second, after_revision=subtree["revision"])
    assert again == {"tasks": [], "revision": subtree["revision"]}

    page = tasks_of(api, ran, parent=loop, from_index=2, to_index=5)
    assert [(t["path"], t["iteration_index"]) for t in page["tasks"]] == [
        (f"{loop}/{i}", i) for i in (2, 3, 4)
    ]
    everything = tasks_of(api, ran, parent=loop)
    assert sorted(t["iteration_index"] for t in everything["tasks"]) == list(range(ITEMS))
    assert [t["path"] for t in tasks_of(api, ran, parent=loop, from_index=6)["tasks"]] == [
        f"{loop}/6",
        f"{loop}/7",
    ]
    idle = tasks_of(
        api, ran, parent=loop, from_index=2, to_index=5, after_revision=page["revision"]
    )
    assert idle == {"tasks": [], "revision": page["revision"]}
    top = tasks_of(api, ran, parent="prepare")
    assert top["tasks"] == []


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"outline": "true", "under": "x"}, "outline"),
        ({"outline": "true", "parent": "x"}, "outline"),
        ({"under": "x", "parent": "x"}, "not both"),
        ({"from_index": 1}, "give parent"),
        ({"to_index": 1}, "give parent"),
        ({"parent": "x", "from_index": 3, "to_index": 2}, "from_index 3"),
        ({"parent": "x", "from_index": -1}, "from_index"),
        ({"parent": "x", "to_index": -1}, "to_index"),
        ({"under": ""}, "task path"),
        ({"parent": "x/"}, "task path"),
        ({"outline": "maybe"}, "outline"),
    ],
)
def test_parameters_that_mean_nothing_together_are_refused(
    api: httpx.Client, query: dict[str, Any], said: str
) -> None:
    run_id = submit(api, looped)  # never run: the server alone
    assert_error(api.get(f"/runs/{run_id}/tasks", params=query), 400, said)


def test_an_unknown_run_is_not_found_whatever_is_asked(api: httpx.Client) -> None:
    for query in ({"outline": "true"}, {"under": "a"}, {"parent": "a", "from_index": 0}):
        assert api.get("/runs/no-such-run/tasks", params=query).status_code == 404


def test_the_outline_threshold_is_a_setting(tmp_path: Path) -> None:
    home = {"DAGYARD_HOME": str(tmp_path)}
    assert Settings.from_env(home).task_outline_over == 1000
    assert Settings.from_env({**home, "DAGYARD_TASK_OUTLINE_OVER": "25"}).task_outline_over == 25
    with pytest.raises(UsageError, match="DAGYARD_TASK_OUTLINE_OVER"):
        Settings.from_env({**home, "DAGYARD_TASK_OUTLINE_OVER": "many"})
    with pytest.raises(UsageError, match="DAGYARD_TASK_OUTLINE_OVER"):
        Settings(home=tmp_path, task_outline_over=-1)
