"""The local executor: each attempt runs on this machine, as a child process.

Belongs here: placing attempts on this host and bringing their outcomes back (a thread
per attempt, slots per run, `wait` and `cancel`). Not here: what an attempt does once
placed (`lifecycle.py`: staging, choosing the Python, fork or spawn, killing its group),
anything about pipelines (the engine's), or a machine-wide concurrency limit (the engine
keeps at most `capacity` attempts of a run going).

- Slots (`Launch.slots`): at most that many attempts of one run run at once. The engine
  submits a few attempts ahead of free slots; each waits in its thread and starts the
  moment another of its run ends, so a slot is not left empty while the engine records
  the end and decides what comes next. An attempt held for more than
  `hold_reported_after` seconds is reported by `waiting` (its task shows PENDING).
  Namespace slots (`Launch.namespace_slots`) hold the attempts of all the runs of one
  namespace the same way (DAGYARD_NAMESPACE_MAX_TASKS): an attempt takes a slot of its
  run and one of its namespace, and waits until both are free.

- An attempt lives as `lifecycle.Attempt` says, on a `lifecycle.Host` this executor
  keeps: stdout and stderr merged straight into the launch's log file, a process group
  of its own killed at its end, SIGTERM then SIGKILL after `kill_grace` on `cancel`, a
  watchdog and a zygote that kill what it started if this process dies, its memory and
  CPU limits applied (`isolation.py`: a cgroup where one can be made). Lightweight
  Python components run on `python` when it has their packages, else in a virtual
  environment built once per package set; ours, on `python` itself, are forked from a
  warm zygote unless `fork_server=False` (~40 ms less per task). Other commands run as
  they are, or in their image when a container runtime (`Launch.image`) is set.
- One thread per attempt lives it (which may build a virtual environment); `wait`
  sleeps on a condition that those threads notify, so it returns as soon as an attempt
  ends, without polling. Threads are daemons, kept for the next attempt once theirs
  ends (starting a thread costs more than a trivial task's bookkeeping).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import queue
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection

from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.executors.environments import EnvironmentCache, Interpreter
from dagyard.executors.lifecycle import CANCELLED_BEFORE_START, Attempt, Host


@dataclasses.dataclass(eq=False)
class _Placed:
    """An attempt placed on this host, with what its placement needs."""

    attempt: Attempt
    # Set when its thread is done with it (reported, or never started).
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)
    # Since when (time.monotonic()) it waits for a slot (`Launch.slots`, or its
    # namespace's), and why, in words.
    held_since: float | None = None
    held_by: str = ""

    @property
    def launch(self) -> Launch:
        return self.attempt.launch


class LocalExecutor(Executor):
    """Runs attempts as child processes of this one.

    `max_workers` is not enforced here; it is reported as `capacity` (default: the number
    of CPUs) for the engine to limit how many attempts it keeps running. `environments`
    caches virtual environments (default: `<DAGYARD_HOME>/envs`, created on first need);
    `python` is the interpreter lightweight components run on when it has their packages.
    `fork_server` starts those that need nothing else by forking a warm zygote process.
    Attempts over their run's `Launch.slots` wait for a slot; `waiting` reports those held
    for more than `hold_reported_after` seconds (shorter holds are not worth a record).
    `cgroups=False` makes no cgroup for any attempt (`isolation.py`'s fallbacks).
    `container_runtime` and `task_isolation` are `Settings`' (default: every command on
    this machine, none in its image).
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
        container_runtime: str = "off",
        task_isolation: str = "host",
        hold_reported_after: float = 1.0,
        cgroups: bool = True,
    ) -> None:
        resolved = shutil.which(python) if os.sep not in python else python
        if not resolved:
            raise ExecutorError(f"Python interpreter {python!r} not found; give its full path.")
        self._host = Host(
            name=socket.gethostname(),
            python=resolved,
            environments=functools.partial(_environments, environments),
            kill_grace=kill_grace,
            fork_server=fork_server,
            container_runtime=container_runtime,
            task_isolation=task_isolation,
            cgroups=cgroups,
        )
        self._capacity = max_workers or os.cpu_count() or 1
        self._kill_grace = kill_grace
        self._handles = itertools.count(1)
        self._placed: dict[str, _Placed] = {}
        self._done: dict[str, Outcome] = {}
        self._slots_taken: dict[tuple[str, str], int] = {}  # by pool (`_pools`)
        self._hold_reported_after = hold_reported_after
        # One lock for the executor's state, with two conditions on it: `_changed` for
        # outcomes (what `wait` waits for) and, per run, one for its slots (what its held
        # attempts wait for), so an end wakes only the threads it concerns.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._slot_freed: dict[tuple[str, str], threading.Condition] = {}  # by pool, while held
        self._threads = _Threads()
        self._closed = False

    @property
    def capacity(self) -> int:
        """How many attempts this machine should run at once."""
        return self._capacity

    @property
    def interpreter(self) -> Interpreter:
        """The Python lightweight components run on when it has their packages."""
        return self._host.interpreter

    @property
    def zygote_pid(self) -> int | None:
        """The pid of the fork server's zygote while one runs (the parent of forked tasks)."""
        server = self._host.fork_server
        return server.pid if server is not None else None

    @property
    def kfp_zygote_pids(self) -> dict[str, int]:
        """The pids of the running zygotes of kfp-compiled tasks, by the Python they run."""
        return self._host.kfp_zygote_pids()

    def environments(self) -> EnvironmentCache:
        """The virtual-environment cache (the default one is made on first use)."""
        return self._host.environments()

    def submit(self, launch: Launch) -> str:
        placed = _Placed(Attempt(self._host, launch))
        with self._lock:
            if self._closed:
                raise ExecutorError("This LocalExecutor is closed; open a new one to run tasks.")
            handle = f"local-{next(self._handles)}"
            self._placed[handle] = placed
        self._threads.run(functools.partial(self._run_to_end, handle, placed))
        return handle

    def wait(self, handles: Collection[str], timeout: float | None) -> dict[str, Outcome]:
        wanted = list(dict.fromkeys(handles))
        if not wanted:
            return {}
        with self._changed:
            unknown = [h for h in wanted if h not in self._placed]
            if unknown:
                raise KeyError(
                    f"Handles {unknown} are not running on this executor: never submitted, "
                    "or already reported by wait()."
                )
            self._changed.wait_for(lambda: any(h in self._done for h in wanted), timeout)
            finished = {h: self._done.pop(h) for h in wanted if h in self._done}
            for handle in finished:
                del self._placed[handle]
        return finished

    def cancel(self, handle: str) -> None:
        with self._lock:
            placed = self._placed.get(handle)
            if placed is None or handle in self._done:
                return
        if not placed.attempt.cancel():  # still preparing or held: it will not start
            self._finish(handle, Outcome(None, CANCELLED_BEFORE_START, self._host.name))
            with self._lock:
                self._wake_held()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            placed = list(self._placed.items())
            self._wake_held()
        for handle, _ in placed:
            self.cancel(handle)
        for _, one in placed:
            # Threads still building an environment finish it (it is shared) on their own.
            if one.attempt.launched:
                one.finished.wait(self._kill_grace + 5)
        self._host.close()

    def waiting(self, handles: Collection[str]) -> dict[str, str]:
        now = time.monotonic()
        held = {}
        with self._lock:
            for handle in handles:
                placed = self._placed.get(handle)
                since = placed.held_since if placed is not None else None
                if (
                    placed is not None
                    and since is not None
                    and (now - since >= self._hold_reported_after)
                ):
                    held[handle] = placed.held_by
        return held

    # The attempt's thread

    def _run_to_end(self, handle: str, placed: _Placed) -> None:
        try:
            if not self._take_slot(placed):
                self._finish(handle, Outcome(None, CANCELLED_BEFORE_START, self._host.name))
                return
            try:
                self._finish(handle, _unplaced(placed.launch, placed.attempt.run()))
            finally:
                self._give_slot(placed)
        finally:
            placed.finished.set()

    def _take_slot(self, placed: _Placed) -> bool:
        """Wait until the attempt's run and namespace have a free slot each and take
        them; False if the attempt was cancelled (or the executor closed) meanwhile."""
        pools = _pools(placed.launch)
        if not pools:
            return True
        with self._lock:
            while True:
                full = next(
                    ((key, size, why) for key, size, why in pools
                     if self._slots_taken.get(key, 0) >= size),
                    None,
                )  # fmt: skip
                if full is None:
                    break
                if placed.attempt.cancelled or self._closed:
                    return False
                key, _, why = full
                if placed.held_since is None:
                    placed.held_since = time.monotonic()
                placed.held_by = why
                freed = self._slot_freed.get(key)
                if freed is None:
                    freed = self._slot_freed[key] = threading.Condition(self._lock)
                freed.wait()
            for key, _, _ in pools:
                self._slots_taken[key] = self._slots_taken.get(key, 0) + 1
            placed.held_since = None
        return True

    def _give_slot(self, placed: _Placed) -> None:
        with self._lock:
            for key, _, _ in _pools(placed.launch):
                left = self._slots_taken[key] - 1
                # Every attempt held on the pool looks again: one may be held by
                # another pool still, and must not keep the freed slot from the rest.
                freed = self._slot_freed.get(key)
                if left:
                    self._slots_taken[key] = left
                    if freed is not None:
                        freed.notify_all()
                else:
                    del self._slots_taken[key]
                    if freed is not None:  # none taken: forget the held ones' condition
                        del self._slot_freed[key]
                        freed.notify_all()

    def _wake_held(self) -> None:
        """Make every held attempt look again, after a cancel or close; `_lock` held."""
        for freed in self._slot_freed.values():
            freed.notify_all()

    def _finish(self, handle: str, outcome: Outcome) -> None:
        with self._changed:
            if handle in self._placed and handle not in self._done:
                self._done[handle] = outcome
                self._changed.notify_all()


