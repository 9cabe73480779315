"""On a real Ray cluster, a task is held as on this machine (`ray_attempt.py` lives it
through the same lifecycle): a daemon an exec'd task leaves behind is gone once the task
has ended, and a task over its memory limit fails saying so.

The pipelines are tests/pipelines/run_daemons.py and run_limits.py, as in
tests/faults/test_task_containment.py and test_task_limits.py."""

from __future__ import annotations

import runpy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray_cluster import Cluster, ray_cluster

from dagyard.compiler import compile_to_dict
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import Task, TaskState

pytestmark = pytest.mark.slow
PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
DEADLINE = 60.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with ray_cluster({"head": {}}) as c:
        yield c


def test_a_daemon_an_execd_task_leaves_on_ray_is_killed_when_it_ends(
    ray_platform: Platform, tmp_path: Path
) -> None:
    pid_file = tmp_path / "daemon.pid"
    pipeline = runpy.run_path(str(PIPELINES / "run_daemons.py"))["execd"]
    task = _run(ray_platform, pipeline, pid_file=str(pid_file))
    assert task.state is TaskState.SUCCEEDED, task.error
    pid = int(pid_file.read_text())
    end = time.monotonic() + DEADLINE
    while not _gone(pid):
        assert time.monotonic() < end, f"the daemon {pid} outlived its task"
        time.sleep(0.02)


def test_a_task_over_its_memory_limit_on_ray_fails_saying_so(ray_platform: Platform) -> None:
    pipeline = runpy.run_path(str(PIPELINES / "run_limits.py"))["forked_64m"]
    task = _run(ray_platform, pipeline, mb=300)
    assert task.state is TaskState.FAILED
    assert task.error is not None
    assert "more than its memory limit of 64 MB (set_memory_limit)" in task.error or (
        "out of memory under its memory limit of 64 MB" in task.error
    ), task.error


def _run(platform: Platform, pipeline: Any, **parameters: Any) -> Task:
    run = runs.submit_run(platform, compile_to_dict(pipeline), parameters=parameters)
    ended = runs.drive_run(platform, run.run_id)
    (task,) = [t for t in platform.store.list_tasks(ended.run_id) if t.path]
    return task


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True
