"""Helpers of the task containment and limit tests: a real platform whose local executor
is chosen (zygote or not, cgroups or not), real runs of the pipelines in
tests/pipelines/run_daemons.py and run_limits.py, and processes looked up in /proc."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from dagyard.compiler import compile_to_dict
from dagyard.dsl import GraphComponent
from dagyard.executors.environments import EnvironmentCache
from dagyard.executors.local import LocalExecutor
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.records import Run, Task
from dagyard.store.sql import SqlMetadataStore

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
DEADLINE = 60.0


def pipelines(name: str) -> ModuleType:
    """The module tests/pipelines/<name>.py."""
    spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def local_platform(home: Path, *, cgroups: bool, fork_server: bool = True) -> Iterator[Platform]:
    """A platform on SQLite in `home` whose local executor starts tasks from its zygote
    (`fork_server`) or spawns them, and makes cgroups where it can (`cgroups`)."""
    settings = Settings(container_runtime="off", home=home, task_cgroups=cgroups)
    home.mkdir(parents=True, exist_ok=True)
    executor = LocalExecutor(
        environments=EnvironmentCache(settings.environments_root),
        fork_server=fork_server,
        cgroups=cgroups,
        kill_grace=1.0,
    )
    platform = Platform(
        settings=settings,
        store=SqlMetadataStore(settings.database_url),
        artifacts=ArtifactStore(settings.artifact_root),
        executor=executor,
    )
    try:
        yield platform
    finally:
        platform.close()


def run_to_end(platform: Platform, pipeline: GraphComponent, **parameters: Any) -> Task:
    """Run `pipeline` (one task) to its end; its task."""
    run = runs.submit_run(platform, compile_to_dict(pipeline), parameters=parameters)
    return only_task(platform, runs.drive_run(platform, run.run_id))


class Driven:
    """A run driven in a thread of this process, so that the test can act while it runs."""

    def __init__(self, platform: Platform, pipeline: GraphComponent, **parameters: Any) -> None:
        self.platform = platform
        self.run = runs.submit_run(platform, compile_to_dict(pipeline), parameters=parameters)
        self.ended: Run | None = None
        self._thread = threading.Thread(target=self._drive, daemon=True)
        self._thread.start()

    def _drive(self) -> None:
        self.ended = runs.drive_run(self.platform, self.run.run_id)

    def terminate(self) -> None:
        runs.terminate_run(self.platform, self.run.run_id)

    def task(self) -> Task:
        """Its task, once the run has ended."""
        self._thread.join(DEADLINE)
        assert self.ended is not None, "the run did not end in time"
        return only_task(self.platform, self.ended)


def only_task(platform: Platform, run: Run) -> Task:
    tasks = [t for t in platform.store.list_tasks(run.run_id) if t.path]
    assert len(tasks) == 1, tasks
    return tasks[0]


def wait_until(condition: Callable[[], bool], what: str, why: Callable[[], str] = str) -> None:
    """Wait (up to DEADLINE) until `condition()`; else fail saying `what`, and `why()`."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting until {what}\n{why()}")
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie, or no such process)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:  # ESRCH, also while /proc is read as it exits
        return True
    return state in ("Z", "X")


def read_pid(path: Path) -> int:
    wait_until(path.exists, f"{path} is written")
    return int(path.read_text())
