"""Runs survive a metadata database that goes away: fault injection with real parts.

A run worker (the one inside `dagyard up`) drives runs of real tasks (child processes)
while the test takes its database away: PostgreSQL backends terminated mid-run, a
server refusing connections (a TCP proxy on loopback, cut and restored), answers to
COMMIT lost after the commit landed, a SQLite write lock held past the busy timeout, a
full disk under the whole home. Every test asserts that no accepted run is lost: it
ends SUCCEEDED, no task of it is left PENDING or RUNNING, and no task that succeeded ran
again (each task notes its start in a journal file).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa
from conditions import eventually
from db_proxy import PostgresProxy

from dagyard.compiler import compile_to_dict
from dagyard.errors import StoreUnavailable
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, TaskState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from api_server import Server
from run_outages import gated, held_in_the_middle, six_steps
from small_disks import small_disk
from store_backends import new_postgres_database

STEPS = ("a", "b", "c", "d", "e", "f")
UNFINISHED = {TaskState.PENDING, TaskState.RUNNING, TaskState.CANCELING}

T = TypeVar("T")


# -- helpers ---------------------------------------------------------------------------
def patiently(read: Callable[[], T], seconds: float = 30) -> T:
    """`read()`, tried again while the test's own view of the database is away too."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return read()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def starts(journal: Path) -> Counter[str]:
    if not journal.exists():
        return Counter()
    lines = journal.read_text().splitlines()
    return Counter(line.split()[1] for line in lines if line.startswith("start "))


def ended(journal: Path, name: str) -> bool:
    return journal.exists() and f"end {name}" in journal.read_text().splitlines()


def states(platform: Platform, run: Run) -> dict[str, TaskState]:
    return {t.path: t.state for t in platform.store.list_tasks(run.run_id)}


def submit(platform: Platform, journal: Path, seconds: float = 0.4) -> Run:
    return runs.submit_run(
        platform,
        compile_to_dict(six_steps),
        parameters={"journal": str(journal), "seconds": seconds},
        cache_enabled=False,
    )


def finished(platform: Platform, run: Run) -> bool:
    return patiently(lambda: platform.store.get_run(run.run_id)).state.terminal


def assert_succeeded_once(platform: Platform, run: Run, journal: Path) -> None:
    """The run SUCCEEDED, each step started exactly once, nothing is left unfinished."""
    final = platform.store.get_run(run.run_id)
    tasks = platform.store.list_tasks(run.run_id)
    assert final.state == RunState.SUCCEEDED, (final.error, [(t.path, t.state) for t in tasks])
    assert starts(journal) == Counter(STEPS)
    assert [t.state for t in tasks] == [TaskState.SUCCEEDED] * len(STEPS)


def messages(logs: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in logs.records if text in r.getMessage()]


# The warning a run's driver logs when an outage begins.
WAITS = "waits for the metadata database"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Dagyard's log records, from every thread, at INFO and above."""
    caplog.set_level(logging.INFO, logger="dagyard")
    return caplog


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    with new_postgres_database(tmp_path / "pg") as url:
        yield url


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[PostgresProxy]:
    url = sa.make_url(postgres_url)
    started = PostgresProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield started
    finally:
        started.close()


def open_platform(
    home: Path, database_url: str = "", *, outage_seconds: float = 120, lease_seconds: float = 15
) -> Platform:
    return Platform.open(
        Settings(
            container_runtime="off",
            home=home,
            database_url=database_url,
            max_parallel=2,
            store_outage_seconds=outage_seconds,
            lease_seconds=lease_seconds,
        )
    )


@contextlib.contextmanager
def worker_on(home: Path, database_url: str = "", **settings: float) -> Iterator[Platform]:
    """A platform with a run worker driving its runs (as in `dagyard up`), until the
    block ends."""
    platform = open_platform(home, database_url, **settings)
    worker = RunWorker(platform, poll_seconds=0.1).start()
    try:
        yield platform
    finally:
        worker.stop()
        platform.close()


def lease_lapsed(platform: Platform, run: Run) -> bool:
    until = platform.store.get_run(run.run_id).lease_expires_at
    return until is None or until < datetime.now(UTC)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def terminate_backends(admin: sa.Engine, database: str) -> int:
    """Terminate every connection to `database`, as an administrator may; how many."""
    with admin.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            ).scalar_one()
        )


