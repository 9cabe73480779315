"""Nothing a task starts outlives it (issue 15, point 8): a task that leaves a daemon
behind (double fork and setsid, SIGTERM ignored) through a real run with the local
executor, and the daemon is gone once the task has ended, once it was cancelled, and once
the process that ran it (`dagyard run`) was killed with SIGKILL.

Every way a task starts is tried: forked from the zygote (a lightweight component), exec'd
from a fork of the zygote (a container component's command), in a cgroup (a task with
limits) and without, and spawned without a zygote (the fork server off), which relies on
a cgroup of its own. `cgroups=False` (DAGYARD_TASK_CGROUPS=off) forces the fallbacks: the
subreapers alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from task_bounds import (
    Driven,
    gone,
    local_platform,
    pipelines,
    read_pid,
    run_to_end,
    wait_until,
)

from dagyard.store.records import RunState, TaskState

daemons = pipelines("run_daemons")
DAGYARD = Path(sys.executable).with_name("dagyard")
KINDS = ["forked", "execd", "limited"]
# (fork server, cgroups): the zygote with and without cgroups; no zygote, with cgroups.
STARTERS = [(True, True), (True, False), (False, True)]
STARTER_IDS = ["zygote-cgroups", "zygote-no-cgroups", "spawned-cgroups"]


@pytest.fixture(autouse=True)
def no_daemon_left(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Whatever failed, the test leaves no daemon running."""
    yield
    pid_file = tmp_path / "daemon.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("fork_server", "cgroups"), STARTERS, ids=STARTER_IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("end", ["ends", "is cancelled"])
def test_a_daemon_a_task_leaves_is_killed_when_the_task(
    tmp_path: Path, end: str, kind: str, fork_server: bool, cgroups: bool
) -> None:
    pid_file = tmp_path / "daemon.pid"
    pipeline = getattr(daemons, kind)
    with local_platform(tmp_path / "home", cgroups=cgroups, fork_server=fork_server) as platform:
        if end == "ends":
            task = run_to_end(platform, pipeline, pid_file=str(pid_file))
            assert task.state is TaskState.SUCCEEDED, task.error
            pid = read_pid(pid_file)
        else:
            driven = Driven(platform, pipeline, pid_file=str(pid_file), hold=True)
            pid = read_pid(pid_file)
            assert not gone(pid)
            driven.terminate()
            task = driven.task()
            assert task.state is TaskState.CANCELED, task.error
            assert driven.ended is not None and driven.ended.state is RunState.CANCELED
        wait_until(lambda: gone(pid), f"the daemon {pid} is gone once its task {end}")


@pytest.mark.parametrize("cgroups", ["auto", "off"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_daemon_a_task_leaves_is_killed_when_dagyard_run_is_killed(
    tmp_path: Path, kind: str, cgroups: str
) -> None:
    """SIGKILL leaves no time to clean up: the zygote, whose input closes, kills what it
    started; the watchdog kills and removes the task's cgroup."""
    pid_file = tmp_path / "daemon.pid"
    env = {**os.environ, "DAGYARD_HOME": str(tmp_path / "home"), "DAGYARD_TASK_CGROUPS": cgroups}
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(
            [
                str(DAGYARD),
                "run",
                str(daemons.__file__),
                "--function",
                kind,
                "-p",
                f"pid_file={pid_file}",
                "-p",
                "hold=true",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(pid_file.exists, "the task has started its daemon", log.read_text)
        pid = read_pid(pid_file)
        assert not gone(pid)
        cgroups_of_task = _dagyard_cgroups(pid)
        assert bool(cgroups_of_task) == (kind == "limited" and cgroups == "auto")
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        wait_until(lambda: gone(pid), f"the daemon {pid} dies with `dagyard run`", log.read_text)
        for folder in cgroups_of_task:
            wait_until(lambda f=folder: not f.exists(), f"the cgroup {folder} is removed")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def _dagyard_cgroups(pid: int) -> list[Path]:
    """The folders of the attempt cgroups process `pid` is in."""
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        name = path.rsplit("/", 1)[-1]
        if not name.startswith("dagyard-"):
            continue
        under = "unified" if number == "0" else controllers
        for root in (Path("/sys/fs/cgroup", under), Path("/sys/fs/cgroup")):
            if (root / path.lstrip("/")).is_dir():
                found.append(root / path.lstrip("/"))
                break
    return found
