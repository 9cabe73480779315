"""Fixtures of the service tests: a platform over a fresh home (SQLite, local folder,
the local executor with two slots)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagyard.service.platform import Platform
from dagyard.settings import Settings


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(
        Settings(container_runtime="off", home=tmp_path / "home", max_parallel=2)
    )
    try:
        yield opened
    finally:
        opened.close()
