"""Waiting out a metadata database that stops answering, for one run driver.

A database that does not answer (`StoreUnavailable`: a dropped connection, a server
restarting or unreachable, a lock held past its timeout, a full disk) is usually back
within seconds. The driver makes each of its store calls through `Outages.call`, which
tries the call again with a growing pause (0.25 s, doubling up to 4 s) until it answers
or the outage has lasted `budget_seconds` (DAGYARD_STORE_OUTAGE_SECONDS). Meanwhile the
driver waits inside that call, and nothing else happens to the run: the attempts
already started run on (processes of their own), and their outcomes are recorded once
the database is back. An outage logs two lines, a warning when it begins and an info
line when it ends, whatever the number of tries.

Why trying again is safe: a call that met StoreUnavailable either wrote nothing or, when
the connection was lost during COMMIT, wrote everything it meant to; each of the
driver's writes may be repeated (a run update sets the same values again, and a repeated
task batch that had landed is recognised, `MetadataStore.write_tasks`).

Belongs here: the policy, its clock and its log lines. Not the store calls, nor what the
driver does when the budget is spent (it leaves the run unfinished: `driver.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from dagyard.errors import StoreUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

FIRST_PAUSE_SECONDS = 0.25
LONGEST_PAUSE_SECONDS = 4.0


class Outages:
    """Retries the store calls of one driver (`what`, e.g. "run 1a2b...") through an
    outage of at most `budget_seconds`; 0 retries nothing. `clock` and `sleep` are
    injected for tests; `stop`, asked between tries, ends the wait early (the driver
    has to let the run go, e.g. its process is stopping). Not thread-safe."""

    def __init__(
        self,
        *,
        what: str,
        budget_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.what = what
        self.budget_seconds = budget_seconds
        self._clock = clock
        self._sleep = sleep
        self._stop = stop
        # When the outage under way began (the clock's time), and the next pause.
        self._began: float | None = None
        self._pause = FIRST_PAUSE_SECONDS

    @property
    def ongoing(self) -> bool:
        """Whether the last call met an outage that has not ended yet."""
        return self._began is not None

    def call(self, function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """`function(*args, **kwargs)`, tried again while it raises StoreUnavailable.
        StoreUnavailable once the outage has outlasted the budget (or `stop` said so);
        any other error at once."""
        while True:
            try:
                result = function(*args, **kwargs)
            except StoreUnavailable as error:
                self._wait(error)
                continue
            if self._began is not None:
                log.info(
                    "The metadata database answers again after %.1f s; %s goes on.",
                    self._clock() - self._began,
                    self.what,
                )
                self._began = None
            return result

    def _wait(self, error: StoreUnavailable) -> None:
        """Pause before the next try, or raise when there is to be none."""
        now = self._clock()
        if self._began is None:
            if self.budget_seconds <= 0:
                raise error
            self._began = now
            self._pause = FIRST_PAUSE_SECONDS
            log.warning(
                "%s waits for the metadata database, for at most %g s; its running tasks go on. %s",
                _capitalised(self.what),
                self.budget_seconds,
                error,
            )
        waited = now - self._began
        stopping = self._stop()
        if waited >= self.budget_seconds or stopping:
            self._began = None
            why = (
                "this process lets the run go"
                if stopping
                else f"at most {self.budget_seconds:g} s are waited, DAGYARD_STORE_OUTAGE_SECONDS"
            )
            raise StoreUnavailable(
                f"The metadata database did not answer for {waited:.0f} s ({why}). Last: {error}"
            ) from error
        self._sleep(min(self._pause, self.budget_seconds - waited))
        self._pause = min(self._pause * 2, LONGEST_PAUSE_SECONDS)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
