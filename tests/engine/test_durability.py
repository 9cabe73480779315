"""Durability: a run whose processes are killed with SIGKILL and resumed finishes as if
nothing had happened. No task that the database recorded as SUCCEEDED runs again, and
every recorded artifact is on disk with its recorded digest.

"Killed" means the machine lost power: the `dagyard` process *and every task process it
started* die at once. The local executor starts each task in its own session, so a
process-group kill would miss them; instead every process carries a marker in its
environment, the driver is frozen (SIGSTOP, so it cannot record anything more), and
everything with the marker is SIGKILLed.

The pipeline (tests/pipelines/run_durable.py) makes each task append `<label> <task id>
<pid>` to a ledger file, so the ledger says how often each task really ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Run, RunState, TaskKind, TaskState
from dagyard.store.sql import default_database_url, open_store

PIPELINE = Path(__file__).resolve().parents[1] / "pipelines" / "run_durable.py"
MARKER = "DAGYARD_TEST_MACHINE"
OUTPUT = {"Output": "big:30 done"}
LABELS = {"seed", "square-1", "square-2", "square-3", "square-4"}
LABELS |= {"total", "render", "check", "big", "finish"}
SEED = 20240611


@dataclasses.dataclass
class Line:
    label: str
    task_id: str
    pid: int


def read_ledger(path: Path) -> list[Line]:
    if not path.exists():
        return []
    lines = []
    for text in path.read_text().splitlines():
        label, task_id, pid = text.split()
        lines.append(Line(label, task_id, int(pid)))
    return lines


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.005)


class Machine:
    """A DAGYARD_HOME and every process started on it; `power_cut` kills them all."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.token = uuid.uuid4().hex
        home.mkdir(parents=True)
        # Create the database (and its schema) before any process races to do it.
        self.store: MetadataStore = open_store(default_database_url(home))
        self.artifacts = ArtifactStore(str(home / "artifacts"))
        self.logs: list[Path] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.home / f"process-{len(self.logs)}.log"
        self.logs.append(log)
        env = {**os.environ, "DAGYARD_HOME": str(self.home), MARKER: self.token}
        with open(log, "wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "dagyard.cli", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def power_cut(self, driver: subprocess.Popen[bytes]) -> None:
        """Freeze the driver, then SIGKILL it and every process it started."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(driver.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while pids := self._processes():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            driver.poll()  # reap the driver, so that it stops showing up
            if time.monotonic() > deadline:
                raise AssertionError(f"Processes {pids} survive SIGKILL.")
            time.sleep(0.005)
        driver.wait(timeout=10)

    def _processes(self) -> list[int]:
        wanted = f"{MARKER}={self.token}".encode()
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:  # gone, or not ours
                continue
            if wanted in environ.split(b"\0"):
                found.append(int(entry.name))
        return found

    def run_with_ledger(self, ledger: Path) -> Run | None:
        for run in self.store.list_runs():
            if run.runtime_config.get("parameters", {}).get("ledger") == str(ledger):
                return run
        return None

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def close(self) -> None:
        self.store.close()


@dataclasses.dataclass
class Kill:
    """What was durable at one power cut: the ledger, and the state of each task."""

    lines: int
    states: dict[str, TaskState]


def check_run(machine: Machine, run: Run, ledger: Path, kills: list[Kill]) -> None:
    """The run finished correctly and its history obeys the durability promises."""
    assert run.state == RunState.SUCCEEDED, (run.error, machine.output())
    assert run.outputs == OUTPUT
    lines = read_ledger(ledger)
    assert {line.label for line in lines} == LABELS, lines
    tasks = {t.task_id: t for t in machine.store.list_tasks(run.run_id)}
    assert all(line.task_id in tasks for line in lines)

    # Between two power cuts (one process lifetime) a task runs at most once ...
    bounds = [0, *(k.lines for k in kills), len(lines)]
    for start, end in itertools.pairwise(bounds):
        counts = Counter(line.task_id for line in lines[start:end])
        repeated = {task_id: n for task_id, n in counts.items() if n > 1}
        assert not repeated, f"ran more than once in one process: {repeated}"
    # ... and never again once the database said it SUCCEEDED.
    for kill in kills:
        done = {t for t, state in kill.states.items() if state == TaskState.SUCCEEDED}
        again = [line for line in lines[kill.lines :] if line.task_id in done]
        assert not again, f"SUCCEEDED before a kill, ran again after it: {again}"

    counts = Counter(line.task_id for line in lines)
    for task in tasks.values():
        if task.kind != TaskKind.CONTAINER:
            continue
        if task.name == "verdict-2":  # the Else branch
            assert task.state == TaskState.SKIPPED
            continue
        assert task.state == TaskState.SUCCEEDED, (task.path, task.state, task.error)
        assert 1 <= counts[task.task_id] <= task.attempts, (task.path, task.attempts)

    # No artifact is lost: each is on disk with the digest recorded for it, and the
    # consumers of the fanned-in and the sub-DAG artifacts got exactly one of each.
    artifacts = {a.artifact_id: a for a in machine.store.list_artifacts(run.run_id)}
    for artifact in artifacts.values():
        assert machine.artifacts.exists(artifact.uri), artifact
        assert machine.artifacts.digest(artifact.uri) == artifact.digest, artifact
    by_path = {t.path: t for t in tasks.values()}
    parts = by_path["total"].inputs["artifacts"]["parts"]
    assert sorted(artifacts[a].uri.split("/")[-3] for a in parts) == ["0", "1", "2", "3"]
    report = by_path["check"].inputs["artifacts"]["report"]
    assert [artifacts[a].uri.rsplit("/", 2)[-2] for a in report] == ["render"]


@pytest.mark.parametrize("hold", ["total", "check"])
def test_resume_after_kill_restores_loop_and_subdag_artifacts(tmp_path: Path, hold: str) -> None:
    """Killed while the consumer of a finished loop's collected artifacts (`total`) or of a
    finished sub-DAG's artifact (`check`) runs: on resume those artifacts come back from
    the database, and only the interrupted task runs again."""
    machine = Machine(tmp_path / "home")
    ledger = tmp_path / "ledger"
    try:
        driver = machine.start("run", str(PIPELINE), "-p", f"ledger={ledger}", "-p", f"hold={hold}")
        wait_until(
            lambda: (
                any(line.label == hold for line in read_ledger(ledger)) or driver.poll() is not None
            ),
            timeout=60,
            what=f"task {hold} to start",
        )
        assert driver.poll() is None, machine.output()
        machine.power_cut(driver)
        run = machine.run_with_ledger(ledger)
        assert run is not None and run.state == RunState.RUNNING
        kill = Kill(
            len(read_ledger(ledger)),
            {t.task_id: t.state for t in machine.store.list_tasks(run.run_id)},
        )
        Path(f"{ledger}.go").touch()
        resumed = machine.start("runs", "resume", run.run_id)
        assert resumed.wait(timeout=60) == 0, machine.output()
        check_run(machine, machine.store.get_run(run.run_id), ledger, [kill])
        counts = Counter(line.label for line in read_ledger(ledger))
        assert counts == {label: 2 if label == hold else 1 for label in LABELS}
    finally:
        machine.close()


def crash_runs(machine: Machine, rng: random.Random, kills: int) -> int:
    """Run the pipeline on one machine, cutting the power `kills` times at random moments
    and resuming, run after run, until the last run finishes. Returns the number of runs."""
    home = machine.home
    runs = 0
    try:
        while True:
            runs += 1
            ledger = home / f"run-{runs}.ledger"
            history: list[Kill] = []
            run_id: str | None = None
            while True:
                if run_id is None:
                    driver = machine.start("run", str(PIPELINE), "-p", f"ledger={ledger}")
                else:
                    driver = machine.start("runs", "resume", run_id)
                if kills == 0:
                    assert driver.wait(timeout=60) == 0, machine.output()
                    break
                if not _wait_for_moment(machine, driver, ledger, run_id, rng):
                    assert driver.wait(timeout=60) == 0, machine.output()
                    break  # the run ended before the moment came
                machine.power_cut(driver)
                kills -= 1
                run = machine.run_with_ledger(ledger)
                if run is None:
                    continue  # killed before the run was accepted: start it again
                run_id = run.run_id
                states = {t.task_id: t.state for t in machine.store.list_tasks(run_id)}
                history.append(Kill(len(read_ledger(ledger)), states))
                if run.state.terminal:
                    break
            run = machine.run_with_ledger(ledger)
            assert run is not None
            check_run(machine, run, ledger, history)
            if kills == 0:
                return runs
    finally:
        machine.close()


def _wait_for_moment(
    machine: Machine,
    driver: subprocess.Popen[bytes],
    ledger: Path,
    run_id: str | None,
    rng: random.Random,
) -> bool:
    """Wait for a randomly chosen moment of the run: a number of tasks started (ledger
    lines), a number of tasks recorded as finished (database), or a time since the start
    (which also lands before the run exists). False if the process ends first."""
    kind = rng.choice(["ledger", "ledger", "database", "time"])
    step = rng.randint(1, 4)
    jitter = rng.uniform(0.0, 0.05)
    if kind == "ledger":
        target = len(read_ledger(ledger)) + step

        def reached() -> bool:
            return len(read_ledger(ledger)) >= target

    elif kind == "database":

        def finished() -> int:
            run = machine.run_with_ledger(ledger)
            if run is None:
                return 0
            tasks = machine.store.list_tasks(run.run_id)
            return sum(1 for t in tasks if t.kind == TaskKind.CONTAINER and t.state.terminal)

        target = finished() + step

        def reached() -> bool:
            return finished() >= target

    else:
        deadline = time.monotonic() + rng.uniform(0.0, 3.0)

        def reached() -> bool:
            return time.monotonic() >= deadline

    wait_until(lambda: reached() or driver.poll() is not None, timeout=60, what=f"a {kind} moment")
    if driver.poll() is not None:
        return False
    time.sleep(jitter)  # land anywhere between two recorded steps, not only right after one
    return driver.poll() is None


@pytest.mark.slow
def test_runs_killed_at_random_moments_resume_to_the_same_result(tmp_path: Path) -> None:
    """Three machines side by side, five power cuts each, at moments drawn from a seeded
    random generator; each run is resumed (and killed again) until it finishes."""
    runs: dict[int, int] = {}
    failures: list[BaseException] = []

    # Opened here, one after the other: schema migrations must not run in parallel threads.
    machines = [Machine(tmp_path / f"machine-{i}") for i in range(3)]

    def crash(index: int) -> None:
        try:
            rng = random.Random(SEED + index)
            runs[index] = crash_runs(machines[index], rng, kills=5)
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=crash, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    assert len(runs) == 3 and sum(runs.values()) >= 3
