"""What a run's page and the lists show is kept in the address: the selected task, the
run's tab, the task panel's tab, the graph's expanded groups, and a list's filters, sort
and page. Back and Forward move through them, and the address opened anew shows the same
view. A failed run opens on its first failed task, its traceback's lines kept."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from ui_pipelines import ui_cubes, ui_failing_loop, ui_greeting
from ui_platform import Platform, submit_run, wait_state

pytestmark = pytest.mark.browser


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_a_failed_run_opens_on_its_first_failed_task_with_its_traceback(
    page: Page, platform: Platform
) -> None:
    run_id = submit_run(platform, ui_failing_loop, f"failing-{uuid.uuid4().hex[:8]}", cache=False)
    wait_state(platform, run_id, "FAILED")
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    failed = next(t for t in tasks if t["state"] == "FAILED" and t["kind"] == "container")
    loop, iteration, _ = failed["path"].split("/")

    page.goto(f"/runs/{run_id}")
    panel = page.get_by_test_id("task-panel")
    expect(panel).to_have_attribute("aria-label", f"Task {failed['path']}")
    expect(panel.get_by_role("tab", name="Logs")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("task-log")).to_contain_text("item 2 is bad")
    # Its loop and its iteration are expanded to show it.
    expect(page.get_by_test_id(f"node-{failed['path']}")).to_have_attribute("data-state", "FAILED")
    shown = query(page)
    assert shown["task"] == [failed["task_id"]]
    assert shown["expand"] == [loop, f"{loop}/{iteration}"]

    panel.get_by_role("tab", name="Details").click()
    error = panel.locator(".dy-error-text")
    expect(error).to_contain_text("ValueError: item 2 is bad")
    lines = error.inner_text().splitlines()
    assert "ValueError: item 2 is bad" in [line.strip() for line in lines]
    assert any(line.startswith("Traceback") for line in lines)
    page.get_by_role("tab", name="Run details").click()
    history = page.locator(".dy-details table .dy-lines", has_text="item 2 is bad")
    assert any(line.startswith("Traceback") for line in history.inner_text().splitlines())


def test_the_run_pages_view_is_in_the_address_and_back_returns_to_it(
    page: Page, platform: Platform
) -> None:
    name = f"viewed-{uuid.uuid4().hex[:8]}"
    run_id = submit_run(platform, ui_greeting, name, times=1, cache=False)
    wait_state(platform, run_id, "SUCCEEDED")
    page.goto(f"/runs/{run_id}")
    panel = page.get_by_test_id("task-panel")
    expect(page.get_by_test_id("node-greet")).to_be_visible()
    expect(panel).to_have_count(0)  # a run that did not fail opens on nothing

    page.get_by_test_id("node-greet").click()
    expect(panel).to_have_attribute("aria-label", "Task greet")
    panel.get_by_role("tab", name="Logs").click()
    expect(page.get_by_test_id("task-log")).to_contain_text("hello world #1")
    page.get_by_test_id("node-score").click()
    expect(panel).to_have_attribute("aria-label", "Task score")
    expect(panel.get_by_role("tab", name="Inputs / outputs")).to_have_attribute(
        "aria-selected", "true"
    )
    page.get_by_role("tab", name="Run details").click()
    expect(page.locator(".dy-details")).to_be_visible()
    link = page.url
    assert query(page)["tab"] == ["details"]

    page.go_back()  # the graph, with score's panel
    expect(panel).to_have_attribute("aria-label", "Task score")
    page.go_back()  # greet's panel on its log
    expect(panel).to_have_attribute("aria-label", "Task greet")
    expect(panel.get_by_role("tab", name="Logs")).to_have_attribute("aria-selected", "true")
    page.go_forward()
    page.go_forward()
    expect(page.locator(".dy-details")).to_be_visible()

    page.goto(f"/runs/{run_id}")  # another visit, then the copied link
    expect(panel).to_have_count(0)
    page.goto(link)
    expect(page.get_by_role("tab", name="Run details")).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="Graph").click()
    expect(panel).to_have_attribute("aria-label", "Task score")
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_have_count(0)
    assert "task" not in query(page)
    page.go_back()
    expect(panel).to_have_attribute("aria-label", "Task score")


def test_a_loops_expanded_groups_are_in_the_address(page: Page, platform: Platform) -> None:
    run_id = submit_run(platform, ui_cubes, f"expanded-{uuid.uuid4().hex[:8]}", cache=False)
    wait_state(platform, run_id, "SUCCEEDED")
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    loop = next(t for t in tasks if t["kind"] == "loop")["path"]
    leaf = f"{loop}/7/cube"
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_test_id(f"node-{loop}")).to_be_visible()
    page.get_by_role("button", name=f"Expand {loop}").click()
    iterations = page.get_by_test_id(f"node-{loop}/#iterations")
    expect(iterations).to_be_visible()
    assert query(page)["expand"] == [loop]
    page.get_by_test_id(f"toggle-{loop}/7").click()
    expect(page.get_by_test_id(f"node-{leaf}")).to_be_visible()
    assert query(page)["expand"] == [loop, f"{loop}/7"]
    page.reload()
    expect(page.get_by_test_id(f"node-{leaf}")).to_be_visible()
    page.go_back()
    expect(page.get_by_test_id(f"node-{leaf}")).to_have_count(0)
    expect(iterations).to_be_visible()
    page.go_back()
    expect(iterations).to_have_count(0)


def test_the_runs_lists_filters_sort_and_page_are_in_the_address(
    page: Page, platform: Platform
) -> None:
    prefix = f"addressed-{uuid.uuid4().hex[:8]}"
    ids = [
        submit_run(platform, ui_greeting, f"{prefix}-{i:02d}", times=1, cache=False)
        for i in range(27)
    ]
    rows = page.get_by_test_id("runs-table").locator("tbody tr[data-testid^=run-row-]")
    page.goto("/runs")
    page.get_by_role("searchbox", name="Filter by name").fill(prefix)
    expect(rows).to_have_count(25)
    page.get_by_role("button", name=re.compile("^Name")).click()  # a to z
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{ids[0]}")
    page.get_by_role("button", name="Next \u203a").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{ids[25]}")
    shown = query(page)
    assert shown["q"] == [prefix] and shown["sort"] == ["display_name"] and "page" in shown

    link = page.url
    page.go_back()  # the first page
    expect(rows).to_have_count(25)
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{ids[0]}")
    page.go_back()  # newest first again
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{ids[26]}")
    expect(page.get_by_role("searchbox", name="Filter by name")).to_have_value(prefix)
    page.go_back()  # no filter
    expect(page.get_by_role("searchbox", name="Filter by name")).to_have_value("")
    page.goto(link)
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{ids[25]}")
    expect(page.get_by_text("page 2 of 2", exact=True)).to_be_visible()
