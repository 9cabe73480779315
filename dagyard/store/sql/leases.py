"""Run leases on SQL: which process drives a run, claimed, renewed and released with one
conditional UPDATE each (the database decides a race). Part of `SqlMetadataStore`;
nothing but leases belongs here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from dagyard.errors import LeaseLost
from dagyard.store.records import RunState
from dagyard.store.sql import rows
from dagyard.store.sql.schema import RunRow
from dagyard.store.sql.transactions import Transactions


class LeaseStorage(Transactions):
    """`claim_run`, `renew_lease` and `release_run` of the metadata store."""

    # Each is one conditional UPDATE, decided by the database however many processes
    # race: the row lock makes a second UPDATE re-check its WHERE against the first's
    # result (PostgreSQL, InnoDB), and SQLite has one writer at a time. The MySQL
    # dialects count matched rows (CLIENT_FOUND_ROWS), not changed ones.
    def claim_run(
        self,
        run_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        replacing: str | None = None,
    ) -> bool:
        rows.check_time("now", now)
        rows.check_time("until", until)
        unfinished = [rows.check_value(RunRow, "state", s) for s in RunState if not s.terminal]
        claim = (
            sa.update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.state.in_(unfinished))
            .where(
                sa.or_(
                    RunRow.lease_owner.is_(None),
                    RunRow.lease_owner.in_([owner] if replacing is None else [owner, replacing]),
                    RunRow.lease_expires_at < now,
                )
            )
            .values(lease_owner=owner, lease_expires_at=until)
        )
        return self._changed(claim)

    def renew_lease(self, run_id: str, owner: str, *, until: datetime) -> bool:
        rows.check_time("until", until)
        renew = (
            sa.update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.lease_owner == owner)
            .values(lease_expires_at=until)
        )
        return self._changed(renew)

    def release_run(self, run_id: str, owner: str) -> None:
        self._changed(
            sa.update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )

    def _changed(self, statement: sa.Update) -> bool:
        """Run one UPDATE; whether it matched a row."""
        with self._session(write=True) as session:
            result = session.execute(statement.execution_options(synchronize_session=False))
            return cast(sa.CursorResult[Any], result).rowcount == 1


def lease_lost(run_id: str, owner: str, holder: str | None) -> LeaseLost:
    now_held = f"{holder} holds it now" if holder else "nobody holds it now"
    return LeaseLost(
        f"Run {run_id} is no longer driven by {owner}: its lease was taken over "
        f"({now_held}), so nothing was written."
    )
