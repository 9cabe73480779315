"""The Ray head restarts under a run, on a real cluster of one node (the head, a separate
`ray start` process group), driven by the Ray executor of this process.

A first task has finished (its ledger file shows one run) and a second waits on a gate
file when the head's whole machine is killed: the second task's processes die with it.
A new head starts on the same address, without GCS fault tolerance, so it is a new
cluster: the executor's driver process, which lost its head, is replaced by one
connected to the new head; the lost attempt is run again there as a system retry, and
the finished task is not run again, its artifact intact.

This process never connects to Ray itself (`connect=False`): Ray would end a driver
whose head comes back as another cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import Cluster, ray_cluster
from test_executor_contract import as_component, finish, launcher, wait_until
from test_ray_faults import held_run, lines, start_time

from dagyard.executors.ray import RayExecutor
from dagyard.service.platform import Platform
from dagyard.store.records import RunState

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with ray_cluster({"head": {}}, connect=False) as c:
        yield c


def test_a_head_restart_loses_the_attempt_in_flight_which_runs_again_on_the_new_head(
    ray_platform: Platform, cluster: Cluster, tmp_path: Path
) -> None:
    old_head = cluster.nodes["head"]
    with held_run(ray_platform, tmp_path) as holding:
        wait_until(lambda: len(lines(holding.pids)) == 1, "the second task runs on Ray")
        processes = {pid: start_time(pid) for pid in lines(holding.pids)[0]}
        cluster.restart_head()
        # The gate is still closed: only the head's death can have ended them.
        assert all(start_time(pid) != born for pid, born in processes.items())
        wait_until(lambda: len(lines(holding.pids)) == 2, "the task to start again on the new head")
        run = holding.finish()

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.outputs == {"Output": "weights"}
    assert holding.ledger.read_text() == "ran\n"  # the finished task did not run again
    tasks = {t.name: t for t in ray_platform.store.list_tasks(run.run_id)}
    assert tasks["write-model"].attempts == 1
    held = tasks["hold-model"]
    assert (held.attempts, held.system_retries) == (2, 1)
    assert cluster.nodes["head"] != old_head
    assert held.node == cluster.nodes["head"]
    (model,) = [a for a in ray_platform.store.list_artifacts(run.run_id) if a.name == "model"]
    assert ray_platform.artifacts.read_bytes(model.uri) == b"weights"
    artifacts = ray_platform.artifacts
    first_log = artifacts.local_path(artifacts.log_uri(run.run_id, held.path, 1)).read_text()
    # The first attempt's log says it was lost with the machine under it. Which words
    # depends on a race this test cannot order: if the Ray driver process learns of the
    # task's end before the new head answers, it blames the head; if the new head
    # answers first (seen on a loaded machine), the node that died under the task.
    assert (
        f"The Ray head at {cluster.address!r} was lost" in first_log
        or "The Ray node or worker running this attempt was lost" in first_log
    ), first_log


def test_attempts_fail_naming_the_address_when_no_head_comes_back(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The head dies for good: the attempt it ran is reported lost, and one submitted
    afterwards waits for a head at the same address, then fails after the bound with a
    message that names the address (nothing of it ran)."""
    executor = RayExecutor(cluster.address, reconnect_timeout=3.0, kill_grace=1.0)
    make = launcher(tmp_path)
    try:
        running = make(as_component("import time\nprint('started')\ntime.sleep(120)", tmp_path))
        first = executor.submit(running)
        wait_until(lambda: "started" in read(running.log_path), "the first attempt runs")
        cluster.kill("head")
        lost = finish(executor, [first])[first]
        assert lost.lost and not lost.ok, lost
        later = make(as_component("print('ran after all')", tmp_path))
        second = executor.submit(later)
        assert executor.waiting([second]) == {
            second: f"Waiting for the Ray head at {cluster.address!r} to come back."
        }
        failed = finish(executor, [second])[second]
        assert not failed.lost and not failed.ok
        assert f"No Ray head answered at {cluster.address!r} for 3 s" in (failed.error or "")
        assert "ran after all" not in read(later.log_path)
    finally:
        executor.close()


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
