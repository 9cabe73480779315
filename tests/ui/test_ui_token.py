"""A server with an API token: the UI asks for it once, refuses a wrong one, and keeps
the right one for the browser session. Its own `dagyard up` with DAGYARD_AUTH_TOKEN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from ui_platform import Platform, start_platform, stop_platform

pytestmark = pytest.mark.browser

TOKEN = "s3cret-token-for-the-ui"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Platform]:
    started = start_platform(tmp_path, env={"DAGYARD_AUTH_TOKEN": TOKEN})
    yield started
    stop_platform(started)


def test_the_ui_asks_for_the_token_once(browser: object, guarded: Platform) -> None:
    assert isinstance(browser, Browser)
    made = guarded.api.post(
        "/experiments",
        json={"display_name": "guarded"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert made.status_code == 200, made.text
    context = browser.new_context(base_url=guarded.url)
    page = context.new_page()
    page.goto("/experiments")
    prompt = page.get_by_role("form", name="API token")
    expect(prompt).to_be_visible()

    prompt.locator("input[name=token]").fill("wrong")
    prompt.get_by_role("button", name="Use token").click()
    expect(prompt).to_contain_text("was refused")

    prompt.locator("input[name=token]").fill(TOKEN)
    prompt.get_by_role("button", name="Use token").click()
    expect(prompt).to_have_count(0)
    expect(page.get_by_role("link", name="guarded")).to_be_visible()  # the API answered

    page.reload()  # kept for the session: no second prompt
    expect(page.get_by_test_id("experiments-table")).to_be_visible()
    expect(page.get_by_role("form", name="API token")).to_have_count(0)
    context.close()
