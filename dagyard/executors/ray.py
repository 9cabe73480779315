"""The Ray executor: each attempt is a Ray task on a Ray cluster (`ray.init(address=...)`).

The Ray driver (`ray.init` and every Ray call) runs in a child process of the
orchestrator, the driver process (`ray_driver.serve`), and `RayExecutor` forwards its
calls there: Ray ends a driver process that loses its head (after
`gcs_rpc_server_reconnect_timeout_s`, 60 s, or at once, by a failed check, when a head
without GCS fault tolerance comes back as a new cluster), and the orchestrator may be
serving the API too. The driver process ends itself as soon as its head stops answering
(checked every `ray_driver.HEAD_CHECK_EVERY` seconds, and at once when an attempt is
lost with its node); its attempts in flight are then reported lost (`Outcome.lost`).
Submits are sent without waiting for their answer; one the driver never took is queued
again rather than lost. Outcomes are not asked for: the driver process sends each one as
its Ray task ends (Ray calls back; no thread and no `ray.wait` per call of `wait`), and
`wait` waits for them here; one sent before the driver process ended still counts.
Attempts submitted while no head answers are queued; every `_RECONNECT_EVERY` seconds a
new driver process tries the same address, and once one connects the queued attempts
are submitted there. Those queued longer than `reconnect_timeout` fail, naming the
address. Ray does not re-attach running tasks to a restarted head, even with GCS fault
tolerance (it reports them crashed), so nothing here tries to.

What the driver process does, from resources to waiting attempts, is in `ray_driver.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.executors.ray_driver import (
    EXIT_HEAD_LOST,
    START_GRACE,
    WAITING_TTL,
    check_reachable,
    write_log,
)
from dagyard.executors.ray_resources import RayRequest, busy_reason, ray_request, unfit_reason

__all__ = ["RayExecutor", "RayRequest", "busy_reason", "ray_request", "unfit_reason"]

_log = logging.getLogger(__name__)


# Ray ends a driver process outright when it loses its head: after
# `gcs_rpc_server_reconnect_timeout_s` (60 s) without one, and at once when a head that
# kept no state (no GCS fault tolerance) comes back, as a failed check on the cluster id.
# So the Ray driver runs in a child process of its own, and the orchestrator (which may
# also serve the API) only ever loses that child.


# How often a lost head is looked for again.
_RECONNECT_EVERY = 2.0
# How long a driver process may take to connect to a head that answers.
_CONNECT_TIMEOUT = 120.0


class _DriverGone(Exception):
    """The driver process ended (or never answered): its attempts are lost."""


class _DriverProcess:
    """One driver process and its connection, with calls made from any thread: each call
    waits for its own answer, which a reader thread hands over as it comes. Outcomes
    come unasked, as attempts end, and are kept until taken (`take`)."""

    def __init__(
        self,
        address: str,
        environments_root: str | None,
        kill_grace: float,
        containers: tuple[str, str] = ("off", "host"),
    ) -> None:
        import multiprocessing.connection
        import subprocess
        import sys

        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from dagyard.executors.ray_driver import serve; serve(sys.argv[1:])",
                str(theirs.fileno()),
                address,
                environments_root or "",
                repr(kill_grace),
                *containers,
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            # A Ray call made while not connected (after a lost head, or at the end) must
            # fail, not start a whole local Ray cluster on this machine, as Ray would.
            env={**os.environ, "RAY_ENABLE_AUTO_CONNECT": "0"},
        )
        theirs.close()
        self._conn = multiprocessing.connection.Connection(ours.detach())
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._calls = itertools.count(1)
        self._answers: dict[int, tuple[threading.Event, list[Any]]] = {}
        # Attempts that ended, by handle, until taken; `_changed` is notified as they
        # come, and when the process ends.
        self._ended: dict[str, Outcome] = {}
        self._changed = threading.Condition(self._lock)
        self.gone: str | None = None  # why the process ended, once it has
        # The first answer (call 0) says whether it connected.
        self._answers[0] = (threading.Event(), [])
        threading.Thread(target=self._read, name="dagyard-ray-driver", daemon=True).start()

    def ready(self, timeout: float | None) -> bool | None:
        """Whether it connected to the head (None: not known yet); raises `ExecutorError`
        with Ray's reason when it could not."""
        event, answer = self._answers[0]
        if not event.wait(timeout):
            return None
        if answer[0] == "gone":
            raise ExecutorError(self.gone or "The Ray driver process ended.")
        if answer[0] == "error":
            raise answer[1]
        return True

    def post(self, method: str, *args: Any) -> list[Any]:
        """Send a call without waiting for it. The list returned holds its answer,
        `[kind, value]`, once it comes, or `["gone", why]` if the process ended first.
        The driver answers quick calls in the order sent, so a later call finds the
        effect of this one."""
        return self._send(method, args)[1]

    def call(self, method: str, *args: Any) -> Any:
        event, answer = self._send(method, args)
        event.wait()
        kind, value = answer
        if kind == "gone":
            raise _DriverGone(value)
        if kind == "error":
            raise value
        return value

    def take(self, handle: str) -> Outcome | None:
        """The outcome of `handle` if it has come (then forgotten here), else None. An
        outcome sent before the process ended is kept: it is no less true."""
        with self._lock:
            return self._ended.pop(handle, None)

    def wait_ended(self, handles: Collection[str], timeout: float | None) -> None:
        """Return once one of `handles` has ended, the process has ended, or `timeout`
        seconds have passed."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.gone is not None or any(h in self._ended for h in handles),
                timeout,
            )

    def _send(self, method: str, args: tuple[Any, ...]) -> tuple[threading.Event, list[Any]]:
        event: threading.Event = threading.Event()
        answer: list[Any] = []
        with self._lock:
            if self.gone is not None:
                raise _DriverGone(self.gone)
            number = next(self._calls)
            self._answers[number] = (event, answer)
        try:
            with self._send_lock:
                self._conn.send((number, method, args))
        except OSError as e:
            self._end(f"The Ray driver process does not answer: {e}")
            raise _DriverGone(self.gone) from e
        return event, answer

    def _read(self) -> None:
        while True:
            try:
                number, kind, value = self._conn.recv()
            except (EOFError, OSError):
                break
            if kind == "ended":
                with self._changed:
                    self._ended.update(value)
                    self._changed.notify_all()
                continue
            with self._lock:
                event, answer = self._answers.pop(number, (None, None))
            if event is not None and answer is not None:
                answer[:] = [kind, value]
                event.set()
        code = self.process.wait()
        why = "it lost the Ray head" if code == EXIT_HEAD_LOST else f"exit code {code}"
        self._end(f"The Ray driver process ended ({why}).")

    def _end(self, why: str) -> None:
        with self._lock:  # whoever sees `gone` set finds every pending answer filled
            if self.gone is None:
                self.gone = why
            for event, answer in self._answers.values():
                answer[:] = ["gone", self.gone]
                event.set()
            self._answers = {}
            self._changed.notify_all()

    def stop(self, timeout: float) -> None:
        with contextlib.suppress(OSError):
            self._conn.close()  # the driver cancels what it runs and exits
        try:
            self.process.wait(timeout)
        except Exception:
            self.process.kill()
            self.process.wait()


@dataclasses.dataclass(eq=False)
class _Tracked:
    launch: Launch
    # The driver process it was submitted through and its handle there; None while
    # waiting for a head to submit it to.
    driver: _DriverProcess | None = None
    inner: str = ""
    # The answer to its submit, once the driver has taken it (`_DriverProcess.post`).
    posted: list[Any] = dataclasses.field(default_factory=list)
    since: float = 0.0
    cancelled: bool = False


class RayExecutor(Executor):
    """Runs attempts as Ray tasks on the cluster at `address` (`host:port` of the head,
    or `auto`), through a Ray driver in a child process of its own.

    When that driver loses the head, the attempts it had in flight are reported lost
    (`Outcome.lost`: the engine runs them again). Attempts submitted meanwhile wait for a
    head at `address`, looked for every `_RECONNECT_EVERY` seconds, and fail with a
    message naming the address if none answers within `reconnect_timeout` seconds.

    `environments_root` is where nodes cache virtual environments for
    `packages_to_install` (default `~/.dagyard/envs` of the user running the node);
    `kill_grace` is how long a cancelled task has between SIGTERM and SIGKILL.
    `container_runtime` and `task_isolation` are `Settings`' (DAGYARD_CONTAINER_RUNTIME,
    DAGYARD_TASK_ISOLATION), applied on the node that runs each attempt, with its runtime.
    """

    def __init__(
        self,
        address: str,
        *,
        environments_root: Path | None = None,
        kill_grace: float = 5.0,
        reconnect_timeout: float = 300.0,
        container_runtime: str = "off",
        task_isolation: str = "host",
    ) -> None:
        self.address = address
        # Each node looks its runtime up for itself (DAGYARD_CONTAINER_RUNTIME's value).
        self._containers = (container_runtime, task_isolation)
        self._environments_root = str(environments_root) if environments_root else None
        self._kill_grace = kill_grace
        self._reconnect_timeout = reconnect_timeout
        self._handles = itertools.count(1)
        self._tracked: dict[str, _Tracked] = {}
        self._done: dict[str, Outcome] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._driver: _DriverProcess | None = None
        self._looked = -_RECONNECT_EVERY
        # The driver's last answer to `waiting` (by handle), and when it was asked.
        self._reported: dict[str, str] = {}
        self._waiting_read = -WAITING_TTL
        check_reachable(address)  # a bad address fails here, at once
        driver = _DriverProcess(address, self._environments_root, kill_grace, self._containers)
        try:
            if not driver.ready(_CONNECT_TIMEOUT):
                raise ExecutorError(
                    f"Cannot connect to the Ray cluster at {address!r} within "
                    f"{_CONNECT_TIMEOUT:g} s."
                )
        except ExecutorError:
            driver.stop(5.0)
            raise
        self._driver = driver

    def submit(self, launch: Launch) -> str:
        with self._lock:
            if self._closed:
                raise ExecutorError("This RayExecutor is closed; open a new one to run tasks.")
            handle = f"ray-{next(self._handles)}"
            tracked = _Tracked(launch, since=time.monotonic())
            self._tracked[handle] = tracked
        self._submit(handle, tracked, self._connected())
        return handle

    def wait(self, handles: Collection[str], timeout: float | None) -> dict[str, Outcome]:
        wanted = list(dict.fromkeys(handles))
        if not wanted:
            return {}
        with self._lock:
            unknown = [h for h in wanted if h not in self._tracked]
            if unknown:
                raise KeyError(
                    f"Handles {unknown} are not running on this executor: never submitted, "
                    "or already reported by wait()."
                )
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            finished = self._wait_once(wanted, left)
            if finished or left == 0:
                break
        with self._lock:
            for handle in finished:
                self._tracked.pop(handle, None)
        return finished

    def _wait_once(self, wanted: list[str], timeout: float | None) -> dict[str, Outcome]:
        """What finished within `timeout`, or sooner {} to look for a lost head again."""
        driver = self._connected()
        finished = self._settle(wanted)
        if driver is not None:  # attempts that the last driver never took
            with self._lock:
                again = [
                    (h, t)
                    for h in wanted
                    if h not in finished and (t := self._tracked[h]).driver is None
                ]
            for handle, tracked in again:
                self._submit(handle, tracked, driver)
        with self._lock:
            inner = {
                t.inner: h
                for h in wanted
                if h not in finished and (t := self._tracked[h]).driver is driver
            }
            queued = any(self._tracked[h].driver is None for h in wanted if h not in finished)
        if not finished and driver is not None and inner:
            # Back now and then to look for a head for the queued ones.
            limit = _RECONNECT_EVERY if queued else timeout
            if timeout is not None and limit is not None:
                limit = min(timeout, limit)
            driver.wait_ended(list(inner), limit)
            finished = self._settle(wanted)
        elif not finished and timeout != 0:
            # Nothing to wait on but a head.
            time.sleep(min(timeout or _RECONNECT_EVERY, _RECONNECT_EVERY))
        return finished

    def waiting(self, handles: Collection[str]) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            driver = self._driver
            tracked = {h: t for h in handles if (t := self._tracked.get(h)) is not None}
        queued = {
            h: f"Waiting for the Ray head at {self.address!r} to come back."
            for h, t in tracked.items()
            if t.driver is None and not t.cancelled
        }
        # The driver would not ask Ray about younger ones; nor is it asked more than
        # once per `WAITING_TTL` (the engine asks after every outcome).
        inner = {
            t.inner: h
            for h, t in tracked.items()
            if t.driver is driver and now - t.since >= START_GRACE
        }
        if driver is not None and inner and now - self._waiting_read >= WAITING_TTL:
            self._waiting_read = now
            with contextlib.suppress(_DriverGone):
                self._reported = driver.call("waiting", list(inner))
        queued.update({inner[i]: self._reported[i] for i in inner if i in self._reported})
        return queued

    def cancel(self, handle: str) -> None:
        with self._lock:
            tracked = self._tracked.get(handle)
            if tracked is None or tracked.cancelled:
                return
            tracked.cancelled = True
            if tracked.driver is None:
                self._done[handle] = Outcome(exit_code=None, error="cancelled")
                return
        with contextlib.suppress(_DriverGone):
            tracked.driver.call("cancel", tracked.inner)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(_DriverGone):
                driver.call("close")
            driver.stop(self._kill_grace + 10)

    def _connected(self) -> _DriverProcess | None:
        """The driver process connected to the head, started anew (at most every
        `_RECONNECT_EVERY` seconds) when the last one has lost it; None while no head
        answers."""
        with self._lock:
            driver = self._driver
            if driver is not None and driver.gone is None:
                return driver
            if self._closed or time.monotonic() - self._looked < _RECONNECT_EVERY:
                return None
            self._looked = time.monotonic()
            self._driver = None
        if driver is not None:
            _log.warning("%s Looking for the Ray head at %r again.", driver.gone, self.address)
        try:
            check_reachable(self.address)
            fresh = _DriverProcess(
                self.address, self._environments_root, self._kill_grace, self._containers
            )
        except ExecutorError as e:
            _log.warning("The Ray head at %r is not back yet: %s", self.address, e)
            return None
        try:
            if not fresh.ready(_CONNECT_TIMEOUT):
                raise ExecutorError(f"no connection within {_CONNECT_TIMEOUT:g} s")
        except ExecutorError as e:
            fresh.stop(5.0)
            _log.warning("The Ray head at %r is not back yet: %s", self.address, e)
            return None
        _log.warning("Connected to the Ray head at %r again.", self.address)
        with self._lock:
            self._driver = fresh
            queued = [(h, t) for h, t in self._tracked.items() if t.driver is None]
        for handle, tracked in queued:
            self._submit(handle, tracked, fresh)
        return fresh

    def _submit(self, handle: str, tracked: _Tracked, driver: _DriverProcess | None) -> None:
        if driver is None:
            return
        # Under the lock: another thread may be resubmitting the queued attempts too.
        with self._lock:
            if tracked.cancelled or tracked.driver is not None:
                return
            try:  # not waiting for the answer: what goes wrong comes back as the outcome
                posted = driver.post("submit", tracked.launch, handle)
            except _DriverGone:
                return  # still queued: submitted to the next driver
            tracked.driver, tracked.inner, tracked.posted = driver, handle, posted

    def _settle(self, handles: list[str]) -> dict[str, Outcome]:
        """The outcomes known by now: sent by the driver process, refused or cancelled
        before submitting, lost with a driver that lost its head, or queued past
        `reconnect_timeout`."""
        now = time.monotonic()
        finished: dict[str, Outcome] = {}
        sent: dict[str, Outcome] = {}  # the driver process wrote its own lines to the log
        with self._lock:
            for handle in handles:
                tracked = self._tracked[handle]
                if handle in self._done:
                    finished[handle] = self._done.pop(handle)
                elif tracked.driver is not None and (
                    (outcome := tracked.driver.take(tracked.inner)) is not None
                ):
                    sent[handle] = outcome
                elif tracked.driver is not None and tracked.posted[:1] == ["gone"]:
                    # The driver died before it took the attempt: it never reached Ray,
                    # so it waits for the next driver, not lost.
                    tracked.driver, tracked.inner = None, ""
                elif tracked.driver is not None and tracked.driver.gone is not None:
                    message = (
                        f"The Ray head at {self.address!r} was lost while this attempt "
                        f"ran ({tracked.driver.gone})"
                    )
                    finished[handle] = Outcome(exit_code=None, error=message, lost=True)
                elif tracked.driver is None and now - tracked.since > self._reconnect_timeout:
                    message = (
                        f"No Ray head answered at {self.address!r} for "
                        f"{self._reconnect_timeout:g} s, so this attempt was never started. "
                        "Restart the head on that address (`ray start --head --port PORT`)."
                    )
                    finished[handle] = Outcome(exit_code=None, error=message)
        for handle, outcome in finished.items():
            if outcome.error:
                write_log(self._tracked[handle].launch, f"\ndagyard: {outcome.error}\n")
        finished.update(sent)
        return finished
