"""A narrow window (800 px): the navigation folds away behind a Menu button, and a task's
panel lies over the graph (closable) instead of taking its width."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform

from dagyard.compiler import compile_to_dict

pytestmark = pytest.mark.browser

WIDTH = 800


@pytest.fixture
def narrow(browser: object, platform: Platform) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=platform.url, viewport={"width": WIDTH, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def test_a_narrow_window_keeps_the_graph_wide(narrow: Page, platform: Platform) -> None:
    created = platform.api.post(
        "/runs",
        json={
            "display_name": f"narrow-{uuid.uuid4().hex[:8]}",
            "pipeline_spec": compile_to_dict(ui_greeting),
            "runtime_config": {"parameters": {"times": 1}},
            "cache_enabled": False,  # its tasks run, and leave no cache to other tests
        },
    )
    assert created.status_code == 200, created.text
    run_id = created.json()["run_id"]
    page = narrow
    page.goto(f"/runs/{run_id}")
    graph = page.get_by_test_id("run-graph")
    expect(page.get_by_test_id("node-greet")).to_be_visible()
    nav = page.get_by_role("navigation", name="Pages")
    expect(nav).not_to_be_visible()
    before = graph.bounding_box()
    assert before is not None and before["width"] > 0.9 * WIDTH

    page.get_by_test_id("node-greet").click()
    panel = page.get_by_test_id("task-panel")
    expect(panel).to_be_visible()
    after = graph.bounding_box()
    box = panel.bounding_box()
    assert after is not None and box is not None
    assert after["width"] == before["width"]  # the panel took none of it
    # It lies over the graph, not below it.
    assert after["y"] <= box["y"] < after["y"] + after["height"]
    assert after["x"] < box["x"] and box["x"] + box["width"] <= after["x"] + after["width"]
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_have_count(0)

    page.get_by_role("button", name="Menu").click()
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Experiments").click()
    expect(page).to_have_url(f"{platform.url}/experiments")
    expect(nav).not_to_be_visible()
