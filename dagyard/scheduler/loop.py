"""`Scheduler`: turns the due times of enabled recurring runs into PENDING runs.

Exactly once per due time, also across restarts and with several schedulers on one
database: each run carries (recurring_run_id, scheduled_at), which the database keeps
unique, so of two schedulers racing for one due time one insert wins and the other's
fails and is ignored. The watermark `scheduled_until` only saves work; losing an update of
it (a crash, a race) makes the next tick try inserts that fail the same harmless way.

Creating a run is not done here either: the scheduler sits below the service layer
(DESIGN.md's map; import-linter's layers contract checks it), so it imports nothing of
it and is given `create_run`, which stores the run of one due time or raises
AlreadyExists if that due time has one. The composition root
(`dagyard.service.recurring.scheduler_for`) passes the service layer's run creation, so
a scheduled run is validated, named and filed like any other. Executing the runs is not
done here: the worker picks up PENDING runs like any other.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from dagyard.errors import AlreadyExists, DagyardError
from dagyard.scheduler.triggers import Trigger, due_times
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import RecurringRun, Run, RunState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Stores the run of a recurring run for one due time; AlreadyExists if it has one.
CreateRun = Callable[[RecurringRun, datetime], Run]
_ACTIVE = [state for state in RunState if not state.terminal]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """Creates the runs of recurring runs as they fall due. `tick()` does one pass;
    `start()` ticks every `period` seconds in a background thread until `stop()`."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        create_run: CreateRun,
        clock: Clock = utc_now,
        period: float = 1.0,
    ) -> None:
        self._store = store
        self._create_run = create_run
        self._clock = clock
        self._period = period
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Run]:
        """Create the runs due now; returns the runs this call created."""
        store = self._store
        now = self._clock()
        active = Counter(run.recurring_run_id for run in store.list_runs(states=_ACTIVE))
        created: list[Run] = []
        for recurring in store.list_recurring_runs():
            if not recurring.enabled:
                continue
            try:
                created += self._schedule(recurring, now, active[recurring.recurring_run_id])
            except DagyardError as error:  # one broken recurring run must not stop the rest
                log.warning("Recurring run %s: %s", recurring.recurring_run_id, error)
        return created

    def start(self) -> None:
        """Tick in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="dagyard-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop ticking and wait for a tick in progress to end."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # e.g. the database is briefly unreachable: try again
                log.exception("Scheduler tick failed; retrying in %s s", self._period)
            self._stopping.wait(self._period)

    def _schedule(self, recurring: RecurringRun, now: datetime, active: int) -> list[Run]:
        trigger = Trigger.parse(recurring.trigger, recurring.timezone)
        anchor = recurring.created_at or now
        after = recurring.scheduled_until or trigger.start_time or anchor
        due = due_times(
            trigger,
            after=after,
            now=now,
            anchor=anchor,
            no_catchup=recurring.no_catchup,
            free_slots=recurring.max_concurrency - active,
        )
        if not due:
            return []
        created = [run for at in due if (run := self._create(recurring, at))]
        # The watermark is bookkeeping, not a change a user made: updated_at stays.
        self._store.update_recurring_run(
            recurring.recurring_run_id, scheduled_until=due[-1], updated_at=recurring.updated_at
        )
        return created

    def _create(self, recurring: RecurringRun, at: datetime) -> Run | None:
        """The run of one due time, or None if another scheduler created it first."""
        try:
            return self._create_run(recurring, at)
        except AlreadyExists:
            return None
