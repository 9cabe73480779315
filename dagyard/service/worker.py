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
"""

from __future__ import annotations

import logging
import threading
import time

from dagyard.service import runs
from dagyard.service.leases import Lease, LeaseKeeper, is_dead_here
from dagyard.service.platform import Platform
from dagyard.store.records import Run, RunState

log = logging.getLogger(__name__)

_UNFINISHED = [RunState.PENDING, RunState.RUNNING, RunState.CANCELING]


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
        while not self._stop.is_set():
            try:
                self._take()
            except Exception:  # a store hiccup must not end the loop
                log.exception("Looking for runs to execute failed; retrying.")
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
        for run in self._platform.store.list_runs(states=_UNFINISHED):
            if self._stop.is_set() or len(self._drivers) >= self._max_runs:
                return
            if not self._claimable(run):
                continue
            lease = self._leases.claim(run.run_id)
            if lease is None:
                continue  # another process was quicker, or the run just finished
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
        store = self._platform.store
        run_id = lease.run_id
        try:
            current = store.get_run(run_id).state
            if current.terminal:
                return  # e.g. terminated through the API between listing and now
            if current == RunState.CANCELING:
                store.update_run(run_id, state=RunState.CANCELED, fence=lease.owner)
                return
            runs.drive_run(self._platform, run_id, lease=lease)
            if lease.lost():
                log.warning("Stopped driving run %s: its lease was lost.", run_id)
        except Exception as e:
            if lease.lost():  # the run is another process's now: record nothing
                log.exception("Run %s failed here after its lease was lost.", run_id)
                return
            log.exception("Run %s failed in the engine.", run_id)
            try:
                store.update_run(
                    run_id, state=RunState.FAILED, error=f"engine error: {e}", fence=lease.owner
                )
            except Exception:
                log.exception("Could not record the failure of run %s.", run_id)
        finally:
            try:
                self._leases.release(run_id)
            except Exception:  # it lapses on its own
                log.exception("Could not release the lease of run %s.", run_id)
