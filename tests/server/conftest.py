"""A real API server for the tests: uvicorn on a free port of 127.0.0.1 in a thread,
over a platform with a real SQLite database in a temporary home; with `worker`, a
RunWorker executes the submitted runs as `dagyard up` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import Server, open_platform

from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path / "home")
    yield opened
    opened.close()


@pytest.fixture
def server(platform: Platform) -> Iterator[Server]:
    """The API alone: submitted runs stay PENDING."""
    started = Server(platform).start()
    yield started
    started.stop()


@pytest.fixture
def worker(platform: Platform) -> Iterator[RunWorker]:
    running = RunWorker(platform, poll_seconds=0.2).start()
    yield running
    running.stop(timeout=30)


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client
