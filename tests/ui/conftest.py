"""The web UI in a real browser against a real `dagyard up --demo`: the server is the
real command in a child process (API, run worker, scheduler and the built UI, SQLite in a
temporary home); the browser is Debian's Chromium driven by Playwright.

The UI must be built (`make ui`, which `make test` runs first) and Chromium installed
(`make chromium`); in CI a missing one fails the tests, elsewhere it skips them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dagyard.server.ui import UI_DIST

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


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; `make test` prepares it.")
    pytest.skip(what)


class Platform:
    """A running `dagyard up`: its URL and home."""

    def __init__(self, url: str, home: Path, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.home = home
        self.process = process
        self.api = httpx.Client(base_url=f"{url}/apis/v2beta1", timeout=30)

    def wait_for(self, check: object, what: str, seconds: float = 120) -> object:
        deadline = time.monotonic() + seconds
        while True:
            result = check()  # type: ignore[operator]
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}")
            time.sleep(0.1)


def start_platform(home: Path, *args: str, env: dict[str, str] | None = None) -> Platform:
    """`dagyard up` with `args` on a free port over `home`, once it answers healthz."""
    if not (UI_DIST / "index.html").is_file():
        _missing(f"The web UI is not built in {UI_DIST}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).with_name("dagyard")),
        "up",
        *args,
        "--port",
        str(port),
        "--home",
        str(home),
    ]
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/apis/v2beta1/healthz", timeout=1).status_code == 200:
                return Platform(url, home, process)
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((home / "server.log").read_text())
        time.sleep(0.05)


def stop_platform(platform: Platform) -> None:
    platform.api.close()
    platform.process.terminate()
    platform.process.wait(30)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    started = start_platform(tmp_path_factory.mktemp("ui-home"), "--demo")
    yield started
    stop_platform(started)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _missing(f"No Chromium at {CHROMIUM}")
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
