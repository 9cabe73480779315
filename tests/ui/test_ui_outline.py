"""A big run's page reads an outline of the run's tasks: the server leaves out the tasks
inside loop iterations and counts them instead (`outline=true`); the page asks for the
iterations it shows, a page of a loop's iteration records (`parent`) and an expanded
iteration whole (`under`), and draws what the whole run's records would draw.

The server here outlines runs of more than 5 tasks (DAGYARD_TASK_OUTLINE_OVER), so that
runs of a few dozen tasks take the path a 2,000-iteration loop takes."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from ui_pipelines import ui_failing_loop, ui_flaky_loop, ui_labelled_loop, ui_loop
from ui_platform import Platform, start_platform, stop_platform, submit_run, wait_state

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    started = start_platform(
        tmp_path_factory.mktemp("outline-home"), env={"DAGYARD_TASK_OUTLINE_OVER": "5"}
    )
    yield started
    stop_platform(started)


def succeeded(platform: Platform, pipeline: Any, **options: Any) -> str:
    """A run of `pipeline`, once it has succeeded."""
    run_id = submit_run(platform, pipeline, f"outlined-{uuid.uuid4().hex[:8]}", **options)
    wait_state(platform, run_id, "SUCCEEDED")
    return run_id


@pytest.fixture(scope="module")
def loop_run(platform: Platform) -> str:
    return succeeded(platform, ui_loop, cache=False)


def test_a_big_runs_page_reads_its_outline_and_the_iterations_it_shows(
    page: Page, platform: Platform, loop_run: str
) -> None:
    run_id = loop_run
    every = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    assert len(every) > 60

    with page.expect_response(lambda r: f"runs/{run_id}/tasks?" in r.url) as read:
        page.goto(f"/runs/{run_id}")
    loop = page.get_by_test_id("node-for-loop-2")
    expect(loop).to_contain_text("30 iterations")
    expect(loop).to_contain_text("30 succeeded")
    # The first answer: the tasks outside the loop's iterations, and the outline.
    assert "outline=true" in read.value.url
    first = read.value.json()
    assert first["outline"]["complete"] is False
    assert first["outline"]["left_out"] == len(every) - len(first["tasks"])
    assert not [t for t in first["tasks"] if t["path"].startswith("for-loop-2/")]

    # Expanded, the loop's page of iterations is read, and drawn with the records' states.
    with page.expect_response(lambda r: "parent=for-loop-2&" in r.url):
        page.get_by_test_id("toggle-for-loop-2").click()
    iterations = page.get_by_test_id("node-for-loop-2/#iterations")
    chips = iterations.locator("[data-testid^='node-for-loop-2/'][role=button]")
    expect(chips).to_have_count(30)
    expect(iterations.locator("[data-state=SUCCEEDED][role=button]")).to_have_count(30)
    # The loop body drawn for every iteration: its task's instances, from the outline.
    expect(page.get_by_test_id("node-for-loop-2/*/square")).to_contain_text("30 succeeded")

    # An iteration expanded is read whole; its task opens in the panel.
    with page.expect_response(lambda r: "under=for-loop-2%2F7" in r.url):
        page.get_by_test_id("toggle-for-loop-2/7").click()
    square = page.get_by_test_id("node-for-loop-2/7/square")
    expect(square).to_have_attribute("data-state", "SUCCEEDED")
    square.click()
    expect(page.get_by_test_id("task-panel")).to_have_attribute(
        "aria-label", "Task for-loop-2/7/square"
    )

    # The run's details count every task, as the whole list would.
    page.get_by_role("tab", name="Run details").click()
    leaves = Counter(
        "cached" if t.get("cache_hit") else t["state"].lower()
        for t in every
        if t["kind"] in ("container", "importer")
    )
    expected = sorted(f"{n} {state}" for state, n in leaves.items())
    shown = page.locator(".dy-details dt:text-is('Tasks') + dd")
    expect(shown).not_to_be_empty()
    assert sorted(shown.inner_text().split(", ")) == expected

    # The timeline says what it leaves out.
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_test_id("left-out")).to_contain_text(
        f"{first['outline']['left_out']} tasks inside loop iterations are left out"
    )


def test_a_big_failed_run_still_opens_on_its_failed_task(page: Page, platform: Platform) -> None:
    run_id = submit_run(platform, ui_failing_loop, f"outlined-{uuid.uuid4().hex[:8]}", cache=False)
    wait_state(platform, run_id, "FAILED")
    every = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    failed = next(t for t in every if t["state"] == "FAILED" and t["kind"] == "container")
    with page.expect_response(lambda r: f"runs/{run_id}/tasks?" in r.url) as read:
        page.goto(f"/runs/{run_id}")
    panel = page.get_by_test_id("task-panel")
    expect(panel).to_have_attribute("aria-label", f"Task {failed['path']}")
    expect(page.get_by_test_id("task-log")).to_contain_text("item 2 is bad")
    expect(page.get_by_test_id(f"node-{failed['path']}")).to_have_attribute("data-state", "FAILED")
    # The failed task came with the outline; the other iterations' tasks did not.
    first = read.value.json()
    assert first["outline"]["complete"] is False
    inside = [t["path"] for t in first["tasks"] if t["path"].count("/") >= 2]
    assert inside == [failed["path"]]


def test_the_find_box_finds_a_task_inside_the_iterations_it_has_not_read(
    page: Page, loop_run: str
) -> None:
    page.goto(f"/runs/{loop_run}")
    expect(page.get_by_test_id("node-for-loop-2")).to_contain_text("30 succeeded")
    find = page.get_by_role("combobox", name="Find a task")
    find.fill("square")
    options = page.get_by_role("option")
    # No iteration's record is read yet: the match is the task drawn for all of them.
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("for-loop-2/*/square")
    find.press("Enter")
    square = page.get_by_test_id("node-for-loop-2/*/square")
    expect(square).to_be_in_viewport()
    expect(square).to_contain_text("30 succeeded")


@pytest.fixture(scope="module")
def labelled_run(platform: Platform) -> str:
    return succeeded(platform, ui_labelled_loop)


def test_the_warnings_banner_says_how_many_tasks_it_does_not_list(
    page: Page, platform: Platform, labelled_run: str
) -> None:
    run_id = labelled_run
    every = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    warned = [t for t in every if t.get("warnings")]
    assert len(warned) == 120

    page.goto(f"/runs/{run_id}")
    banner = page.get_by_test_id("run-warnings")
    # The outline brings the first 100 warned tasks inside loop iterations, and says how
    # many there are in all.
    expect(banner).to_contain_text("100 warnings")
    expect(page.get_by_test_id("warnings-unlisted")).to_contain_text(
        "100 of the 120 tasks with warnings are listed"
    )


def test_after_a_retry_the_page_drops_the_failed_tasks_its_outline_brought(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    run_id = submit_run(
        platform, ui_flaky_loop, f"outlined-{uuid.uuid4().hex[:8]}", marker=str(marker)
    )
    wait_state(platform, run_id, "FAILED")
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    failed = next(t["path"] for t in tasks if t["state"] == "FAILED" and t["kind"] == "container")
    loop = next(t["path"] for t in tasks if t["kind"] == "loop")
    page.goto(f"/runs/{run_id}")
    # Opened on the failed task, its iteration expanded.
    expect(page.get_by_test_id(f"node-{failed}")).to_have_attribute("data-state", "FAILED")

    marker.touch()
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("succeeded", timeout=60_000)
    page.get_by_test_id(f"toggle-{loop}").click()  # collapsed: no iteration read any more
    page.get_by_role("tab", name="Timeline").click()
    # The outline of the run that succeeded holds no task that runs code: nothing is drawn
    # (the failed task's record, were it kept, would be a failed row).
    expect(page.get_by_text("None of the tasks read here runs code.")).to_be_visible()
    expect(page.locator("[data-testid^='timeline-row-']")).to_have_count(0)


def test_the_page_of_a_loops_iterations_is_in_the_address(
    page: Page, platform: Platform, labelled_run: str
) -> None:
    tasks = platform.api.get(f"/runs/{labelled_run}/tasks").json()["tasks"]
    loop = next(t["path"] for t in tasks if t["kind"] == "loop")
    page.goto(f"/runs/{labelled_run}")
    page.get_by_test_id(f"toggle-{loop}").click()
    expect(page.get_by_test_id(f"node-{loop}/0")).to_have_attribute("data-state", "SUCCEEDED")

    # The second page: read from the server (its iteration records), and in the address.
    with page.expect_response(lambda r: "from_index=50" in r.url and "to_index=100" in r.url):
        page.get_by_test_id(f"page-next-{loop}").click()
    expect(page.get_by_test_id(f"node-{loop}/50")).to_have_attribute("data-state", "SUCCEEDED")
    assert parse_qs(urlparse(page.url).query)["iterations"] == [f"{loop}:1"]
    page.reload()
    expect(page.get_by_test_id(f"node-{loop}/99")).to_have_attribute("data-state", "SUCCEEDED")
    expect(page.get_by_test_id(f"node-{loop}/0")).to_have_count(0)
    page.go_back()
    expect(page.get_by_test_id(f"node-{loop}/0")).to_have_attribute("data-state", "SUCCEEDED")
    assert "iterations" not in parse_qs(urlparse(page.url).query)
