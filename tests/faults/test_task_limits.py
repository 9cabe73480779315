"""A task's memory and CPU limits hold on this machine (issue 15, point 9), through real
runs with the local executor: a task over its memory limit fails saying so, one within it
succeeds, a memory request is not a limit, and a CPU limit of 0.5 shows in the task's
cgroup while it runs.

Both mechanisms are tried: a cgroup per limited task (where one can be made, as on the
machines these tests run on) and, with cgroups off (DAGYARD_TASK_CGROUPS=off), RLIMIT_DATA
and CPU affinity; each for a task forked from the zygote, exec'd from a fork of it, and
spawned without a zygote.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from task_bounds import Driven, local_platform, pipelines, read_pid, run_to_end

from dagyard.store.records import TaskState

limits = pipelines("run_limits")
T = TypeVar("T")
# (fork server, cgroups)
STARTERS = [(True, True), (True, False), (False, True), (False, False)]
STARTER_IDS = ["zygote-cgroups", "zygote-rlimit", "spawned-cgroups", "spawned-rlimit"]
OVER_CGROUP = "the task used more than its memory limit of 64 MB (set_memory_limit) and was killed"
OVER_RLIMIT = "the task ran out of memory under its memory limit of 64 MB (set_memory_limit"


@pytest.mark.parametrize(("fork_server", "cgroups"), STARTERS, ids=STARTER_IDS)
@pytest.mark.parametrize("pipeline", ["forked_64m", "execd_64m"])
@pytest.mark.parametrize("mb", [300, 16], ids=["over-it", "within-it"])
def test_a_task_over_its_memory_limit_fails_saying_so_and_one_within_it_succeeds(
    tmp_path: Path, mb: int, pipeline: str, fork_server: bool, cgroups: bool
) -> None:
    with local_platform(tmp_path / "home", cgroups=cgroups, fork_server=fork_server) as platform:
        task = run_to_end(platform, getattr(limits, pipeline), mb=mb)
    if mb < 64:
        assert task.state is TaskState.SUCCEEDED, task.error
        return
    assert task.state is TaskState.FAILED
    assert task.error is not None
    assert task.error.startswith(OVER_CGROUP if cgroups else OVER_RLIMIT), task.error


@pytest.mark.parametrize("cgroups", [True, False], ids=["cgroups", "rlimit"])
def test_a_memory_request_is_not_a_limit(tmp_path: Path, cgroups: bool) -> None:
    with local_platform(tmp_path / "home", cgroups=cgroups) as platform:
        task = run_to_end(platform, limits.requested_64m, mb=300)
    assert task.state is TaskState.SUCCEEDED, task.error


@pytest.mark.parametrize("fork_server", [True, False], ids=["zygote", "spawned"])
def test_a_cpu_limit_of_half_a_cpu_is_the_quota_of_the_tasks_cgroup(
    tmp_path: Path, fork_server: bool
) -> None:
    quota = _while_half_cpu_task_runs(tmp_path, _cpu_quota, cgroups=True, fork_server=fork_server)
    assert quota == (50_000, 100_000)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to restrict to one")
@pytest.mark.parametrize("fork_server", [True, False], ids=["zygote", "spawned"])
def test_without_cgroups_a_cpu_limit_of_half_a_cpu_runs_the_task_on_one_cpu(
    tmp_path: Path, fork_server: bool
) -> None:
    cpus = _while_half_cpu_task_runs(
        tmp_path, os.sched_getaffinity, cgroups=False, fork_server=fork_server
    )
    assert len(cpus) == 1


def _while_half_cpu_task_runs(
    tmp_path: Path, look: Callable[[int], T], *, cgroups: bool, fork_server: bool
) -> T:
    """`look(pid)` at the task of `half_cpu` while it runs; the task then succeeds."""
    pid_file, release = tmp_path / "task.pid", tmp_path / "release"
    with local_platform(tmp_path / "home", cgroups=cgroups, fork_server=fork_server) as platform:
        driven = Driven(
            platform, limits.half_cpu, pid_file=str(pid_file), release_file=str(release)
        )
        try:
            seen = look(read_pid(pid_file))
        finally:
            release.touch()
        assert driven.task().state is TaskState.SUCCEEDED
    return seen


def _cpu_quota(pid: int) -> tuple[int, int]:
    """The CPU quota and period (µs) of the cgroup process `pid` is in."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):  # v1
            folder = Path("/sys/fs/cgroup", controllers, path.lstrip("/"))
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            return quota, int((folder / "cpu.cfs_period_us").read_text())
        if number == "0":
            folder = Path("/sys/fs/cgroup", path.lstrip("/"))
            if (folder / "cpu.max").exists():
                quota_text, period_text = (folder / "cpu.max").read_text().split()
                return int(quota_text), int(period_text)
    raise AssertionError(f"process {pid} is in no cgroup with a CPU quota")
