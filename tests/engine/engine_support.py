"""A real platform per test: SQLite in a temporary home, the local executor (real child
processes) and a local artifact folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagyard.compiler import compile_to_dict
from dagyard.dsl import GraphComponent
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, Task


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(
        Settings(container_runtime="off", home=tmp_path / "home", max_parallel=4)
    )
    try:
        yield opened
    finally:
        opened.close()


class Ran:
    """A finished run and its tasks, looked up by path."""

    def __init__(self, platform: Platform, run: Run) -> None:
        self.run = run
        self.tasks: dict[str, Task] = {t.path: t for t in platform.store.list_tasks(run.run_id)}

    def __getitem__(self, path: str) -> Task:
        return self.tasks[path]


def run_pipeline(
    platform: Platform, pipeline: GraphComponent | dict[str, Any], **parameters: Any
) -> Ran:
    spec = pipeline if isinstance(pipeline, dict) else compile_to_dict(pipeline)
    run = runs.submit_run(platform, spec, parameters=parameters)
    return Ran(platform, runs.drive_run(platform, run.run_id))
