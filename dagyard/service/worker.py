"""The orchestrator of a server or worker process: executes the store's runs in the
background, sharing the database with any number of other such processes.

A loop lists the unfinished runs (PENDING, RUNNING, CANCELING) whose lease is free or
expired, claims each (one compare-and-set in the database: of several processes racing,
one wins) and drives the ones it won in threads of their own, up to `max_runs` at once.
One heartbeat thread renews the leases of every run driven here, every third of the
lease's length. A process that dies stops renewing, so its runs' leases lapse and
another process (or this one, restarted) claims them and resumes them: finished tasks
are read back from the store, unfinished ones run again. A driver whose lease is lost
(e.g. the process was paused longer than the lease) kills its attempts and stops
without recording anything more. Stopping releases the leases held and leaves unfinished
runs RUNNING in the store, for whichever process claims them next.

A database that stops answering: each driver waits it out (`engine/outages.py`) for up to
DAGYARD_STORE_OUTAGE_SECONDS, then leaves its run unfinished (RUNNING, nothing canceled
or failed) and releases the lease if it can (it lapses otherwise); the loop logs one
warning while it cannot list runs and one line when it can again, and claims the run
again once the database answers. A run whose driver fails by a fault (ours, or a
StoreFailure) is recorded FAILED by `runs.drive_run`, its tasks closed.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from datetime import datetime

from dagyard.errors import StoreUnavailable
from dagyard.service import runs
from dagyard.service.leases import Lease, LeaseKeeper, is_dead_here
from dagyard.service.platform import Platform
from dagyard.store.records import Run, RunState

log = logging.getLogger(__name__)

_UNFINISHED = [RunState.PENDING, RunState.RUNNING, RunState.CANCELING]


class _NamespaceLimit:
    """DAGYARD_NAMESPACE_MAX_RUNS over one look at the unfinished runs: which pending
    runs may start now. A run counts against its namespace (its experiment's) from the
    moment a process claims it until it ends; a pending run held back says so in its
    `waiting_reason`, which is cleared when it starts. With several processes sharing the
    database, each counts the runs the others have claimed too."""

    def __init__(self, platform: Platform, limit: int, runs: list[Run], now: datetime) -> None:
        self._platform = platform
        self._limit = limit
        self._namespaces = {e.experiment_id: e.namespace for e in platform.store.list_experiments()}
        self._running = collections.Counter(
            self.namespace(run) for run in runs if _started(run, now)
        )
        self._now = now

    @classmethod
    def of(cls, platform: Platform, runs: list[Run], now: datetime) -> _NamespaceLimit | None:
        limit = platform.settings.namespace_max_runs
        return cls(platform, limit, runs, now) if limit > 0 else None

    def namespace(self, run: Run) -> str:
        return self._namespaces.get(run.experiment_id or "", "")

    def admit(self, run: Run) -> bool:
        """Whether `run` may be driven now: one that started already always may; a
        pending one if its namespace is under its limit (else it is told why it waits)."""
        if _started(run, self._now):
            return True
        namespace = self.namespace(run)
        if self._running[namespace] < self._limit:
            return True
        shown = f"namespace {namespace!r}" if namespace else "the runs of no namespace"
        reason = (
            f"Waiting: {shown} has {self._limit} run(s) running, as many as "
            "DAGYARD_NAMESPACE_MAX_RUNS allows; it starts when one of them ends."
        )
        if run.waiting_reason != reason:
            self._platform.store.update_run(run.run_id, waiting_reason=reason)
        return False

    def started(self, run: Run) -> None:
        """`run`, just claimed, now counts against its namespace."""
        if not _started(run, self._now):
            self._running[self.namespace(run)] += 1
        if run.waiting_reason is not None:
            self._platform.store.update_run(run.run_id, waiting_reason=None)


def _started(run: Run, now: datetime) -> bool:
    """Whether a run of the unfinished ones has been started by some process: it is
    past PENDING, or a live lease holds it."""
    if run.state is not RunState.PENDING:
        return True
    return run.lease_owner is not None and (
        run.lease_expires_at is None or run.lease_expires_at > now
    )


class RunWorker:
    """Claims and drives the store's runs in background threads until stopped."""

    def __init__(
        self,
        platform: Platform,
        *,
        poll_seconds: float = 0.5,
        max_runs: int = 8,
        lease_seconds: float | None = None,
    ) -> None:
        self._platform = platform
        self._poll_seconds = poll_seconds
        self._max_runs = max_runs
        self._leases = LeaseKeeper(
            platform.store,
            seconds=platform.settings.lease_seconds if lease_seconds is None else lease_seconds,
        )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drivers: dict[str, threading.Thread] = {}
        self._thread = threading.Thread(target=self._loop, name="dagyard-runs", daemon=True)

    @property
    def owner(self) -> str:
        """The id this process claims runs under (host, process id, random)."""
        return self._leases.owner

    def start(self) -> RunWorker:
        self._leases.start()
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for new runs now rather than at the next poll (e.g. just after a submit)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking runs, stop driving the ones taken (their attempts are killed;
        the runs stay RUNNING in the store) and release their leases, so that another
        process, or the next start, resumes them at once. A driver that has not stopped
        within `timeout` keeps its lease until it lapses."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._leases.give_up()  # each driver stops, then releases its run's lease
        for thread in list(self._drivers.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._leases.stop()

    @property
    def active(self) -> list[str]:
        return [run_id for run_id, t in self._drivers.items() if t.is_alive()]

    def _loop(self) -> None:
        unanswered = False  # whether the last look met a database that did not answer
        while not self._stop.is_set():
            try:
                self._take()
            except StoreUnavailable as e:
                if not unanswered:
                    log.warning("Cannot look for runs to execute, retrying: %s", e)
                unanswered = True
            except Exception:  # a fault of ours, or the database's: the loop goes on
                log.exception("Looking for runs to execute failed; retrying.")
            else:
                if unanswered:
                    log.info("The metadata database answers again; looking for runs.")
                unanswered = False
            self._wake.wait(self._poll_seconds)
            self._wake.clear()

    def _claimable(self, run: Run) -> bool:
        if run.run_id in self._drivers:
            return False
        return (
            run.lease_owner is None
            or run.lease_owner == self.owner
            or run.lease_expires_at is None
            or run.lease_expires_at < self._leases.clock()
            or is_dead_here(run.lease_owner)
        )

    def _take(self) -> None:
        self._drivers = {k: t for k, t in self._drivers.items() if t.is_alive()}
        unfinished = self._platform.store.list_runs(states=_UNFINISHED)
        limits = _NamespaceLimit.of(self._platform, unfinished, self._leases.clock())
        for run in unfinished:
            if self._stop.is_set() or len(self._drivers) >= self._max_runs:
                return
            if not self._claimable(run):
                continue
            if limits is not None and not limits.admit(run):
                continue
            lease = self._leases.claim(run.run_id)
            if lease is None:
                continue  # another process was quicker, or the run just finished
            if limits is not None:
                limits.started(run)
            log.info("Driving run %s as %s.", run.run_id, self.owner)
            thread = threading.Thread(
                target=self._drive,
                args=(lease,),
                name=f"dagyard-run-{run.run_id[:8]}",
                daemon=True,
            )
            self._drivers[run.run_id] = thread
            thread.start()

    def _drive(self, lease: Lease) -> None:
        run_id = lease.run_id
        try:
            if self._platform.store.get_run(run_id).state.terminal:
                return  # e.g. terminated through the API between listing and now
            runs.drive_run(self._platform, run_id, lease=lease)
            if lease.lost():
                log.warning("Stopped driving run %s: its lease was lost.", run_id)
        except StoreUnavailable as e:
            log.warning(
                "Left run %s unfinished, to be driven again once the store answers: %s",
                run_id,
                e,
            )
        except Exception:
            # Recorded FAILED, with its tasks, by drive_run (unless the store refused).
            log.exception("Run %s failed in the engine.", run_id)
        finally:
            self._leases.release_quietly(run_id)
