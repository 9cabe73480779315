"""What the scheduler tests share besides fixtures: a clock the test sets, and a platform
opened on a given database (test modules import from here, never from conftest)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dagyard.service.platform import Platform
from dagyard.settings import Settings


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def open_platform(home: Path, url: str) -> Platform:
    return Platform.open(
        Settings(container_runtime="off", home=home, database_url=url, max_parallel=1)
    )
