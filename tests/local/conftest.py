"""A `dagyard.local` session per test, in a home of its own (a temporary DAGYARD_HOME with
its own SQLite database and artifact folder), ended after the test so that the SDK's
runner hook never outlives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dagyard import local
from dagyard.service.platform import Platform
from dagyard.settings import Settings

# Settings that would send the runs elsewhere than the test's home.
_MOVED = ("DAGYARD_DATABASE_URL", "DAGYARD_ARTIFACT_ROOT", "DAGYARD_EXECUTOR", "DAGYARD_CACHE")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh home; `local.init()` called in the test uses it. The session is ended after."""
    folder = tmp_path / "home"
    monkeypatch.setenv("DAGYARD_HOME", str(folder))
    monkeypatch.setenv("DAGYARD_MAX_PARALLEL", "2")
    monkeypatch.delenv("DAGYARD_ENDPOINT", raising=False)
    for name in _MOVED:
        monkeypatch.delenv(name, raising=False)
    try:
        yield folder
    finally:
        local.shutdown()


@pytest.fixture
def session(home: Path) -> Path:
    """A session started with kfp's usual call, in the test's home."""
    local.init(runner=local.SubprocessRunner())
    return home


@pytest.fixture
def platform(home: Path) -> Iterator[Platform]:
    """The home's stores, opened as `dagyard up` or `dagyard runs` would open them."""
    opened = Platform.open(Settings.from_env())
    try:
        yield opened
    finally:
        opened.close()
