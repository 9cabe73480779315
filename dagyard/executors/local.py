"""The local executor: each attempt is a child process on this machine.

Belongs here: starting, watching and stopping child processes, and choosing the Python a
lightweight component runs on (through `commands.py` and `environments.py`). Not here:
anything about pipelines, placeholders or outputs (the engine's), or a concurrency limit
(the engine keeps at most `capacity` attempts running).

- A child runs in its own session (so its own process group) with cwd = the launch's
  workdir, env = this process's environment + PYTHONUNBUFFERED=1 + the launch's env, and
  stdout and stderr merged straight into the launch's log file as they are written.
- Like a container, an attempt is its whole process group: when the first process exits,
  whatever it left running in its group is killed. `cancel` sends SIGTERM to the group,
  then SIGKILL after `kill_grace` seconds.
- One thread per attempt prepares it (which may build a virtual environment), starts it
  and blocks in `waitpid`; `wait` sleeps on a condition that those threads notify, so it
  returns as soon as a child exits, without polling.
- Lightweight Python components run without installing anything per task: on `python`
  when it has their packages, else in a virtual environment built once per package set.
  Every other command (container components, shell commands) runs as it is on the host:
  there is no container runtime here. Where Docker or Podman exists, a container runner
  would take those commands instead, keyed by `Launch.image`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Collection
from typing import BinaryIO

from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.executors.commands import python_command
from dagyard.executors.environments import EnvironmentCache, Interpreter


@dataclasses.dataclass(eq=False)
class _Attempt:
    launch: Launch
    thread: threading.Thread | None = None
    # Guards the fields below between the attempt's thread and `cancel`.
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    process: subprocess.Popen[bytes] | None = None
    cancelled: bool = False
    exited: bool = False
    killer: threading.Timer | None = None


class LocalExecutor(Executor):
    """Runs attempts as child processes of this one.

    `max_workers` is not enforced here; it is reported as `capacity` (default: the number
    of CPUs) for the engine to limit how many attempts it keeps running. `environments`
    caches virtual environments (default: `<DAGYARD_HOME>/envs`, created on first need);
    `python` is the interpreter lightweight components run on when it has their packages.
    """

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        environments: EnvironmentCache | None = None,
        python: str = sys.executable,
        kill_grace: float = 5.0,
    ) -> None:
        resolved = shutil.which(python) if os.sep not in python else python
        if not resolved:
            raise ExecutorError(f"Python interpreter {python!r} not found; give its full path.")
        self._interpreter = Interpreter(resolved)
        self._environments = environments
        self._capacity = max_workers or os.cpu_count() or 1
        self._kill_grace = kill_grace
        self._node = socket.gethostname()
        self._handles = itertools.count(1)
        self._attempts: dict[str, _Attempt] = {}
        self._done: dict[str, Outcome] = {}
        self._changed = threading.Condition()
        self._closed = False

    @property
    def capacity(self) -> int:
        """How many attempts this machine should run at once."""
        return self._capacity

    @property
    def interpreter(self) -> Interpreter:
        """The Python lightweight components run on when it has their packages."""
        return self._interpreter

    def environments(self) -> EnvironmentCache:
        """The virtual-environment cache (the default one is made on first use)."""
        if self._environments is None:
            from dagyard.settings import Settings

            self._environments = EnvironmentCache(Settings.from_env().environments_root)
        return self._environments

    def submit(self, launch: Launch) -> str:
        attempt = _Attempt(launch)
        with self._changed:
            if self._closed:
                raise ExecutorError("This LocalExecutor is closed; open a new one to run tasks.")
            handle = f"local-{next(self._handles)}"
            self._attempts[handle] = attempt
        attempt.thread = threading.Thread(
            target=self._run, args=(handle, attempt), name=f"dagyard-{handle}", daemon=True
        )
        attempt.thread.start()
        return handle

    def wait(self, handles: Collection[str], timeout: float | None) -> dict[str, Outcome]:
        wanted = list(dict.fromkeys(handles))
        if not wanted:
            return {}
        with self._changed:
            unknown = [h for h in wanted if h not in self._attempts]
            if unknown:
                raise KeyError(
                    f"Handles {unknown} are not running on this executor: never submitted, "
                    "or already reported by wait()."
                )
            self._changed.wait_for(lambda: any(h in self._done for h in wanted), timeout)
            finished = {h: self._done.pop(h) for h in wanted if h in self._done}
            for handle in finished:
                del self._attempts[handle]
        return finished

    def cancel(self, handle: str) -> None:
        with self._changed:
            attempt = self._attempts.get(handle)
            if attempt is None or handle in self._done:
                return
        with attempt.lock:
            if attempt.cancelled or attempt.exited:
                return
            attempt.cancelled = True
            process = attempt.process
            if process is not None:
                _signal_group(process.pid, signal.SIGTERM)
                attempt.killer = threading.Timer(
                    self._kill_grace, _signal_group, (process.pid, signal.SIGKILL)
                )
                attempt.killer.daemon = True
                attempt.killer.start()
        if process is None:  # still preparing: it will not start
            self._finish(handle, Outcome(None, "cancelled before it started", self._node))

    def close(self) -> None:
        with self._changed:
            self._closed = True
            attempts = list(self._attempts.items())
        for handle, _ in attempts:
            self.cancel(handle)
        for _, attempt in attempts:
            # Threads still building an environment finish it (it is shared) on their own.
            if attempt.process is not None and attempt.thread is not None:
                attempt.thread.join(self._kill_grace + 5)

    # The attempt's thread

    def _run(self, handle: str, attempt: _Attempt) -> None:
        launch = attempt.launch
        try:
            launch.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(launch.log_path, "ab", buffering=0)  # noqa: SIM115 - closed below
        except OSError as e:
            self._finish(handle, self._outcome(None, f"Cannot open the log file: {e}"))
            return
        with log:
            process = self._start(handle, attempt, log)
        if process is None:
            return
        code = process.wait()
        # Like a container's end: nothing the attempt started outlives it.
        _signal_group(process.pid, signal.SIGKILL)
        with attempt.lock:
            attempt.exited = True
            if attempt.killer is not None:
                attempt.killer.cancel()
            cancelled = attempt.cancelled
        detail = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        if cancelled:
            outcome = self._outcome(None, f"cancelled ({detail})")
        elif code < 0:
            outcome = self._outcome(None, detail)
        else:
            outcome = self._outcome(code)
        self._finish(handle, outcome)

    def _start(
        self, handle: str, attempt: _Attempt, log: BinaryIO
    ) -> subprocess.Popen[bytes] | None:
        launch = attempt.launch
        try:
            argv, env = self._prepare(launch, log)
        except ExecutorError as e:
            log.write(f"dagyard: {e}\n".encode())
            self._finish(handle, self._outcome(None, str(e)))
            return None
        with attempt.lock:
            if attempt.cancelled:
                return None  # `cancel` has reported it
            try:
                if not argv:
                    raise ExecutorError("The command line is empty.")
                attempt.process = subprocess.Popen(
                    argv,
                    cwd=launch.workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except (OSError, ExecutorError) as e:
                message = f"Cannot start {argv[0]!r}: {e}" if argv else str(e)
                log.write(f"dagyard: {message}\n".encode())
                self._finish(handle, self._outcome(None, message))
                return None
            return attempt.process

    def _prepare(self, launch: Launch, log: BinaryIO) -> tuple[list[str], dict[str, str]]:
        """The command line and environment to run; builds a virtual environment if needed."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **launch.env}
        command = python_command(launch.argv)
        if command is None:
            return list(launch.argv), env
        python = self._interpreter.executable
        if command.requirements and self._interpreter.missing(command.requirements):
            built = self.environments().interpreter(
                command.requirements, command.index_urls, python=self._interpreter, log=log
            )
            python = str(built)
        if command.kind == "kfp":
            bin_dir = self.environments().bin_dir_for(python)
            env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)])
        return command.argv_for(python), env

    def _outcome(self, exit_code: int | None, error: str | None = None) -> Outcome:
        return Outcome(exit_code=exit_code, error=error, node=self._node)

    def _finish(self, handle: str, outcome: Outcome) -> None:
        with self._changed:
            if handle in self._attempts and handle not in self._done:
                self._done[handle] = outcome
                self._changed.notify_all()


def _signal_group(pid: int, signum: int) -> None:
    # The child is a session leader, so its process group id is its pid; the group may be
    # gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
