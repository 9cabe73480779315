"""Fixtures of the scheduler tests: a platform on a fresh database of each backend (the
store tests' backends), a small pipeline, and a clock the test sets."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))

from scheduler_support import Clock, open_platform
from store_backends import Backend, server_or_skip

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service.platform import Platform

BACKENDS: dict[str, tuple[str, str] | None] = {
    "sqlite": None,
    "postgresql": (
        os.environ.get(
            "DAGYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        "DAGYARD_TEST_POSTGRES_URL",
    ),
    "mysql": (
        os.environ.get("DAGYARD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
        "DAGYARD_TEST_MYSQL_URL",
    ),
}


@dsl.component
def greet(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline
def greeting(name: str = "world") -> None:
    greet(name=name)


@pytest.fixture(scope="session")
def pipeline_spec() -> dict[str, Any]:
    return compile_to_dict(greeting)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="session")
def scheduler_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    made: dict[str, Backend] = {}

    def backend(name: str) -> Backend:
        if name not in made:
            server = None if BACKENDS[name] is None else server_or_skip(*BACKENDS[name])
            made[name] = Backend(name, tmp_path_factory.mktemp(name), server)
        return made[name]

    yield {"get": backend}
    for each in made.values():
        each.close()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path, f"sqlite:///{tmp_path / 'dagyard.db'}")
    yield opened
    opened.close()
