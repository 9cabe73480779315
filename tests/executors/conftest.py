"""Fixtures shared by the executor tests. `ray_platform` needs the test module's own
`cluster` fixture (each module starts the Ray cluster its tests need)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import Cluster

from dagyard.service.platform import Platform
from dagyard.settings import Settings


@pytest.fixture
def ray_platform(cluster: Cluster, tmp_path: Path) -> Iterator[Platform]:
    """A platform on SQLite in a temporary home whose executor is the module's cluster."""
    settings = Settings(
        container_runtime="off", home=tmp_path / "home", executor="ray", ray_address=cluster.address
    )
    opened = Platform.open(settings)
    try:
        yield opened
    finally:
        opened.close()
