"""What one attempt does inside its Ray task, on the worker node that runs it.

Belongs here: the worker side of `ray.py` — choosing the Python a lightweight component
runs on (building a cached virtual environment on this node if needed), starting the
attempt's command in its own session with its log file (forked from a warm zygote kept
by the Ray worker process when it is one of ours on this Python, as the local executor
does, else exec'd), waiting for it, and killing its whole process group when Ray cancels
the task; around it, the copies of `staging.py` when artifacts live in an object store.
Not here: anything about submitting or scheduling (`ray.py`). `ray` itself is imported
only to read the id of the node, inside the Ray task.

Nothing an attempt starts outlives its Ray task. A cancel, or Ray stopping the worker
process gracefully (SIGTERM, e.g. when the orchestrator that submitted the task has died
and Ray ends its job), interrupts the wait here and the attempt's group is killed, with
the grace period. If the Ray worker process is killed outright (SIGKILL, the OOM killer,
Ray's own force-kill after its grace), nothing here runs: a watchdog process
(`watchdog.py`), one per Ray worker process, sees the worker's end of its pipe close and
kills the attempt's whole group, so no orphan goes on running or writing outputs; a
forked attempt's zygote does the same when its input from the worker closes.

The result is a plain dict (exit code, error, node) so that nothing but built-in types
crosses the cluster.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO, TypedDict

from dagyard.errors import ExecutorError
from dagyard.executors.commands import python_command
from dagyard.executors.environments import EnvironmentCache, Interpreter
from dagyard.executors.forkserver import ForkServer
from dagyard.executors.staging import LogShipper, Staging, stage_in, stage_out
from dagyard.executors.watchdog import Watchdog

# How often the waiting loop runs Python code: a cancel (KeyboardInterrupt raised by Ray
# in this thread) is only seen between two waits.
_POLL = 0.05


class AttemptResult(TypedDict):
    exit_code: int | None
    error: str | None
    node: str | None


def run_attempt(
    argv: list[str],
    env: dict[str, str],
    workdir: str,
    log_path: str,
    environments_root: str | None,
    kill_grace: float,
    staging: Staging | None = None,
) -> AttemptResult:
    """Run one attempt to its end on this node; the body of the executor's Ray task.

    A cancel arrives as KeyboardInterrupt: the child's process group gets SIGTERM, then
    SIGKILL after `kill_grace` seconds, and the interrupt goes on to Ray.
    """
    node = _node_id()
    Path(workdir).mkdir(parents=True, exist_ok=True)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    shipper = None
    try:
        if staging is not None and staging.log_uri is not None:
            shipper = LogShipper(log_path, staging.log_uri, staging.log_interval)
        result = _run(argv, env, workdir, log_path, environments_root, kill_grace, staging, node)
    except ExecutorError as e:  # the log cannot be shipped
        with open(log_path, "ab", buffering=0) as log:
            return _not_started(log, str(e), node)
    finally:
        # Before the result goes back: whoever reads the log then sees all of it.
        if shipper is not None:
            shipper.close()
    return result


def _run(
    argv: list[str],
    env: dict[str, str],
    workdir: str,
    log_path: str,
    environments_root: str | None,
    kill_grace: float,
    staging: Staging | None,
    node: str | None,
) -> AttemptResult:
    with open(log_path, "ab", buffering=0) as log:
        try:
            if staging is not None:
                stage_in(staging)
            command, full_env, forkable = _prepare(argv, env, environments_root, log)
            if not command:
                raise ExecutorError("The command line is empty.")
        except ExecutorError as e:
            return _not_started(log, str(e), node)
        forked = _fork(command, full_env, workdir, log_path, kill_grace) if forkable else None
        if isinstance(forked, str):
            return _not_started(log, forked, node)
        if forked is not None:
            code = forked
        else:  # not forkable, or declined by the zygote: exec it
            spawned = _spawn(command, full_env, workdir, log)
            if isinstance(spawned, str):
                return _not_started(log, spawned, node)
            code = _wait_spawned(spawned, kill_grace)
    if code < 0:
        return {"exit_code": None, "error": f"killed by signal {-code}", "node": node}
    if code == 0 and staging is not None:
        try:
            stage_out(staging)
        except ExecutorError as e:
            with open(log_path, "ab", buffering=0) as log:
                log.write(f"dagyard: {e}\n".encode())
            return {"exit_code": None, "error": str(e), "node": node}
    return {"exit_code": code, "error": None, "node": node}


def _spawn(
    command: list[str], env: dict[str, str], workdir: str, log: BinaryIO
) -> subprocess.Popen[bytes] | str:
    """Exec the attempt, watched by this worker's watchdog; or why it could not start."""
    watchdog = _shared().watchdog()
    try:
        return watchdog.spawn(command, cwd=workdir, env=env, log=log)
    except OSError as e:
        return f"Cannot start {command[0]!r}: {e}"