def _pools(launch: Launch) -> list[tuple[tuple[str, str], int, str]]:
    """The slot pools an attempt takes a slot of: its run's and its namespace's, each
    with its size and the words that say it waits for one."""
    pools = []
    if launch.slots is not None:
        pools.append(
            (("run", launch.run_id), launch.slots,
             f"Waiting for one of its run's {launch.slots} task slots.")
        )  # fmt: skip
    if launch.namespace_slots is not None:
        shown = f"namespace {launch.namespace!r}" if launch.namespace else "no namespace"
        pools.append(
            (("namespace", launch.namespace), launch.namespace_slots,
             f"Waiting for one of the {launch.namespace_slots} task slots of {shown} "
             "(DAGYARD_NAMESPACE_MAX_TASKS).")
        )  # fmt: skip
    return pools


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


def _environments(given: EnvironmentCache | None) -> EnvironmentCache:
    if given is not None:
        return given
    from dagyard.settings import Settings

    return EnvironmentCache(Settings.from_env().environments_root)


def _unplaced(launch: Launch, outcome: Outcome) -> Outcome:
    """`outcome` with a warning for the node labels the attempt asked for: this host is
    the only node, and its labels are not looked at."""
    if not launch.node_selector:
        return outcome
    labels = ", ".join(f"{k}={v}" for k, v in sorted(launch.node_selector.items()))
    warning = (
        f"The node selector {labels} (add_node_selector) is recorded, not applied: the "
        "local executor runs every task on this host. The Ray executor places tasks on "
        "nodes with those labels."
    )
    return dataclasses.replace(outcome, warnings=(*outcome.warnings, warning))
