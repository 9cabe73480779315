"""The run graph at scale, in Chromium against a real `dagyard up --demo` and real runs:
a run opens fitted, zoomed out to labelled bands (one per chain of tasks, in natural name
order) that give way to the tasks when zooming in; the find box; the keyboard; and the
durations on nodes, ticking while a task runs; and the run's timeline tab."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from ui_pipelines import CHAINS, chain_length, ui_chains, ui_greeting, ui_loop
from ui_platform import Platform

from dagyard.compiler import compile_to_dict

pytestmark = pytest.mark.browser


def start(platform: Platform, pipeline: Any, **parameters: Any) -> str:
    response = platform.api.post(
        "/runs",
        json={
            "display_name": f"{pipeline.name}-{uuid.uuid4().hex[:8]}",
            "pipeline_spec": compile_to_dict(pipeline),
            "runtime_config": {"parameters": parameters},
        },
    )
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def succeeded(platform: Platform, pipeline: Any) -> str:
    run_id = start(platform, pipeline)
    platform.wait_for(
        lambda: platform.api.get(f"/runs/{run_id}").json()["state"] == "SUCCEEDED",
        f"{run_id} succeeded",
    )
    return run_id


@pytest.fixture(scope="module")
def chains_run(platform: Platform) -> str:
    return succeeded(platform, ui_chains)


@pytest.fixture(scope="module")
def loop_run(platform: Platform) -> str:
    return succeeded(platform, ui_loop)


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def bands(page: Page) -> Locator:
    return page.locator("[data-testid^='band:']")


def test_a_run_opens_fitted_with_chains_as_bands_in_name_order_and_zooming_in_shows_tasks(
    page: Page, platform: Platform, chains_run: str
) -> None:
    page.goto(f"/runs/{chains_run}")
    expect(bands(page)).to_have_count(CHAINS)
    graph = box(page.get_by_test_id("run-graph"))
    drawn = []
    for i in range(CHAINS):
        band = bands(page).nth(i)
        b = box(band)
        # The whole graph fits: every band is inside the graph's box.
        assert graph["x"] <= b["x"] and b["x"] + b["width"] <= graph["x"] + graph["width"]
        assert graph["y"] <= b["y"] and b["y"] + b["height"] <= graph["y"] + graph["height"]
        drawn.append((round(b["y"]), b["x"], band.get_attribute("aria-label") or ""))
    # Row by row, left to right: chain-0 ... chain-11, so chain-2 before chain-10.
    labels = [label for _, _, label in sorted(drawn)]
    for chain, label in enumerate(labels):
        last = chain_length(chain) - 1
        assert label.startswith(f"chain-{chain}-step-0 … chain-{chain}-step-{last}:"), label
        assert f"{chain_length(chain)} succeeded" in label
    expect(page.locator("[data-testid^='node-']")).to_have_count(0)

    # A band's text stays readable on screen, however far out the graph is zoomed.
    label_size = (
        bands(page)
        .first.locator(".dy-band-label")
        .evaluate("el => el.getBoundingClientRect().height")
    )
    assert label_size >= 10

    # A click on a band zooms in on it: its tasks show, the bands go.
    first = task_path(platform, chains_run, "chain-3-step-0")
    page.locator(f"[data-testid='band:{first}']").click()
    expect(page.get_by_test_id(f"node-{first}")).to_be_in_viewport()
    expect(bands(page)).to_have_count(0)


def task_path(platform: Platform, run_id: str, label: str) -> str:
    """The path of the task shown as `label` (its key is the compiler's, not the label)."""
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    path: str = next(t["path"] for t in tasks if t.get("display_name") == label)
    return path


def test_the_find_box_opens_a_task_inside_collapsed_groups(page: Page, loop_run: str) -> None:
    page.goto(f"/runs/{loop_run}")
    expect(page.get_by_test_id("node-for-loop-2")).to_be_visible()
    expect(page.get_by_test_id("node-for-loop-2/7/square")).to_have_count(0)  # collapsed

    find = page.get_by_role("combobox", name="Find a task")
    find.fill("square")
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    # From the keyboard: down to the 8th match (iteration 7's square, in natural order).
    for _ in range(7):
        find.press("ArrowDown")
    expect(options.nth(7)).to_have_attribute("aria-selected", "true")
    expect(options.nth(7)).to_contain_text("for-loop-2/7/square")
    find.press("Enter")

    square = page.get_by_test_id("node-for-loop-2/7/square")
    expect(square).to_be_in_viewport()
    expect(square).to_have_class(re.compile(r"\bdy-selected\b"))
    expect(page.get_by_test_id("task-panel")).to_contain_text("for-loop-2/7/square")
    expect(page.get_by_test_id("toggle-for-loop-2")).to_have_attribute("aria-expanded", "true")


def test_enter_and_space_open_the_focused_node(page: Page, loop_run: str) -> None:
    page.goto(f"/runs/{loop_run}")
    loop = page.get_by_test_id("node-for-loop-2")
    expect(loop).to_have_attribute("aria-expanded", "false")
    # Tab order: the find box, then the nodes in name order.
    page.get_by_role("combobox", name="Find a task").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("node-condition-3")).to_be_focused()
    page.keyboard.press("Tab")
    expect(loop).to_be_focused()
    # Visible focus: an outline drawn only when focused.
    assert loop.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    page.keyboard.press("Space")
    expect(loop).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("node-for-loop-2/#iterations")).to_be_visible()
    page.keyboard.press("Enter")
    expect(loop).to_have_attribute("aria-expanded", "false")


