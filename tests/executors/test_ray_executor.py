"""The Ray executor on a real Ray cluster: a head and a second node, each a separate
`ray start` process on this machine with its own custom resource (`head_node`,
`worker_node`).

The executor contract suite runs unchanged against it; then pipelines whose tasks must
land on a given node, a task that no node can fit, and artifacts passed between nodes
through a real S3-compatible server. The cluster is started by `ray_cluster.py`, shared
with the fault tests; its nodes get the S3 server's AWS variables, as real nodes would
get their credentials.
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
def cluster(s3_endpoint: str) -> Iterator[Cluster]:
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


@dsl.component
def produce(data: dsl.Output[dsl.Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("rows written on the worker node")
    data.metadata["node"] = "worker"


@dsl.component
def consume(data: dsl.Input[dsl.Dataset], upper: dsl.Output[dsl.Dataset]) -> str:
    with open(data.path) as f:
        text = f.read()
    with open(upper.path, "w") as f:
        f.write(text.upper())
    print("consumed", data.uri)
    return text


@dsl.pipeline
def across_nodes() -> None:
    made = produce().set_accelerator_type("worker_node").set_accelerator_limit(1)
    consume(data=made.outputs["data"]).set_accelerator_type("head_node").set_accelerator_limit(1)


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


def test_artifacts_cross_nodes_through_the_object_store(
    cluster: Cluster, tmp_path: Path, s3_root: str
) -> None:
    home = tmp_path / "home"
    settings = Settings(
        home=home, executor="ray", ray_address=cluster.address, artifact_root=s3_root
    )
    platform = Platform.open(settings)
    try:
        run, tasks = run_pipeline(platform, across_nodes)
        assert run.state == RunState.SUCCEEDED, run.error
        assert tasks["produce"].node == cluster.nodes["worker_node"]
        assert tasks["consume"].node == cluster.nodes["head_node"]
        assert tasks["consume"].outputs == {"Output": "rows written on the worker node"}
        artifacts = {a.name: a for a in platform.store.list_artifacts(run.run_id)}
        assert artifacts["data"].uri.startswith(s3_root + "/")
        assert artifacts["data"].metadata == {"node": "worker"}
        upper = platform.artifacts.read_text(artifacts["upper"].uri)
        assert upper == "ROWS WRITTEN ON THE WORKER NODE"
        # The consumer's log was shipped to the store from its node; in it, the task's
        # input URI is its local copy's path (what it reports back is translated).
        log = platform.artifacts.read_text(tasks["consume"].log_uri)
        assert f"consumed {home}" in log  # the task itself sees its local copy
        assert not (home / "artifacts").exists()
    finally:
        platform.close()


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
