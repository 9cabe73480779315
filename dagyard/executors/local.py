"""The local executor: each attempt is a child process on this machine.

Belongs here: starting, watching and stopping child processes, and choosing the Python a
lightweight component runs on (through `commands.py` and `environments.py`). Not here:
anything about pipelines, placeholders or outputs (the engine's), or a machine-wide
concurrency limit (the engine keeps at most `capacity` attempts of a run going).

- Slots (`Launch.slots`): at most that many attempts of one run run at once. The engine
  submits a few attempts ahead of free slots; each waits in its thread and starts the
  moment another of its run ends, so a slot is not left empty while the engine records
  the end and decides what comes next. An attempt held for more than
  `hold_reported_after` seconds is reported by `waiting` (its task shows PENDING).

- A child runs in its own session (so its own process group) with cwd = the launch's
  workdir, env = this process's environment + PYTHONUNBUFFERED=1 + the launch's env, and
  stdout and stderr merged straight into the launch's log file as they are written.
- Like a container, an attempt is its whole process group: when the first process exits,
  whatever it left running in its group is killed. `cancel` sends SIGTERM to the group,
  then SIGKILL after `kill_grace` seconds.
- Nothing an attempt starts outlives this process either, even killed with SIGKILL: a
  watchdog process (`watchdog.py`, started with the first exec'd attempt) kills the
  groups of exec'd attempts still running when this process dies; the zygote does the
  same for forked ones when its input closes.
- One thread per attempt prepares it (which may build a virtual environment), starts it
  and blocks in `waitpid`; `wait` sleeps on a condition that those threads notify, so it
  returns as soon as a child exits, without polling. Threads are daemons, kept for the
  next attempt once theirs ends (starting a thread costs more than a trivial task's
  bookkeeping).
- Lightweight Python components run without installing anything per task: on `python`
  when it has their packages, else in a virtual environment built once per package set.
  Ours, on `python` itself, are forked from a warm zygote (`forkserver.py`) rather than
  exec'd, unless `fork_server=False`: same outcome, ~40 ms less per task. The attempt's
  thread then waits for the zygote's report instead of in `waitpid`.
  Every other command (container components, shell commands) runs as it is on the host:
  there is no container runtime here. Where Docker or Podman exists, a container runner
  would take those commands instead, keyed by `Launch.image`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
import queue
import shutil
import signal
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Collection
from typing import BinaryIO

from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.executors.commands import python_command
from dagyard.executors.containers import container_argv
from dagyard.executors.environments import EnvironmentCache, Interpreter
from dagyard.executors.forkserver import ForkServer
from dagyard.executors.staging import LogShipper, Staging, stage_in, stage_out
from dagyard.executors.watchdog import Watchdog

# What an attempt's thread waits on once it runs: the exit code as `Popen.returncode` has
# it (-N: killed by signal N), or why it ended without one.
_Waiter = Callable[[], int | str]


@dataclasses.dataclass(eq=False)
class _Attempt:
    launch: Launch
    # Guards the fields below between the attempt's thread and `cancel`.
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    # Set when its thread is done with it (reported, or never started).
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)
    # Handed to Popen or the zygote: from then on its thread reports the end, not `cancel`.
    launched: bool = False
    # Once known: the child's pid, which is also its process group's id.
    pid: int | None = None
    cancelled: bool = False
    exited: bool = False
    killer: threading.Timer | None = None
    # Since when (time.monotonic()) it waits for a slot of its run (`Launch.slots`).
    held_since: float | None = None


class LocalExecutor(Executor):
    """Runs attempts as child processes of this one.

    `max_workers` is not enforced here; it is reported as `capacity` (default: the number
    of CPUs) for the engine to limit how many attempts it keeps running. `environments`
    caches virtual environments (default: `<DAGYARD_HOME>/envs`, created on first need);
    `python` is the interpreter lightweight components run on when it has their packages.
    `fork_server` starts those that need nothing else by forking a warm zygote process.
    Attempts over their run's `Launch.slots` wait for a slot; `waiting` reports those held
    for more than `hold_reported_after` seconds (shorter holds are not worth a record).
    """

    holds_slots = True

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        environments: EnvironmentCache | None = None,
        python: str = sys.executable,
        kill_grace: float = 5.0,
        fork_server: bool = True,
        container_runtime: str | None = None,
        hold_reported_after: float = 1.0,
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
        self._slots_taken: dict[str, int] = {}  # by run id
        self._hold_reported_after = hold_reported_after
        # One lock for the executor's state, with two conditions on it: `_changed` for
        # outcomes (what `wait` waits for) and, per run, one for its slots (what its held
        # attempts wait for), so an end wakes only the threads it concerns.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._slot_freed: dict[str, threading.Condition] = {}  # by run id, while held
        self._threads = _Threads()
        self._closed = False
        # Docker or Podman binary for container commands; None: they run on the host.
        self._container_runtime = container_runtime
        self._fork_server = ForkServer(resolved, _base_env) if fork_server else None
        self._watchdog: Watchdog | None = None
        if self._fork_server is not None:  # also for executors dropped without close()
            weakref.finalize(self, self._fork_server.close)

    @property
    def capacity(self) -> int:
        """How many attempts this machine should run at once."""
        return self._capacity

    @property
    def interpreter(self) -> Interpreter:
        """The Python lightweight components run on when it has their packages."""
        return self._interpreter

    @property
    def zygote_pid(self) -> int | None:
        """The pid of the fork server's zygote while one runs (the parent of forked tasks)."""
        return self._fork_server.pid if self._fork_server is not None else None

    def environments(self) -> EnvironmentCache:
        """The virtual-environment cache (the default one is made on first use)."""
        if self._environments is None:
            from dagyard.settings import Settings

            self._environments = EnvironmentCache(Settings.from_env().environments_root)
        return self._environments

    def submit(self, launch: Launch) -> str:
        attempt = _Attempt(launch)
        with self._lock:
            if self._closed:
                raise ExecutorError("This LocalExecutor is closed; open a new one to run tasks.")
            handle = f"local-{next(self._handles)}"
            self._attempts[handle] = attempt
        self._threads.run(functools.partial(self._run_to_end, handle, attempt))
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
        with self._lock:
            attempt = self._attempts.get(handle)
            if attempt is None or handle in self._done:
                return
        with attempt.lock:
            if attempt.cancelled or attempt.exited:
                return
            attempt.cancelled = True
            if attempt.pid is not None:
                self._terminate(attempt)
            launched = attempt.launched
        if not launched:  # still preparing or held: it will not start
            self._cancelled_before_start(handle)
            with self._lock:
                self._wake_held(attempt.launch.run_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            attempts = list(self._attempts.items())
            self._wake_held()
        for handle, _ in attempts:
            self.cancel(handle)
        for _, attempt in attempts:
            # Threads still building an environment finish it (it is shared) on their own.
            if attempt.launched:
                attempt.finished.wait(self._kill_grace + 5)
        if self._fork_server is not None:
            self._fork_server.close()
        with self._lock:
            watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.close()

    def waiting(self, handles: Collection[str]) -> dict[str, str]:
        now = time.monotonic()
        held = {}
        with self._lock:
            for handle in handles:
                attempt = self._attempts.get(handle)
                since = attempt.held_since if attempt is not None else None
                if (
                    attempt is not None
                    and since is not None
                    and (now - since >= self._hold_reported_after)
                ):
                    slots = attempt.launch.slots
                    held[handle] = f"Waiting for one of its run's {slots} task slots."
        return held

    # The attempt's thread

    def _run_to_end(self, handle: str, attempt: _Attempt) -> None:
        try:
            if not self._take_slot(attempt):
                self._cancelled_before_start(handle)
                return
            try:
                self._run(handle, attempt)
            finally:
                self._give_slot(attempt)
        finally:
            attempt.finished.set()

    def _take_slot(self, attempt: _Attempt) -> bool:
        """Wait until the attempt's run has a free slot and take it; False if the attempt
        was cancelled (or the executor closed) meanwhile."""
        slots, run = attempt.launch.slots, attempt.launch.run_id
        if slots is None:
            return True
        with self._lock:
            while self._slots_taken.get(run, 0) >= slots:
                if attempt.cancelled or self._closed:
                    return False
                if attempt.held_since is None:
                    attempt.held_since = time.monotonic()
                freed = self._slot_freed.get(run)
                if freed is None:
                    freed = self._slot_freed[run] = threading.Condition(self._lock)
                freed.wait()
            self._slots_taken[run] = self._slots_taken.get(run, 0) + 1
            attempt.held_since = None
        return True

    def _give_slot(self, attempt: _Attempt) -> None:
        slots, run = attempt.launch.slots, attempt.launch.run_id
        if slots is None:
            return
        with self._lock:
            left = self._slots_taken[run] - 1
            freed = self._slot_freed.get(run)
            if left:
                self._slots_taken[run] = left
                if freed is not None:
                    freed.notify()  # one slot: one held attempt takes it
            else:
                del self._slots_taken[run]
                if freed is not None:  # none taken: wake every one held, and forget them
                    del self._slot_freed[run]
                    freed.notify_all()

    def _wake_held(self, run: str | None = None) -> None:
        """Make the held attempts of `run` (of every run if None) look again, after a
        cancel or close; `_lock` held."""
        for held_run, freed in self._slot_freed.items():
            if run is None or held_run == run:
                freed.notify_all()

    def _run(self, handle: str, attempt: _Attempt) -> None:
        launch = attempt.launch
        try:
            launch.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(launch.log_path, "ab", buffering=0)  # noqa: SIM115 - closed below
        except OSError as e:
            self._finish(handle, self._outcome(None, f"Cannot open the log file: {e}"))
            return
        staging = launch.staging
        shipper = None
        if staging is not None and staging.log_uri is not None:
            try:
                shipper = LogShipper(launch.log_path, staging.log_uri, staging.log_interval)
            except ExecutorError as e:
                with log:
                    self._not_started(handle, log, str(e))
                return
        outcome: Outcome | None = None
        try:
            with log:
                outcome = self._execute(handle, attempt, log)
                if outcome is not None and outcome.ok and staging is not None:
                    outcome = self._stage_out(staging, log, outcome)
        finally:
            # Before the outcome is reported: whoever reads the log then sees all of it.
            if shipper is not None:
                shipper.close()
        if outcome is not None:
            self._finish(handle, outcome)

    def _execute(self, handle: str, attempt: _Attempt, log: BinaryIO) -> Outcome | None:
        """Stage the inputs, run the attempt to its end and say how it ended; None if it
        never started (then it has been reported)."""
        if attempt.launch.staging is not None:
            try:
                stage_in(attempt.launch.staging)
            except ExecutorError as e:
                self._not_started(handle, log, str(e))
                return None
        wait = self._start(handle, attempt, log)
        if wait is None:
            return None
        ended = wait()
        with attempt.lock:
            attempt.exited = True
            if attempt.killer is not None:
                attempt.killer.cancel()
            cancelled = attempt.cancelled
        if isinstance(ended, str):
            detail = ended
        else:
            detail = f"killed by signal {-ended}" if ended < 0 else f"exited with code {ended}"
        if cancelled:
            return self._outcome(None, f"cancelled ({detail})")
        if isinstance(ended, str) or ended < 0:
            return self._outcome(None, detail)
        return self._outcome(ended)

    def _stage_out(self, staging: Staging, log: BinaryIO, outcome: Outcome) -> Outcome:
        try:
            stage_out(staging)
        except ExecutorError as e:
            log.write(f"dagyard: {e}\n".encode())
            return self._outcome(None, str(e))
        return outcome

    def _start(self, handle: str, attempt: _Attempt, log: BinaryIO) -> _Waiter | None:
        """Start the attempt and return what waits for its end; None if it never started
        (then it has been reported)."""
        try:
            argv, env, forkable = self._prepare(attempt.launch, log)
            if not argv:
                raise ExecutorError("The command line is empty.")
        except ExecutorError as e:
            self._not_started(handle, log, str(e))
            return None
        if forkable and self._fork_server is not None:
            forked = self._fork(handle, attempt, self._fork_server, argv, env, log)
            if not isinstance(forked, _Declined):
                return forked
        return self._spawn(handle, attempt, argv, env, log)

    def _spawn(
        self, handle: str, attempt: _Attempt, argv: list[str], env: dict[str, str], log: BinaryIO
    ) -> _Waiter | None:
        launch = attempt.launch
        watchdog = self._started_watchdog()
        with attempt.lock:
            if attempt.cancelled:
                self._cancelled_before_start(handle)
                return None
            try:
                process = watchdog.spawn(argv, cwd=launch.workdir, env=env, log=log)
            except OSError as e:
                self._not_started(handle, log, f"Cannot start {argv[0]!r}: {e}")
                return None
            attempt.launched = True
            attempt.pid = process.pid

        def wait() -> int:
            code = process.wait()
            # Like a container's end: nothing the attempt started outlives it.
            _signal_group(process.pid, signal.SIGKILL)
            watchdog.forget(process.pid)
            return code

        return wait

    def _started_watchdog(self) -> Watchdog:
        with self._lock:
            if self._watchdog is None:
                self._watchdog = Watchdog()
                weakref.finalize(self, self._watchdog.close)  # for executors dropped unclosed
            return self._watchdog

    def _fork(
        self,
        handle: str,
        attempt: _Attempt,
        server: ForkServer,
        argv: list[str],
        env: dict[str, str],
        log: BinaryIO,
    ) -> _Waiter | _Declined | None:
        launch = attempt.launch
        with attempt.lock:
            if attempt.cancelled:
                self._cancelled_before_start(handle)
                return None
            ticket = server.submit(argv=argv, env=env, cwd=launch.workdir, log_path=launch.log_path)
            if ticket is None:
                return _DECLINED
            attempt.launched = True
        ticket.started.wait()
        if ticket.declined:
            return _DECLINED  # `_spawn` reports a cancel that came meanwhile
        if ticket.pid is None:
            self._not_started(handle, log, ticket.error or "The fork server did not start it.")
            return None
        with attempt.lock:
            attempt.pid = ticket.pid
            if attempt.cancelled:
                self._terminate(attempt)

        def wait() -> int | str:
            ticket.done.wait()
            # The zygote has killed the task's group already, before reaping the task.
            return ticket.code if ticket.code is not None else str(ticket.error)

        return wait

    def _prepare(self, launch: Launch, log: BinaryIO) -> tuple[list[str], dict[str, str], bool]:
        """The command line and environment to run, and whether the fork server may start
        it; builds a virtual environment if needed."""
        env = {**_base_env(), **launch.env}
        command = python_command(launch.argv)
        if command is None:
            if self._container_runtime is not None:
                return container_argv(self._container_runtime, launch), env, False
            return list(launch.argv), env, False
        python = self._interpreter.executable
        if command.requirements and self._interpreter.missing(command.requirements):
            built = self.environments().interpreter(
                command.requirements, command.index_urls, python=self._interpreter, log=log
            )
            python = str(built)
        if command.kind == "kfp":
            bin_dir = self.environments().bin_dir_for(python)
            env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)])
        forkable = command.kind == "dagyard" and python == self._interpreter.executable
        return command.argv_for(python), env, forkable

    def _terminate(self, attempt: _Attempt) -> None:
        """SIGTERM the attempt's group, SIGKILL after the grace period; `attempt.lock` held."""
        assert attempt.pid is not None
        _signal_group(attempt.pid, signal.SIGTERM)
        attempt.killer = threading.Timer(
            self._kill_grace, _signal_group, (attempt.pid, signal.SIGKILL)
        )
        attempt.killer.daemon = True
        attempt.killer.start()

    def _not_started(self, handle: str, log: BinaryIO, message: str) -> None:
        log.write(f"dagyard: {message}\n".encode())
        self._finish(handle, self._outcome(None, message))

    def _cancelled_before_start(self, handle: str) -> None:
        self._finish(handle, self._outcome(None, "cancelled before it started"))

    def _outcome(self, exit_code: int | None, error: str | None = None) -> Outcome:
        return Outcome(exit_code=exit_code, error=error, node=self._node)

    def _finish(self, handle: str, outcome: Outcome) -> None:
        with self._changed:
            if handle in self._attempts and handle not in self._done:
                self._done[handle] = outcome
                self._changed.notify_all()


class _Declined:
    """The fork server declined the attempt: exec it instead."""


_DECLINED = _Declined()


class _Threads:
    """Daemon threads that run one job at a time and wait for the next when idle; a new
    one starts only when none is idle, so there are as many as jobs ever ran at once."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = itertools.count(1)

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1
        self._jobs.put(job)
        if start:
            name = f"dagyard-attempt-{next(self._count)}"
            threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()  # reports the attempt's own errors as its outcome
            except Exception as e:  # a bug: show it, and keep the thread for the next job
                sys.excepthook(type(e), e, e.__traceback__)
            with self._lock:
                self._idle += 1


def _base_env() -> dict[str, str]:
    """What every task's environment starts from (its own variables go on top)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _signal_group(pid: int, signum: int) -> None:
    # The child is a session leader, so its process group id is its pid; the group may be
    # gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
