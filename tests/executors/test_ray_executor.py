"""The Ray executor on a real Ray cluster: a head and a second node, each a separate
`ray start` process on this machine with its own custom resource (`head_node`,
`worker_node`).

The executor contract suite runs unchanged against it; then pipelines whose tasks must
land on a given node, and a task that no node can fit. The cluster is started by
`ray_cluster.py`, shared with the fault tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_cluster import Cluster, free_port, ray_cluster
from test_executor_contract import ExecutorContract

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor
from dagyard.executors.ray import RayExecutor, ray_request, unfit_reason
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with ray_cluster({"head_node": {"head_node": 1}, "worker_node": {"worker_node": 1}}) as c:
        yield c


class TestRayExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self, cluster: Cluster) -> Iterator[Executor]:
        executor = RayExecutor(cluster.address, kill_grace=2.0)
        yield executor
        executor.close()


# Resources and the nodes tasks land on


def test_task_settings_become_ray_resources() -> None:
    assert ray_request({}).amounts() == {}
    assert ray_request(
        {"cpuRequest": 0.5, "cpuLimit": 2.0, "memoryLimit": 1.5, "accelerator": {"count": "2"}}
    ).amounts() == {"CPU": 0.5, "memory": 1.5e9, "GPU": 2.0}
    assert ray_request(
        {"resourceCpuLimit": "250m", "resourceMemoryRequest": "512Mi"}
    ).amounts() == {"CPU": 0.25, "memory": 512 * 2**20}
    named = {"accelerator": {"resourceType": "worker_node", "resourceCount": "1"}}
    assert ray_request(named).amounts() == {"worker_node": 1.0}
    assert ray_request({"accelerator": {"type": "nvidia.com/gpu"}}).amounts() == {"GPU": 1.0}


def test_unfit_reason_names_the_resource() -> None:
    nodes = [{"CPU": 1.0, "head_node": 1.0}, {"CPU": 4.0, "worker_node": 1.0}]
    assert unfit_reason({"CPU": 2.0, "worker_node": 1.0}, nodes) is None
    assert "'CPU': needs 8, the largest node has 4" in str(unfit_reason({"CPU": 8.0}, nodes))
    assert "'GPU': needs 1, no node has any" in str(unfit_reason({"GPU": 1.0}, nodes))
    both = unfit_reason({"CPU": 2.0, "head_node": 1.0}, nodes)
    assert both and "No single node" in both


@dsl.component
def where(label: str) -> str:
    import os

    return f"{label} in {os.getpid()}"


@dsl.pipeline
def placed() -> None:
    first = where(label="a").set_accelerator_type("worker_node").set_accelerator_limit(1)
    second = where(label="b").set_accelerator_type("head_node").set_accelerator_limit(1)
    second.after(first)
    where(label="c").set_accelerator_type("worker_node").after(second)


@dsl.pipeline
def too_big() -> None:
    where(label="huge").set_cpu_request("64")


def run_pipeline(platform: Platform, pipeline: dsl.GraphComponent) -> tuple[Run, dict[str, Task]]:
    run = runs.submit_run(platform, compile_to_dict(pipeline), parameters={})
    run = runs.drive_run(platform, run.run_id)
    return run, {t.path: t for t in platform.store.list_tasks(run.run_id)}


@pytest.fixture
def ray_platform(cluster: Cluster, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(home=tmp_path / "home", executor="ray", ray_address=cluster.address)
    opened = Platform.open(settings)
    try:
        yield opened
    finally:
        opened.close()


def test_tasks_land_on_the_node_with_their_accelerator_type(
    ray_platform: Platform, cluster: Cluster
) -> None:
    run, tasks = run_pipeline(ray_platform, placed)
    assert run.state == RunState.SUCCEEDED, run.error
    nodes = {path: task.node for path, task in tasks.items()}
    assert nodes == {
        "where": cluster.nodes["worker_node"],
        "where-2": cluster.nodes["head_node"],
        "where-3": cluster.nodes["worker_node"],
    }


def test_a_task_no_node_can_fit_fails_at_once_naming_the_resource(
    ray_platform: Platform,
) -> None:
    started = time.monotonic()
    run, tasks = run_pipeline(ray_platform, too_big)
    assert time.monotonic() - started < 20
    assert run.state == RunState.FAILED
    task = tasks["where"]
    assert task.state == TaskState.FAILED
    assert task.error and "'CPU': needs 64, the largest node has 1" in task.error


def test_an_unreachable_address_is_a_clear_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(ExecutorError, match=f"Cannot reach the Ray cluster at '{address}'"):
        RayExecutor(address)
