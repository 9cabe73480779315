"""The orchestrator of a server process: executes submitted runs in the background.

A loop finds PENDING runs and drives each in its own thread (up to `max_runs` at once).
On its first pass it also takes the runs a previous process left RUNNING or CANCELING
(killed server): driving them again resumes them, since finished tasks are read back
from the store. Stopping leaves unfinished runs RUNNING in the store, so the next start
resumes them.

One process per database for now: runs are not leased, so two servers on one database
would both drive a run (scale-out, with leases, is a later issue).
"""

from __future__ import annotations

import logging
import threading

from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import RunState

log = logging.getLogger(__name__)


class RunWorker:
    """Drives the store's runs in background threads until stopped."""

    def __init__(self, platform: Platform, *, poll_seconds: float = 0.5, max_runs: int = 8) -> None:
        self._platform = platform
        self._poll_seconds = poll_seconds
        self._max_runs = max_runs
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drivers: dict[str, threading.Thread] = {}
        self._thread = threading.Thread(target=self._loop, name="dagyard-runs", daemon=True)

    def start(self) -> RunWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for new runs now rather than at the next poll (e.g. just after a submit)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking runs. Runs being driven stay RUNNING in the store if they do not
        finish within `timeout`; the next start resumes them."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    @property
    def active(self) -> list[str]:
        return [run_id for run_id, t in self._drivers.items() if t.is_alive()]

    def _loop(self) -> None:
        states = [RunState.PENDING, RunState.RUNNING, RunState.CANCELING]
        while not self._stop.is_set():
            try:
                self._take(states)
            except Exception:  # a store hiccup must not end the loop
                log.exception("Looking for runs to execute failed; retrying.")
            states = [RunState.PENDING]
            self._wake.wait(self._poll_seconds)
            self._wake.clear()

    def _take(self, states: list[RunState]) -> None:
        self._drivers = {k: t for k, t in self._drivers.items() if t.is_alive()}
        for run in self._platform.store.list_runs(states=states):
            if self._stop.is_set() or len(self._drivers) >= self._max_runs:
                return
            if run.run_id in self._drivers:
                continue
            thread = threading.Thread(
                target=self._drive,
                args=(run.run_id,),
                name=f"dagyard-run-{run.run_id[:8]}",
                daemon=True,
            )
            self._drivers[run.run_id] = thread
            thread.start()

    def _drive(self, run_id: str) -> None:
        store = self._platform.store
        try:
            current = store.get_run(run_id).state
            if current.terminal:
                return  # e.g. terminated through the API between listing and now
            if current == RunState.CANCELING:
                store.update_run(run_id, state=RunState.CANCELED)
                return
            runs.drive_run(self._platform, run_id)
        except Exception as e:
            log.exception("Run %s failed in the engine.", run_id)
            try:
                store.update_run(run_id, state=RunState.FAILED, error=f"engine error: {e}")
            except Exception:
                log.exception("Could not record the failure of run %s.", run_id)
