"""Attempts do not outlive an orchestrator killed with SIGKILL: a real `dagyard worker`
(the local executor) is killed while a task runs, and the task's process group, its
first process and a process it started, dies with it (the watchdog of `watchdog.py`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.executors import watchdog
from dagyard.executors.watchdog import Watchdog
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings

DAGYARD = Path(sys.executable).with_name("dagyard")
DEADLINE = 60.0


@dsl.container_component
def hold(pids: str):  # type: ignore[no-untyped-def]
    # Exec'd, not forked (a command line, not a lightweight component): the shell and a
    # process it started, both in the attempt's group, note their pids and wait.
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'sleep 600 & echo "$$ $!" > "$0"; wait'],
        args=[pids],
    )


@dsl.pipeline
def held(pids: str) -> None:
    hold(pids=pids).set_caching_options(False)


def start_time(pid: int) -> str | None:
    """When process `pid` started (to tell it from a later one with its pid), or None
    once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def wait_until(condition: Callable[[], bool], what: str, log: Path) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting until {what}\n{log.read_text()}")
        time.sleep(0.02)


def test_a_killed_orchestrators_exec_d_task_dies_with_it(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    settings = Settings(
        container_runtime="off", home=tmp_path / "client", artifact_root=str(tmp_path / "artifacts")
    )
    client = Platform.open(settings)
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DAGYARD_HOME": str(tmp_path / "worker"),
        "DAGYARD_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
    }
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [str(DAGYARD), "worker", "--database-url", settings.database_url],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    processes: dict[int, str | None] = {}
    try:
        runs.submit_run(client, compile_to_dict(held), parameters={"pids": str(pids)})
        wait_until(
            lambda: len(pids.read_text().split()) == 2 if pids.exists() else False,
            "the task runs",
            log,
        )
        processes = {int(pid): start_time(int(pid)) for pid in pids.read_text().split()}
        assert None not in processes.values()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        wait_until(
            lambda: all(start_time(pid) != born for pid, born in processes.items()),
            f"the task's processes {list(processes)} die with the orchestrator",
            log,
        )
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pid, born in processes.items():  # whatever failed, leave nothing running
            if start_time(pid) == born:
                os.kill(pid, signal.SIGKILL)
        client.close()


def test_closing_the_watchdog_kills_the_groups_it_still_watches() -> None:
    watched, forgotten = (
        subprocess.Popen(["sleep", "600"], start_new_session=True) for _ in range(2)
    )
    watchdog = Watchdog()
    try:
        watchdog.watch(watched.pid)
        watchdog.watch(forgotten.pid)
        watchdog.forget(forgotten.pid)
        watchdog.close()
        assert watched.wait(timeout=DEADLINE) == -signal.SIGKILL
        assert forgotten.poll() is None
    finally:
        for process in (watched, forgotten):
            process.kill()
            process.wait()


def test_an_attempt_whose_starter_dies_before_its_gate_opens_never_runs(tmp_path: Path) -> None:
    """`Watchdog.spawn` holds the attempt at a gate until its group is watched: if the
    starter dies before it opens the gate (its end of the pipe closes), nothing runs."""
    ran = tmp_path / "ran"
    held = subprocess.Popen(
        [watchdog._SH, "-c", watchdog._GATE, "dagyard-gate", "-u", "PWD", "--", "touch", str(ran)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    assert held.stdin is not None
    held.stdin.close()  # as the kernel does for a starter killed with SIGKILL
    assert held.wait(timeout=30) == 111
    assert not ran.exists()


def test_a_spawned_attempt_runs_as_itself_once_watched(tmp_path: Path) -> None:
    """Through the gate, the command replaces the gate's shell: same pid and group, its
    own exit code, the environment it was given (PWD included), stdin from /dev/null."""
    guard = Watchdog()
    env = {**os.environ, "PWD": "/given", "DAGYARD_X": "1"}
    code = (
        "import json, os, sys\n"
        "print(json.dumps([os.getpid(), os.getpgid(0), os.environ['PWD'], sys.stdin.read()]))\n"
        "sys.exit(7)\n"
    )
    try:
        with open(tmp_path / "log", "wb") as log:
            process = guard.spawn([sys.executable, "-c", code], cwd=tmp_path, env=env, log=log)
            assert process.wait(timeout=30) == 7
        pid, group, pwd, stdin = json.loads((tmp_path / "log").read_text())
        assert pid == group == process.pid
        assert (pwd, stdin) == ("/given", "")
        with pytest.raises(FileNotFoundError):
            guard.spawn(["dagyard-no-such-program-xyz"], cwd=tmp_path, env=env, log=log)
    finally:
        guard.close()