def _wait_spawned(process: subprocess.Popen[bytes], kill_grace: float) -> int:
    try:
        return _wait(process)
    except BaseException:  # KeyboardInterrupt from ray.cancel, or the worker shutting down
        _kill_group(process, kill_grace)
        raise
    finally:
        # Like a container's end: nothing the attempt started outlives it.
        _signal_group(process.pid, signal.SIGKILL)
        _shared().watchdog().forget(process.pid)


def _fork(
    command: list[str], env: dict[str, str], workdir: str, log_path: str, kill_grace: float
) -> int | str | None:
    """Run a lightweight task forked from this worker's warm zygote: its exit code (as
    `Popen.returncode`), why it could not start, or None when the zygote declined it (exec
    it then). The zygote kills its tasks when this process dies (its input closes)."""
    ticket = (
        _shared()
        .fork_server()
        .submit(argv=command, env=env, cwd=Path(workdir), log_path=Path(log_path))
    )
    if ticket is None:
        return None
    while not ticket.started.wait(_POLL):  # a cancel is seen between two waits
        pass
    if ticket.declined:
        return None
    if ticket.pid is None:
        return ticket.error or "The fork server did not start it."
    try:
        while not ticket.done.wait(_POLL):
            pass
    except BaseException:  # a cancel: SIGTERM, SIGKILL after the grace period
        _signal_group(ticket.pid, signal.SIGTERM)
        if not ticket.done.wait(kill_grace):
            _signal_group(ticket.pid, signal.SIGKILL)
        raise
    # The zygote has killed the task's group already, before reaping the task.
    return ticket.code if ticket.code is not None else -signal.SIGKILL


class _Shared:
    """What the attempts of one Ray worker process share, made on first use: Ray reuses
    a worker process for task after task, so a warm zygote and one watchdog serve them
    all (a fork costs milliseconds where a fresh interpreter costs tens of them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchdog: Watchdog | None = None
        self._fork_server: ForkServer | None = None

    def watchdog(self) -> Watchdog:
        with self._lock:
            if self._watchdog is None:
                self._watchdog = Watchdog()
            return self._watchdog

    def fork_server(self) -> ForkServer:
        with self._lock:
            if self._fork_server is None:
                self._fork_server = ForkServer(sys.executable, _base_env)
            return self._fork_server


@functools.cache
def _shared() -> _Shared:
    return _Shared()


def _base_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _prepare(
    argv: list[str], env: dict[str, str], environments_root: str | None, log: BinaryIO
) -> tuple[list[str], dict[str, str], bool]:
    """The command line and environment to run (as the local executor chooses them), and
    whether the fork server may start it; builds a virtual environment on this node if
    needed."""
    full_env = {**_base_env(), **env}
    command = python_command(argv)
    if command is None:
        return list(argv), full_env, False
    interpreter = Interpreter(sys.executable)
    python = interpreter.executable
    cache = EnvironmentCache(Path(environments_root or Path.home() / ".dagyard" / "envs"))
    if command.requirements and interpreter.missing(command.requirements):
        built = cache.interpreter(
            command.requirements, command.index_urls, python=interpreter, log=log
        )
        python = str(built)
    if command.kind == "kfp":
        bin_dir = cache.bin_dir_for(python)
        full_env["PATH"] = os.pathsep.join([str(bin_dir), full_env.get("PATH", os.defpath)])
    forkable = command.kind == "dagyard" and python == interpreter.executable
    return command.argv_for(python), full_env, forkable


def _wait(process: subprocess.Popen[bytes]) -> int:
    # Not one blocking `wait()`: Ray's cancel interrupts Python code, not a system call.
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(_POLL)


def _kill_group(process: subprocess.Popen[bytes], grace: float) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while process.poll() is None and time.monotonic() < end:
        time.sleep(_POLL)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pid: int, signum: int) -> None:
    # The child leads its own session, so its group id is its pid; it may be gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _not_started(log: BinaryIO, message: str, node: str | None) -> AttemptResult:
    log.write(f"dagyard: {message}\n".encode())
    return {"exit_code": None, "error": message, "node": node}


def _node_id() -> str | None:
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id())
    except Exception:  # not inside a Ray worker (a direct call in a test)
        return None
