"""Several `dagyard worker` processes on one PostgreSQL database: each run is driven by
one of them at a time, and the runs of a killed worker are taken over and finished.

Real child processes (the installed `dagyard` command) on a fresh database per test;
skipped if the PostgreSQL server is unreachable (failed in CI)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState, TaskKind, TaskState

POSTGRES_URL = os.environ.get(
    "DAGYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DAGYARD = Path(sys.executable).with_name("dagyard")
LEASE_SECONDS = "2"

pytestmark = pytest.mark.slow


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def wait_for(path: str, a: int) -> int:
    import os
    import time

    while not os.path.exists(path):
        time.sleep(0.02)
    return a


@dsl.pipeline
def blocking(path: str) -> int:
    seed = add(a=1, b=1)
    held = wait_for(path=path, a=seed.output)
    return add(a=held.output, b=1).output


@dsl.pipeline
def quick(a: int = 1) -> int:
    return add(a=add(a=a, b=1).output, b=1).output


@pytest.fixture
def database_url() -> Iterator[str]:
    server = sa.make_url(POSTGRES_URL)
    admin = sa.create_engine(
        server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"dagyard_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError as error:
        admin.dispose()
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error.orig}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable ({error.orig})")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Workers:
    """`dagyard worker` processes on one database, with a shared artifact store."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.database_url = database_url
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        # The client's platform creates the schema before the workers race to.
        self.platform = Platform.open(self._settings(root / "client"))

    def _settings(self, home: Path) -> Settings:
        return Settings(
            home=home, database_url=self.database_url, artifact_root=str(self.root / "artifacts")
        )

    def start(self) -> subprocess.Popen[bytes]:
        index = len(self.processes)
        log = self.root / f"worker-{index}.log"
        env = {
            **os.environ,
            "DAGYARD_HOME": str(self.root / f"worker-{index}"),
            "DAGYARD_ARTIFACT_ROOT": str(self.root / "artifacts"),
            "DAGYARD_LEASE_SECONDS": LEASE_SECONDS,
        }
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(DAGYARD), "worker", "--database-url", self.database_url],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def claims(self) -> Counter[str]:
        """How often each run was claimed, over every worker's log."""
        found: Counter[str] = Counter()
        for log in self.logs:
            found.update(re.findall(r"Driving run (\w+) as ", log.read_text(errors="replace")))
        return found

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.platform.close()


@pytest.fixture
def workers(tmp_path: Path, database_url: str) -> Iterator[Workers]:
    started = Workers(tmp_path, database_url)
    try:
        yield started
    finally:
        started.close()


def eventually(check: Callable[[], bool], what: str, workers: Workers, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}\n{workers.output()}")
        time.sleep(0.05)


def owner_pid(owner: str) -> int:
    return int(owner.split(":")[-2])


def test_a_killed_workers_run_is_taken_over_and_finished(workers: Workers, tmp_path: Path) -> None:
    first, second = workers.start(), workers.start()
    release = tmp_path / "release"
    store = workers.platform.store
    run = runs.submit_run(
        workers.platform, compile_to_dict(blocking), parameters={"path": str(release)}
    )

    def waiting() -> bool:
        return any(
            t.name == "wait-for" and t.state == TaskState.RUNNING
            for t in store.list_tasks(run.run_id)
        )

    eventually(
        lambda: store.get_run(run.run_id).lease_owner is not None and waiting(),
        "a worker holds the run and its task waits",
        workers,
    )
    holder = store.get_run(run.run_id).lease_owner
    assert holder is not None
    killed = {first.pid: first, second.pid: second}[owner_pid(holder)]
    survivor = second if killed is first else first
    before = {t.path: t for t in store.list_tasks(run.run_id)}
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)

    def taken_over() -> bool:
        owner = store.get_run(run.run_id).lease_owner
        return owner is not None and owner != holder

    eventually(taken_over, "the other worker takes the run over", workers, seconds=30)
    new_owner = store.get_run(run.run_id).lease_owner
    assert new_owner is not None and owner_pid(new_owner) == survivor.pid
    release.touch()
    eventually(lambda: store.get_run(run.run_id).state.terminal, "the run finishes", workers)
    finished = store.get_run(run.run_id)
    assert finished.state == RunState.SUCCEEDED, workers.output()
    assert finished.outputs == {"Output": 3}
    after = {t.path: t for t in store.list_tasks(run.run_id)}
    for path, task in before.items():
        if task.state == TaskState.SUCCEEDED:
            assert after[path].attempts == task.attempts, path
    assert workers.claims()[run.run_id] == 2  # once by each worker


def test_two_workers_drive_each_of_many_runs_exactly_once(workers: Workers) -> None:
    spec = compile_to_dict(quick)
    submitted = [
        runs.submit_run(workers.platform, spec, parameters={"a": a}, cache_enabled=False)
        for a in range(20)
    ]
    workers.start(), workers.start()
    store = workers.platform.store
    eventually(
        lambda: all(store.get_run(r.run_id).state.terminal for r in submitted),
        "every run finishes",
        workers,
        seconds=120,
    )
    for a, run in enumerate(submitted):
        finished = store.get_run(run.run_id)
        assert finished.state == RunState.SUCCEEDED, workers.output()
        assert finished.outputs == {"Output": a + 2}
        assert finished.lease_owner is None  # released at the end
        leaves = [t for t in store.list_tasks(run.run_id) if t.kind == TaskKind.CONTAINER]
        assert [t.attempts for t in leaves] == [1, 1]
    claims = workers.claims()
    assert {r.run_id: claims[r.run_id] for r in submitted} == {r.run_id: 1 for r in submitted}
