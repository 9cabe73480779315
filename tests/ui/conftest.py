"""The web UI in a real browser against a real `dagyard up --demo`: the server is the
real command in a child process (API, run worker, scheduler and the built UI, SQLite in a
temporary home); the browser is Debian's Chromium driven by Playwright.

The UI must be built (`make ui`, which `make test` runs first) and Chromium installed
(`make chromium`); in CI a missing one fails the tests, elsewhere it skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_platform import Platform, missing, start_platform, stop_platform

CHROMIUM = Path(os.environ.get("DAGYARD_TEST_CHROMIUM", "/usr/bin/chromium"))
# Without the networking flags Chromium keeps trying Google's hosts, which this machine's
# closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    started = start_platform(tmp_path_factory.mktemp("ui-home"), "--demo")
    yield started
    stop_platform(started)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing(f"No Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, platform: Platform) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=platform.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"
