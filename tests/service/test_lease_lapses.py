"""A run lease that lapsed on this machine's clock is checked with the database before
its driver gives the run up: renewed if nobody took the run, lost if another process
did, and kept while the database does not answer (the driver is waiting the outage
out). Real SQLite databases; leases of zero seconds lapse at once, so nothing sleeps."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagyard.service.leases import LeaseKeeper
from dagyard.store.records import Run
from dagyard.store.sql import SqlMetadataStore


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "dagyard.db"


@pytest.fixture
def store(database: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(f"sqlite:///{database}?timeout=0.05")
    opened.create_run(Run(run_id="r1", display_name="run", pipeline_spec={}))
    yield opened
    opened.close()


def test_a_lapsed_lease_nobody_took_is_renewed_and_not_lost(store: SqlMetadataStore) -> None:
    lease = LeaseKeeper(store, owner="here:1:a", seconds=0).claim("r1")
    assert lease is not None
    before = store.get_run("r1").lease_expires_at
    assert not lease.lost()
    renewed = store.get_run("r1")
    assert renewed.lease_owner == "here:1:a"
    assert renewed.lease_expires_at is not None and before is not None
    assert before <= renewed.lease_expires_at <= datetime.now(UTC)


def test_a_lapsed_lease_another_process_took_is_lost(store: SqlMetadataStore) -> None:
    lease = LeaseKeeper(store, owner="here:1:a", seconds=0).claim("r1")
    assert lease is not None
    assert LeaseKeeper(store, owner="there:2:b", seconds=60).claim("r1") is not None
    assert lease.lost()
    assert lease.lost()  # and stays lost, without asking again
    assert store.get_run("r1").lease_owner == "there:2:b"


def test_a_lapsed_lease_is_kept_while_the_database_does_not_answer(
    store: SqlMetadataStore, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lease = LeaseKeeper(store, owner="here:1:a", seconds=0).claim("r1")
    assert lease is not None
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # every write waits past the busy timeout
    try:
        with caplog.at_level(logging.INFO, logger="dagyard.service.leases"):
            assert not lease.lost()
            assert not lease.lost()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with caplog.at_level(logging.INFO, logger="dagyard.service.leases"):
        assert not lease.lost()  # answered: renewed
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert len(said) == 2, said
    assert said[0][0] == logging.WARNING and "database is locked" in said[0][1]
    assert said[1] == (logging.INFO, "The metadata database answers again; the leases are renewed.")
    assert not any(r.exc_info for r in caplog.records)
