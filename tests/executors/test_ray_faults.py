"""Faults on the Ray executor, on a real cluster: a head with no custom resource and two
worker nodes that both provide `pool`, each a separate `ray start` process group.

A task that needs `pool` starts on one worker; the test kills that whole machine (the
node's process group, and the attempt's own process group, which a machine losing power
would take with it) while the task waits on a gate file. The attempt is run again on the
surviving worker as a system retry, apart from the task's retry policy, and the run
succeeds.

Two smaller deaths: a `dagyard worker` driving a run on the cluster is killed with
SIGKILL (its task's processes die, a second worker resubmits the task, the finished one
is not run again), and the Ray worker process running a task is killed with SIGKILL (the
task's processes die with it, and it is retried).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ray_cluster import Cluster, group_alive, ray_cluster
from test_executor_contract import wait_until

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, TaskState

pytestmark = pytest.mark.slow

WORKERS = ("worker-a", "worker-b")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Per test: a test kills one of the workers.
    nodes = {"head": {}, **{name: {"pool": 1.0} for name in WORKERS}}
    with ray_cluster(nodes) as c:
        yield c


@dsl.component
def wait_for_gate(ledger: str, gate: str) -> str:
    import os
    import time

    print("started", flush=True)
    # One line per attempt: its process group, so the test can find (and kill) it.
    with open(ledger, "a") as f:
        f.write(f"{os.getpgid(0)}\n")
    end = time.monotonic() + 120
    while not os.path.exists(gate):
        if time.monotonic() > end:
            raise SystemExit(f"gave up waiting for {gate}")
        time.sleep(0.05)
    return "through"


@dsl.pipeline
def gated(ledger: str, gate: str) -> None:
    (
        wait_for_gate(ledger=ledger, gate=gate)
        .set_accelerator_type("pool")
        .set_retry(num_retries=0)
        .set_caching_options(False)
    )


def _parent(pid: int) -> tuple[int, int]:
    """(parent pid, process group) of `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2])


def _ray_worker_of(pid: int) -> int:
    """The Ray worker process `pid` descends from (its parent when exec'd, its zygote's
    parent when forked)."""
    while pid > 1:
        pid, _ = _parent(pid)
        if Path(f"/proc/{pid}/cmdline").read_text().startswith("ray::"):
            return pid
    raise AssertionError("the task does not run under a Ray worker process")


def node_of(cluster: Cluster, pid: int) -> str:
    """The name of the cluster node whose processes `pid` descends from."""
    by_group = {group: name for name, group in cluster.groups.items()}
    while pid > 1:
        pid, group = _parent(pid)
        if group in by_group:
            return by_group[group]
    raise AssertionError(f"process {pid} is not running on any node of the cluster")


def attempts(ledger: Path) -> list[int]:
    return [int(line) for line in ledger.read_text().split()] if ledger.exists() else []


def test_a_task_whose_node_dies_is_retried_on_another_node_as_a_system_retry(
    ray_platform: Platform, cluster: Cluster, tmp_path: Path
) -> None:
    ledger, gate = tmp_path / "ledger", tmp_path / "gate"
    run = runs.submit_run(
        ray_platform,
        compile_to_dict(gated),
        parameters={"ledger": str(ledger), "gate": str(gate)},
    )
    finished: list[Run] = []
    driver = threading.Thread(
        target=lambda: finished.append(runs.drive_run(ray_platform, run.run_id)), daemon=True
    )
    driver.start()
    try:
        wait_until(lambda: len(attempts(ledger)) == 1, "the first attempt to start")
        first_group = attempts(ledger)[0]
        lost = node_of(cluster, first_group)
        assert lost in WORKERS
        (survivor,) = set(WORKERS) - {lost}
        cluster.kill(lost)
        wait_until(lambda: not group_alive(first_group), "the attempt's processes to die")

        wait_until(lambda: len(attempts(ledger)) == 2, "the attempt to start again")
        assert node_of(cluster, attempts(ledger)[1]) == survivor
        gate.touch()
        driver.join(timeout=60)
        assert not driver.is_alive(), "the run did not finish"
    finally:
        gate.touch()  # never leave a task waiting, whatever failed
        driver.join(timeout=60)

    (run,) = finished
    assert run.state == RunState.SUCCEEDED, run.error
    (task,) = ray_platform.store.list_tasks(run.run_id)
    assert task.state == TaskState.SUCCEEDED
    assert task.outputs == {"Output": "through"}
    assert (task.attempts, task.system_retries) == (2, 1)
    assert task.node == cluster.nodes[survivor]
    # The first attempt keeps its own log, which says what happened to it.
    artifacts = ray_platform.artifacts
    first_log = artifacts.local_path(artifacts.log_uri(run.run_id, task.path, 1)).read_text()
    assert "started" in first_log
    assert "was lost" in first_log
    second_log = artifacts.local_path(artifacts.log_uri(run.run_id, task.path, 2)).read_text()
    assert "started" in second_log and "lost" not in second_log


# The orchestrator dies: a `dagyard worker` with the Ray executor is killed mid-run.


@dsl.component
def write_model(ledger: str, model: dsl.Output[dsl.Model]) -> None:
    # One line per execution: a finished task that ran again would add one.
    with open(ledger, "a") as f:
        f.write("ran\n")
    with open(model.path, "w") as f:
        f.write("weights")


@dsl.component
def hold_model(model: dsl.Input[dsl.Model], pids: str, gate: str) -> str:
    import os
    import subprocess
    import sys
    import time

    # A process of its own in the attempt's group, as a task's helper would be.
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(pids, "a") as f:  # one line per attempt: the processes to watch
        f.write(f"{os.getpid()} {helper.pid}\n")
    end = time.monotonic() + 120
    while not os.path.exists(gate):
        if time.monotonic() > end:
            raise SystemExit(f"gave up waiting for {gate}")
        time.sleep(0.05)
    with open(model.path) as f:
        return f.read()


@dsl.pipeline
def train_then_hold(ledger: str, pids: str, gate: str) -> str:
    trained = write_model(ledger=ledger).set_caching_options(False)
    held = hold_model(model=trained.outputs["model"], pids=pids, gate=gate)
    return held.set_caching_options(False).set_retry(num_retries=0).output


@dataclasses.dataclass
class HeldRun:
    """A run of `train_then_hold` driven on a thread of this process: its first task
    writes the ledger, its second the pids of its processes, then waits at `gate`."""

    ledger: Path
    pids: Path
    gate: Path
    thread: threading.Thread
    done: list[Run]

    def finish(self) -> Run:
        """Open the gate; the run, once the driver has ended it."""
        self.gate.touch()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the run did not finish"
        (run,) = self.done
        return run


@contextlib.contextmanager
def held_run(platform: Platform, tmp_path: Path) -> Iterator[HeldRun]:
    ledger, pids, gate = tmp_path / "ledger", tmp_path / "pids", tmp_path / "gate"
    run = runs.submit_run(
        platform,
        compile_to_dict(train_then_hold),
        parameters={"ledger": str(ledger), "pids": str(pids), "gate": str(gate)},
    )
    done: list[Run] = []
    thread = threading.Thread(
        target=lambda: done.append(runs.drive_run(platform, run.run_id)), daemon=True
    )
    thread.start()
    try:
        yield HeldRun(ledger, pids, gate, thread, done)
    finally:
        gate.touch()  # never leave a task waiting, whatever failed
        thread.join(timeout=60)


DAGYARD = Path(sys.executable).with_name("dagyard")


class RayWorkers:
    """`dagyard worker --executor ray` processes on one SQLite file and artifact folder."""

    def __init__(self, root: Path, ray_address: str) -> None:
        self.root = root
        self.ray_address = ray_address
        self.database_url = f"sqlite:///{root / 'dagyard.db'}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        # The client's platform creates the schema before any worker starts.
        self.platform = Platform.open(
            Settings(
                container_runtime="off",
                home=root / "client",
                database_url=self.database_url,
                artifact_root=str(root / "artifacts"),
            )
        )

    def start(self) -> subprocess.Popen[bytes]:
        index = len(self.processes)
        log = self.root / f"worker-{index}.log"
        env = {
            **os.environ,
            "DAGYARD_HOME": str(self.root / f"worker-{index}"),
            "DAGYARD_ARTIFACT_ROOT": str(self.root / "artifacts"),
            "DAGYARD_LEASE_SECONDS": "2",
        }
        command = [str(DAGYARD), "worker", "--database-url", self.database_url]
        command += ["--executor", "ray", "--ray-address", self.ray_address]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.platform.close()


@pytest.fixture
def ray_workers(cluster: Cluster, tmp_path: Path) -> Iterator[RayWorkers]:
    started = RayWorkers(tmp_path, cluster.address)
    try:
        yield started
    finally:
        started.close()


def eventually(check: Callable[[], bool], what: str, workers: RayWorkers) -> None:
    deadline = time.monotonic() + 90
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}\n{workers.output()}")
        time.sleep(0.05)


def lines(path: Path) -> list[list[int]]:
    """The process ids each attempt wrote, one line per attempt."""
    text = path.read_text() if path.exists() else ""
    return [[int(pid) for pid in line.split()] for line in text.splitlines()]


def start_time(pid: int) -> str | None:
    """When process `pid` started (to tell it from a later process with its pid), or None
    once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def test_a_killed_orchestrators_ray_task_dies_and_is_resubmitted_without_rerunning_finished_tasks(
    ray_workers: RayWorkers, tmp_path: Path
) -> None:
    ledger, pids, gate = tmp_path / "ledger", tmp_path / "pids", tmp_path / "gate"
    store = ray_workers.platform.store
    first = ray_workers.start()
    run = runs.submit_run(
        ray_workers.platform,
        compile_to_dict(train_then_hold),
        parameters={"ledger": str(ledger), "pids": str(pids), "gate": str(gate)},
    )
    try:
        eventually(lambda: len(lines(pids)) == 1, "the second task runs on Ray", ray_workers)
        processes = {pid: start_time(pid) for pid in lines(pids)[0]}
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # The gate is still closed: only the orchestrator's death can end those processes.
        eventually(
            lambda: all(start_time(pid) != born for pid, born in processes.items()),
            f"the killed orchestrator's task processes {list(processes)} die",
            ray_workers,
        )

        ray_workers.start()
        eventually(lambda: len(lines(pids)) == 2, "the task is resubmitted", ray_workers)
        gate.touch()
        eventually(
            lambda: store.get_run(run.run_id).state.terminal, "the run finishes", ray_workers
        )
    finally:
        gate.touch()  # never leave a task waiting, whatever failed

    finished = store.get_run(run.run_id)
    assert finished.state == RunState.SUCCEEDED, f"{finished.error}\n{ray_workers.output()}"
    assert finished.outputs == {"Output": "weights"}
    tasks = {t.name: t for t in store.list_tasks(run.run_id)}
    assert ledger.read_text() == "ran\n"  # the finished task did not run again
    assert tasks["write-model"].attempts == 1
    assert tasks["hold-model"].attempts == 2
    (model,) = [a for a in store.list_artifacts(run.run_id) if a.name == "model"]
    assert ray_workers.platform.artifacts.read_bytes(model.uri) == b"weights"


def test_a_task_whose_ray_worker_process_is_killed_dies_with_it_and_is_retried(
    ray_platform: Platform, tmp_path: Path
) -> None:
    with held_run(ray_platform, tmp_path) as held:
        wait_until(lambda: len(lines(held.pids)) == 1, "the second task runs on Ray")
        processes = {pid: start_time(pid) for pid in lines(held.pids)[0]}
        worker = _ray_worker_of(lines(held.pids)[0][0])
        os.kill(worker, signal.SIGKILL)  # as the OOM killer would: no handler runs
        wait_until(
            lambda: all(start_time(pid) != born for pid, born in processes.items()),
            "the attempt's processes die with their Ray worker",
        )
        wait_until(lambda: len(lines(held.pids)) == 2, "the attempt to start again")
        run = held.finish()

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.outputs == {"Output": "weights"}
    assert held.ledger.read_text() == "ran\n"
    tasks = {t.name: t for t in ray_platform.store.list_tasks(run.run_id)}
    assert (tasks["hold-model"].attempts, tasks["hold-model"].system_retries) == (2, 1)
