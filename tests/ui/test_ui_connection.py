"""The UI while its server is away: the real `dagyard up` is stopped under an open page
and started again on the same port. Meanwhile every page says the connection is lost and
since when, the buttons that change things are disabled saying why, and a live task's
log no longer claims to be followed; all of it goes once the server answers again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform, start_platform, stop_platform

from dagyard.compiler import compile_to_dict

pytestmark = pytest.mark.browser


@pytest.fixture
def own(tmp_path: Path) -> Iterator[list[Platform]]:
    """A server of this test's own (stopped and restarted by it): the running one last."""
    started = [start_platform(tmp_path)]
    yield started
    stop_platform(started[-1])


@pytest.fixture
def fresh(browser: object, own: list[Platform]) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=own[0].url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def test_a_lost_server_disables_changes_until_it_answers_again(
    fresh: Page, own: list[Platform], tmp_path: Path
) -> None:
    platform = own[0]
    gate = tmp_path / "gate"
    created = platform.api.post(
        "/runs",
        json={
            "display_name": "while-away",
            "pipeline_spec": compile_to_dict(ui_greeting),
            "runtime_config": {"parameters": {"gate": str(gate)}},
        },
    )
    assert created.status_code == 200, created.text
    run_id = created.json()["run_id"]
    page = fresh
    page.goto(f"/runs/{run_id}")
    greet = page.get_by_test_id("node-greet")
    expect(greet).to_have_attribute("data-state", "RUNNING")
    greet.click()
    page.get_by_test_id("task-panel").get_by_role("tab", name="Logs").click()
    log = page.locator(".dy-log .dy-toolbar")
    expect(log).to_contain_text("following…")
    archive = page.get_by_role("button", name="Archive")
    terminate = page.get_by_role("button", name="Terminate")
    expect(archive).to_be_enabled()
    banner = page.get_by_test_id("connection-lost")
    expect(banner).to_have_count(0)

    stop_platform(platform)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("last updated at")
    for button in (archive, terminate, page.get_by_role("button", name="Clone")):
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", re.compile("server cannot be reached"))
    expect(log).to_contain_text("not following")
    # Another page, opened from the navigation, says so too.
    page.get_by_role("link", name="Experiments").click()
    expect(banner).to_be_visible()
    expect(page.get_by_role("button", name="Create experiment")).to_be_disabled()
    page.go_back()

    port = urlparse(platform.url).port
    assert port is not None
    own.append(start_platform(platform.home, port=port))
    expect(banner).to_have_count(0)
    expect(archive).to_be_enabled()
    expect(terminate).to_be_enabled()
    gate.touch()
    score = page.get_by_test_id("node-score")
    expect(score).to_have_attribute("data-state", "SUCCEEDED", timeout=60_000)
