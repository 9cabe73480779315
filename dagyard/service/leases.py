"""Run leases held by this process: claiming a run before driving it, renewing every
lease held from one heartbeat thread, and telling a run's driver when its lease is lost.

The database decides who holds a lease (`MetadataStore.claim_run` and friends are
compare-and-set updates); this module only keeps the claims of one process alive. A
lease counts as lost when a renewal is refused (another process took the run over).
Once its last known expiry has passed on this machine's monotonic clock (the process
was paused, or the database did not answer the heartbeat), the driver's next check
asks the database at once: a process paused for longer than the lease stops driving a
run another process took before it writes anything more, and keeps driving one nobody
took. While the database does not answer, a lapsed lease is not lost: the driver is
waiting the outage out (`engine/outages.py`), and the database refuses any write it
makes after (fenced by the owner) if another process took the run meanwhile. An outage
is logged once when renewals start failing and once when they succeed again.
What to do with a run, and when, belongs in `worker.py` and `runs.py`, not here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagyard.errors import RunError, StoreUnavailable
from dagyard.store.metadata import MetadataStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def new_owner() -> str:
    """A lease owner id, unique per process and start: host, process id, random."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def is_dead_here(owner: str) -> bool:
    """Whether `owner` names a process of this machine that no longer runs. Its leases
    can be taken over at once instead of after they lapse. Unsure (another machine, or
    a process id in use again) means alive."""
    host, _, rest = owner.rpartition(":")[0].rpartition(":")
    if host != socket.gethostname() or not rest.isdigit():
        return False
    try:
        stat = Path(f"/proc/{rest}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"  # a zombie has exited


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Lease:
    """This process's claim on one run. `lost()` tells the run's driver to stop."""

    def __init__(
        self,
        run_id: str,
        owner: str,
        deadline: float,
        renew: Callable[[Lease], bool | None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.owner = owner  # the run's writes are fenced by it (`MetadataStore` fence=)
        self._deadline = deadline  # time.monotonic() at which the lease lapses
        self._lost = threading.Event()
        # Renews this lease now: whether the database did (None: it did not answer).
        self._renew = renew

    def lost(self) -> bool:
        """Whether the run is no longer this process's to drive: the lease was given up
        or taken over, or it lapsed here and the database, asked now, does not renew it
        for this owner (a database that does not answer renews nothing and takes
        nothing: see the module's docstring)."""
        if self._lost.is_set():
            return True
        if time.monotonic() < self._deadline:
            return False
        if self._renew is None:
            return True
        return self._renew(self) is False


class LeaseKeeper:
    """Claims runs for one owner and renews its leases every third of their length."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        owner: str | None = None,
        seconds: float = 15.0,
        clock: Clock = _utc_now,
    ) -> None:
        self.store = store
        self.owner = owner or new_owner()
        self.seconds = seconds
        self.clock = clock
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        # Whether the last renewal met a database that did not answer (logged once).
        self._unanswered = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def expiry(self) -> datetime:
        """When a lease claimed or renewed now would lapse."""
        return self.clock() + timedelta(seconds=self.seconds)

    def claim(self, run_id: str) -> Lease | None:
        """The run's lease, or None if another owner holds it or the run is finished."""
        deadline = time.monotonic() + self.seconds
        now = self.clock()
        until = now + timedelta(seconds=self.seconds)
        if not self.store.claim_run(run_id, self.owner, now=now, until=until):
            holder = self.store.get_run(run_id).lease_owner
            if holder is None or not is_dead_here(holder):
                return None
            replaced = self.store.claim_run(
                run_id, self.owner, now=now, until=until, replacing=holder
            )
            if not replaced:
                return None
            log.info("Took run %s over from %s, which has exited.", run_id, holder)
        lease = Lease(run_id, self.owner, deadline, renew=self._renew)
        with self._lock:
            self._leases[run_id] = lease
        return lease

    def release(self, run_id: str) -> None:
        """Give the run's lease up (if this owner still holds it)."""
        with self._lock:
            self._leases.pop(run_id, None)
        self.store.release_run(run_id, self.owner)

    def release_quietly(self, run_id: str) -> None:
        """`release`, where failing is no harm: the lease then lapses on its own."""
        try:
            self.release(run_id)
        except StoreUnavailable as e:
            log.warning("Run %s keeps its lease until it lapses: %s", run_id, e)
        except Exception:
            log.exception("Could not release the lease of run %s.", run_id)

    def release_all(self) -> None:
        with self._lock:
            held = list(self._leases)
        for run_id in held:
            self.release_quietly(run_id)

    def give_up(self) -> None:
        """Mark every lease held as lost, so that their drivers stop (before release)."""
        with self._lock:
            held = list(self._leases.values())
        for lease in held:
            lease._lost.set()

    def renew(self) -> None:
        """Renew every lease held once; mark the ones another owner took as lost."""
        with self._lock:
            held = list(self._leases.values())
        for lease in held:
            self._renew(lease)

    def _renew(self, lease: Lease) -> bool | None:
        """Renew one lease: True if renewed, False if another owner took it (it is lost
        now), None if the database did not answer or failed (it lapses here if that
        lasts, and is asked about again)."""
        deadline = time.monotonic() + self.seconds
        try:
            renewed = self.store.renew_lease(lease.run_id, self.owner, until=self.expiry())
        except StoreUnavailable as e:
            with self._lock:
                first, self._unanswered = not self._unanswered, True
            if first:
                log.warning("Cannot renew the leases of the runs driven here: %s", e)
            return None
        except Exception:  # a fault: logged whole, and the lease is asked about again
            log.exception("Could not renew the lease of run %s.", lease.run_id)
            return None
        with self._lock:
            recovered, self._unanswered = self._unanswered, False
        if recovered:
            log.info("The metadata database answers again; the leases are renewed.")
        if renewed:
            lease._deadline = deadline
            return True
        log.warning("Lost the lease of run %s to another process.", lease.run_id)
        lease._lost.set()
        with self._lock:
            self._leases.pop(lease.run_id, None)
        return False

    def start(self) -> LeaseKeeper:
        """Renew from a background thread until `stop`."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._heartbeat, name="dagyard-leases", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.seconds)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self.renew()


def held_message(store: MetadataStore, run_id: str) -> str:
    """Why a run's lease could not be claimed, naming its holder."""
    run = store.get_run(run_id)
    if run.state.terminal:
        return f"Run {run_id} is {run.state}; a finished run is not driven again."
    until = run.lease_expires_at.isoformat() if run.lease_expires_at else "soon"
    return (
        f"Run {run_id} is being driven by {run.lease_owner}, whose lease expires at "
        f"{until}. If that process is gone, try again after that time."
    )


@contextlib.contextmanager
def exclusive(
    store: MetadataStore, run_id: str, *, seconds: float, owner: str | None = None
) -> Iterator[Lease]:
    """Hold the run's lease (renewed in the background) for the block; RunError, naming
    the holder, if another process holds it."""
    keeper = LeaseKeeper(store, owner=owner, seconds=seconds)
    lease = keeper.claim(run_id)
    if lease is None:
        raise RunError(held_message(store, run_id))
    keeper.start()
    try:
        yield lease
    finally:
        keeper.stop()
        keeper.release_all()