def test_nodes_show_how_long_tasks_ran_and_a_running_one_ticks(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    # A name of its own: no task of it is a cache hit of another test's run.
    run_id = start(platform, ui_greeting, gate=str(gate), name=uuid.uuid4().hex)
    try:
        page.goto(f"/runs/{run_id}")
        running = page.get_by_test_id("duration-greet")
        expect(running).to_have_text(re.compile(r"^\d"))
        first = running.inner_text()
        expect(running).not_to_have_text(first)  # a second later it says more
    finally:
        gate.touch()
    expect(page.get_by_test_id("node-score")).to_have_attribute("data-state", "SUCCEEDED")
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    score = next(t for t in tasks if t["path"] == "score")
    expect(page.get_by_test_id("duration-score")).to_have_text(
        expected_duration(milliseconds(score["finished_at"]) - milliseconds(score["started_at"]))
    )


def milliseconds(iso: str) -> int:
    """As the browser reads an ISO time: to the millisecond."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def expected_duration(ms: int) -> str:
    """The UI's text for a span under a minute."""
    if ms < 1000:
        return f"{ms} ms"
    return f"{ms / 1000:.1f} s" if ms < 10_000 else f"{ms / 1000:.0f} s"


def started_ms(platform: Platform, run_id: str) -> dict[str, int]:
    """When each task started, by the name the timeline shows."""
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    return {
        t.get("display_name") or t["name"]: milliseconds(t["started_at"])
        for t in tasks
        if t.get("started_at")
    }


def test_the_timeline_has_a_row_per_task_by_start_and_only_draws_the_rows_in_view(
    page: Page, platform: Platform, chains_run: str
) -> None:
    page.goto(f"/runs/{chains_run}")
    page.get_by_role("tab", name="Timeline").click()
    labels = page.locator("[data-testid^='timeline-row-']")
    expect(labels.first).to_be_visible()
    total = sum(chain_length(c) for c in range(CHAINS))
    # Rows in view (and a few more) exist; the rest are only room to scroll.
    shown = labels.count()
    assert 0 < shown < total
    starts = started_ms(platform, chains_run)
    drawn = [starts[label] for label in labels.all_inner_texts()]
    assert drawn == sorted(drawn)  # by start
    page.locator(".dy-timeline-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    last = max(starts, key=lambda name: (starts[name], name))
    expect(page.get_by_role("button", name=last, exact=True)).to_be_visible()

    # The first row's bar starts at the run's start, at the left of the bars; hovering it
    # tells its times, clicking it selects its task.
    page.locator(".dy-timeline-scroll").evaluate("el => el.scrollTo(0, 0)")
    # The rows in view are drawn again after the scroll: wait until the first one shown is
    # one of those that started first.
    platform.wait_for(
        lambda: starts[labels.first.inner_text()] == min(starts.values()),
        "the timeline's first rows are drawn again",
    )
    first = labels.first
    name = first.inner_text()
    row = box(first)
    page.mouse.move(row["x"] + row["width"] + 2, row["y"] + row["height"] / 2)
    tip = page.get_by_test_id("timeline-tip")
    expect(tip).to_contain_text(name)
    expect(tip).to_contain_text("succeeded")
    expect(tip).to_contain_text("started +0 ms")
    page.mouse.click(row["x"] + row["width"] + 2, row["y"] + row["height"] / 2)
    expect(page.get_by_test_id("task-panel")).to_contain_text(name)


def test_the_timeline_puts_a_loops_iterations_of_a_task_on_one_row(
    page: Page, loop_run: str
) -> None:
    page.goto(f"/runs/{loop_run}")
    page.get_by_role("tab", name="Timeline").click()
    row = page.get_by_test_id("timeline-row-for-loop-2/*/square")
    expect(row).to_have_text("for-loop-2/*/square (30 iterations)")
    expect(page.locator("[data-testid^='timeline-row-for-loop-2/']")).to_have_count(1)


def test_the_timeline_marks_the_critical_path(
    page: Page, platform: Platform, chains_run: str
) -> None:
    leaves = [
        t
        for t in platform.api.get(f"/runs/{chains_run}/tasks").json()["tasks"]
        if t["kind"] == "container"
    ]
    page.set_viewport_size({"width": 1440, "height": 2000})  # every row in view
    page.goto(f"/runs/{chains_run}?tab=timeline")
    line = page.get_by_test_id("critical-path")
    expect(line).to_contain_text("Critical path (outlined)")
    marked = page.locator("[data-testid^='timeline-row-'][data-critical]")
    expect(marked.first).to_be_visible()
    names = marked.all_inner_texts()
    # One chain, whole (its first task waited on nothing), the one that finished last.
    chains = {name.rsplit("-step-", 1)[0] for name in names}
    assert len(chains) == 1, names
    chain = chains.pop()
    steps = [t for t in leaves if t["display_name"].startswith(f"{chain}-step-")]
    assert sorted(names) == sorted(t["display_name"] for t in steps)
    assert max(t["finished_at"] for t in steps) == max(t["finished_at"] for t in leaves)
    expect(line).to_contain_text(f": {len(steps)} tasks,")
