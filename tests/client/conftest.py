"""A real Dagyard server for the client tests: uvicorn on a free loopback port in a
thread, a real SQLite database in a temporary home, and (with `worker`) a RunWorker
executing submitted runs. The server itself is tests/server's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from api_server import Server, open_platform

from dagyard.client import Client
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
def client(server: Server) -> Iterator[Client]:
    with Client(host=server.url) as opened:
        yield opened