# -- PostgreSQL ------------------------------------------------------------------------
@pytest.mark.db
def test_a_run_survives_its_postgresql_connections_being_terminated(
    postgres_url: str, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal"
    database = str(sa.make_url(postgres_url).database)
    admin = sa.create_engine(
        sa.make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    terminated = []
    try:
        with worker_on(tmp_path / "home", postgres_url) as platform:
            run = submit(platform, journal)
            seen: Counter[str] = Counter()
            # Each time a step starts or ends, when the driver writes, every connection
            # of the run's database dies, again and again for a tenth of a second.
            while not finished(platform, run):
                now = starts(journal) + Counter(s for s in STEPS if ended(journal, s))
                if now != seen:
                    seen = now
                    burst = time.monotonic() + 0.1
                    while time.monotonic() < burst:
                        terminated.append(terminate_backends(admin, database))
                time.sleep(0.01)
            assert_succeeded_once(platform, run, journal)
    finally:
        admin.dispose()
    assert sum(1 for n in terminated if n) >= 6, terminated
    assert messages(logs, WAITS), "no outage was met"


@pytest.mark.db
def test_a_run_waits_out_a_database_that_refuses_connections(
    proxy: PostgresProxy, postgres_url: str, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal"
    with (
        worker_on(tmp_path / "home", proxy.url(postgres_url)) as platform,
        contextlib.closing(open_platform(tmp_path / "direct", postgres_url)) as direct,
    ):
        run = submit(platform, journal)
        eventually(lambda: starts(journal)["b"] == 1, "step b starts")
        proxy.cut()
        # The steps running go on and end while the database is away.
        eventually(lambda: ended(journal, "b") and ended(journal, "c"), "b and c end")
        eventually(lambda: bool(messages(logs, WAITS)), "the driver meets the outage")
        assert direct.store.get_run(run.run_id).state == RunState.RUNNING
        proxy.restore()
        eventually(lambda: finished(direct, run), "the run ends")
        assert_succeeded_once(direct, run, journal)
    assert len(messages(logs, WAITS)) == 1
    assert len(messages(logs, "answers again after")) == 1
    assert len(messages(logs, "Cannot look for runs to execute")) == 1
    assert not [r for r in logs.records if r.exc_info], "a traceback was logged"


@pytest.mark.db
def test_a_run_is_left_unfinished_past_the_outage_budget_and_resumed_later(
    proxy: PostgresProxy, postgres_url: str, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    journal, gate = tmp_path / "journal", tmp_path / "gate"
    proxied = proxy.url(postgres_url)
    with (
        worker_on(tmp_path / "home", proxied, outage_seconds=1, lease_seconds=3) as platform,
        contextlib.closing(open_platform(tmp_path / "direct", postgres_url)) as direct,
    ):
        run = runs.submit_run(
            platform,
            compile_to_dict(held_in_the_middle),
            parameters={"journal": str(journal), "gate": str(gate)},
            cache_enabled=False,
        )
        eventually(lambda: states(direct, run).get("hold") == TaskState.RUNNING, "b runs")
        eventually(lambda: starts(journal)["b"] == 1, "b's attempt starts")
        proxy.cut()
        eventually(lambda: bool(messages(logs, f"Left run {run.run_id} unfinished")), "given up")
        # Nothing was canceled or failed: the run and its step wait, RUNNING.
        left = direct.store.get_run(run.run_id)
        assert (left.state, left.error) == (RunState.RUNNING, None)
        assert states(direct, run) == {"step": TaskState.SUCCEEDED, "hold": TaskState.RUNNING}
        (first_b,) = [line for line in journal.read_text().splitlines() if " b " in line]
        pid = int(first_b.split()[2])
        eventually(lambda: not alive(pid), "b's attempt is killed with its driver")
        # Nobody renews the lease: it lapses, and any process may take the run.
        eventually(lambda: lease_lapsed(direct, run), "the lease lapses")
        proxy.restore()
        gate.touch()
        eventually(lambda: finished(direct, run), "the run is resumed and ends")
        final = direct.store.get_run(run.run_id)
        assert final.state == RunState.SUCCEEDED, final.error
        assert starts(journal) == Counter({"a": 1, "b": 2, "c": 1})  # b ran again
        assert set(states(direct, run).values()) == {TaskState.SUCCEEDED}
    assert len(messages(logs, f"Driving run {run.run_id}")) == 2


@pytest.mark.db
def test_a_batch_whose_commit_answer_was_lost_is_written_once(
    proxy: PostgresProxy, postgres_url: str, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal"
    with worker_on(tmp_path / "home", proxy.url(postgres_url)) as platform:
        run = submit(platform, journal, seconds=0.2)
        proxy.lose_commit_answers(8)
        eventually(lambda: finished(platform, run), "the run ends")
        assert_succeeded_once(platform, run, journal)
        # Each output is stored once (a repeated batch would have stored it twice).
        artifacts = platform.store.list_artifacts(run.run_id)
        assert len({a.artifact_id for a in artifacts}) == len(artifacts)
    assert proxy.lost_answers >= 3, proxy.lost_answers
    assert messages(logs, "had been written already")


# -- SQLite ----------------------------------------------------------------------------
def test_a_run_waits_out_a_sqlite_write_lock_held_past_the_busy_timeout(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal"
    database = tmp_path / "home" / "dagyard.db"
    with worker_on(tmp_path / "home", f"sqlite:///{database}?timeout=0.2") as platform:
        run = submit(platform, journal)
        eventually(lambda: starts(journal)["b"] == 1, "step b starts")
        with locked(database):
            eventually(lambda: ended(journal, "b") and ended(journal, "c"), "b and c end")
            eventually(lambda: bool(messages(logs, WAITS)), "the driver meets the outage")
        eventually(lambda: finished(platform, run), "the run ends")
        assert_succeeded_once(platform, run, journal)
    (waited,) = messages(logs, WAITS)
    assert "database is locked" in waited


@contextlib.contextmanager
def locked(database: Path) -> Iterator[None]:
    """SQLite's write lock on `database`, held by another connection for the block."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; the file, to delete for space again."""
    filler = folder / f"filler-{uuid.uuid4().hex}"
    with open(filler, "wb", buffering=0) as out:
        for size in (1 << 16, 1):  # big blocks, then the last bytes
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    return filler


def test_a_run_pauses_while_its_home_is_full_and_the_server_answers(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    gate = tmp_path / "gate"
    with (
        small_disk(tmp_path / "disk", megabytes=16) as disk,
        worker_on(disk / "home") as platform,
    ):
        server = Server(platform).start()
        try:
            run = runs.submit_run(
                platform,
                compile_to_dict(gated),
                parameters={"gate": str(gate)},
                cache_enabled=False,
            )
            eventually(lambda: states(platform, run) == {"wait-quietly": TaskState.RUNNING}, "runs")
            # Its write-ahead log emptied, the database must grow to write anything.
            with sqlite3.connect(disk / "home" / "dagyard.db") as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = fill(disk)
            with server.client() as api:
                read = api.get(f"/runs/{run.run_id}")
                assert read.status_code == 200 and read.json()["state"] == "RUNNING"
                write = api.post("/experiments", json={"display_name": "while full"})
                assert write.status_code == 503, write.text
                assert "the disk that holds it is full" in write.json()["message"]
                assert str(tmp_path) not in write.text and "sqlite" not in write.text
                gate.touch()  # the task ends; recording that needs the disk
                eventually(lambda: bool(messages(logs, WAITS)), "the driver meets the outage")
                assert api.get(f"/runs/{run.run_id}").json()["state"] == "RUNNING"
                filler.unlink()
                eventually(lambda: finished(platform, run), "the run ends")
                answer = api.get(f"/runs/{run.run_id}").json()
                assert answer["state"] == "SUCCEEDED", (answer["error"], answer["run_details"])
        finally:
            server.stop()
        assert states(platform, run) == {"wait-quietly": TaskState.SUCCEEDED}
    (waited,) = messages(logs, WAITS)
    assert "database or disk is full" in waited


def test_dagyard_run_leaves_a_run_unfinished_past_the_outage_budget_with_exit_4(
    tmp_path: Path,
) -> None:
    """`dagyard run` in-process: the database locked past the budget leaves the run
    RUNNING and says how to resume it; `dagyard runs resume` then finishes it."""
    home, journal, gate = tmp_path / "home", tmp_path / "journal", tmp_path / "gate"
    database = home / "dagyard.db"
    env = {
        **os.environ,
        "DAGYARD_HOME": str(home),
        "DAGYARD_DATABASE_URL": f"sqlite:///{database}?timeout=0.2",
        "DAGYARD_STORE_OUTAGE_SECONDS": "1",
    }
    command = [sys.executable, "-m", "dagyard.cli"]
    pipeline = Path(__file__).resolve().parents[1] / "pipelines" / "run_outages.py"
    parameters = ["-p", f"journal={journal}", "-p", f"gate={gate}"]
    output = tmp_path / "run.log"
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [*command, "run", str(pipeline), "--function", "held_in_the_middle", *parameters],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        eventually(lambda: starts(journal)["b"] == 1 or process.poll() is not None, "b starts")
        with locked(database):  # past the budget
            gate.touch()  # b ends: recording it must wait for the lock
            assert process.wait(timeout=60) == 4, output.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    said = " ".join(output.read_text().split())
    with contextlib.closing(open_platform(home, env["DAGYARD_DATABASE_URL"])) as platform:
        (run,) = platform.store.list_runs()
        assert f"error: Run {run.run_id} is left unfinished" in said
        assert f"`dagyard runs resume {run.run_id}`" in said
        error = said[said.index("error:") :]
        assert "sqlite" not in error and str(tmp_path) not in error
        assert platform.store.get_run(run.run_id).state == RunState.RUNNING
        assert states(platform, run) == {"step": TaskState.SUCCEEDED, "hold": TaskState.RUNNING}
    resumed = subprocess.run(
        [*command, "runs", "resume", run.run_id], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert starts(journal) == Counter({"a": 1, "b": 2, "c": 1})
