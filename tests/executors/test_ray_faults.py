"""Faults on the Ray executor, on a real cluster: a head with no custom resource and two
worker nodes that both provide `pool`, each a separate `ray start` process group.

A task that needs `pool` starts on one worker; the test kills that whole machine (the
node's process group, and the attempt's own process group, which a machine losing power
would take with it) while the task waits on a gate file. The attempt is run again on the
surviving worker as a system retry, apart from the task's retry policy, and the run
succeeds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
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


@pytest.fixture
def ray_platform(cluster: Cluster, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(home=tmp_path / "home", executor="ray", ray_address=cluster.address)
    opened = Platform.open(settings)
    try:
        yield opened
    finally:
        opened.close()


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
