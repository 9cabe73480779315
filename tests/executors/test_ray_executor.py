"""The Ray executor on a real Ray cluster: a head and a second node, each a separate
`ray start` process on this machine with its own custom resource (`head_node`,
`worker_node`).

The executor contract suite runs unchanged against it; then pipelines whose tasks must
land on a given node, a task that no node can fit, a task that waits for another to free
its node (PENDING with the reason, read through the REST API), and artifacts passed
between nodes through a real S3-compatible server. The cluster is started by
`ray_cluster.py`, shared with the fault tests; its nodes get the S3 server's AWS
variables, as real nodes would get their credentials.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from conditions import eventually
from ray_cluster import Cluster, free_port, ray_cluster
from test_executor_contract import ExecutorContract, finish, launcher, wait_until

from dagyard import dsl, ir
from dagyard.compiler import compile_to_dict
from dagyard.errors import ExecutorError
from dagyard.executors.base import Executor
from dagyard.executors.ray import RayExecutor, busy_reason, ray_request, unfit_reason
from dagyard.ir.pipeline import Accelerator, ContainerComponent, Resources
from dagyard.server.app import create_app
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState

pytestmark = pytest.mark.slow
T = TypeVar("T")


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
    assert ray_request(None).amounts() == {}
    assert ray_request(Resources()).amounts() == {}
    numbers = Resources(
        cpu_request=0.5, cpu_limit=2.0, memory_limit=1.5, accelerator=Accelerator(count=2)
    )
    assert ray_request(numbers).amounts() == {"CPU": 0.5, "memory": 1.5e9, "GPU": 2.0}
    quantities = Resources(resource_cpu_limit="250m", resource_memory_request="512Mi")
    assert ray_request(quantities).amounts() == {"CPU": 0.25, "memory": 512 * 2**20}
    # The string form wins over the number; a request over a limit.
    both = Resources(cpu_request=4.0, resource_cpu_request="1", resource_cpu_limit="3")
    assert ray_request(both).amounts() == {"CPU": 1.0}
    named = Resources(accelerator=Accelerator(resource_type="worker_node", resource_count="1"))
    assert ray_request(named).amounts() == {"worker_node": 1.0}
    gpu = Resources(accelerator=Accelerator(type="nvidia.com/gpu"))
    assert ray_request(gpu).amounts() == {"GPU": 1.0}


def test_a_compiled_tasks_settings_reach_ray_as_typed_resources() -> None:
    @dsl.pipeline(name="sized")
    def sized() -> None:
        task = where(label="x")
        task.set_cpu_limit("500m").set_memory_request("1Gi")
        task.set_accelerator_type("worker_node").set_accelerator_limit(1)

    plan = ir.plan(ir.from_dict(compile_to_dict(sized)))
    (component,) = [c for c in plan.components.values() if isinstance(c, ContainerComponent)]
    assert ray_request(component.container.resources).amounts() == {
        "CPU": 0.5,
        "memory": 2**30,
        "worker_node": 1.0,
    }


def test_unfit_reason_names_the_resource() -> None:
    nodes = [{"CPU": 1.0, "head_node": 1.0}, {"CPU": 4.0, "worker_node": 1.0}]
    assert unfit_reason({"CPU": 2.0, "worker_node": 1.0}, nodes) is None
    assert "'CPU': needs 8, the largest node has 4" in str(unfit_reason({"CPU": 8.0}, nodes))
    assert "'GPU': needs 1, no node has any" in str(unfit_reason({"GPU": 1.0}, nodes))
    both = unfit_reason({"CPU": 2.0, "head_node": 1.0}, nodes)
    assert both and "No single node" in both


def test_busy_reason_names_the_resource_no_able_node_has_free() -> None:
    nodes = [{"CPU": 1.0, "head_node": 1.0}, {"CPU": 4.0, "worker_node": 1.0}]
    busy = [{"CPU": 1.0, "head_node": 1.0}, {"CPU": 3.0}]
    assert busy_reason({"worker_node": 1.0}, nodes, busy) == (
        "Waiting for capacity on the Ray cluster: resource 'worker_node': needs 1, "
        "0 free on the only node that can run it."
    )
    # Only the nodes able to run it count: the head's free CPU does not help a 2-CPU task.
    two = busy_reason({"CPU": 2.0}, nodes, [{"CPU": 1.0}, {"CPU": 1.5}])
    assert two == (
        "Waiting for capacity on the Ray cluster: resource 'CPU': needs 2, "
        "1.5 free on the only node that can run it."
    )
    many = busy_reason({"CPU": 1.0}, nodes, [{}, {"CPU": 0.5}])
    assert many and "'CPU': needs 1, at most 0.5 free on the 2 nodes" in many
    split = busy_reason(
        {"CPU": 1.0, "GPU": 1.0}, [{"CPU": 2, "GPU": 2}] * 2, [{"CPU": 1}, {"GPU": 1}]
    )
    assert split and "none of the 2 nodes that can run it has all of 'CPU' 1, 'GPU' 1" in split
    # Free somewhere able, or never able anywhere (unfit_reason's case): not waiting.
    assert busy_reason({"worker_node": 1.0}, nodes, [{}, {"worker_node": 1.0}]) is None
    assert busy_reason({"GPU": 1.0}, nodes, busy) is None


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
        container_runtime="off",
        home=home,
        executor="ray",
        ray_address=cluster.address,
        artifact_root=s3_root,
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


def test_a_cluster_that_asks_for_a_token_takes_work_from_an_executor_given_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray's token authentication: without the cluster's token the executor says what it
    needs; with it (in the orchestrator's environment, which the driver process
    inherits) tasks run."""
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": uuid.uuid4().hex}
    with ray_cluster({"head": {}}, env=auth, connect=False) as cluster:
        with pytest.raises(ExecutorError, match=r"asks for a token.*RAY_AUTH_MODE=token"):
            RayExecutor(cluster.address)
        for name, value in auth.items():
            monkeypatch.setenv(name, value)
        executor = RayExecutor(cluster.address, kill_grace=2.0)
        try:
            handle = executor.submit(launcher(tmp_path)(["true"]))
            assert finish(executor, [handle])[handle].exit_code == 0
        finally:
            executor.close()


def test_an_outcome_sent_before_the_driver_process_ended_counts_not_lost(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The driver process sends each outcome as its attempt ends: one it sent before it
    ended (here killed) is what `wait` reports, not a loss."""
    executor = RayExecutor(cluster.address, kill_grace=2.0)
    try:
        handle = executor.submit(launcher(tmp_path)(["true"]))
        driver = executor._driver
        assert driver is not None
        wait_until(lambda: handle in driver._ended, "its outcome to come")
        driver.process.kill()
        wait_until(lambda: driver.gone is not None, "the driver process to be seen gone")
        outcome = executor.wait([handle], 0)[handle]
        assert outcome.exit_code == 0 and not outcome.lost
    finally:
        executor.close()


@pytest.fixture
def api(ray_platform: Platform) -> Iterator[httpx.Client]:
    """The REST API over `ray_platform`: a real server on a free port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(ray_platform), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started or not thread.is_alive(), "the API server to start", 10)
    assert server.started
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/apis/v2beta1", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)


@dsl.component
def hold(release: str) -> str:
    """Run until the file `release` exists (the test creates it), then end."""
    import os
    import time

    deadline = time.monotonic() + 120
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{release} was never created")
        time.sleep(0.02)
    return release


@dsl.pipeline
def two_for_one_node(first: str, second: str) -> None:
    """Two tasks at once that each need the worker node's only `worker_node`."""
    hold(release=first).set_accelerator_type("worker_node").set_accelerator_limit(1)
    hold(release=second).set_accelerator_type("worker_node").set_accelerator_limit(1)


def test_a_task_waiting_for_a_busy_node_shows_pending_with_the_reason(
    ray_platform: Platform, api: httpx.Client, tmp_path: Path
) -> None:
    releases = {"hold": tmp_path / "release-1", "hold-2": tmp_path / "release-2"}
    run = runs.submit_run(
        ray_platform,
        compile_to_dict(two_for_one_node),
        parameters={"first": str(releases["hold"]), "second": str(releases["hold-2"])},
    )
    driver = threading.Thread(target=runs.drive_run, args=(ray_platform, run.run_id))
    driver.start()

    def tasks() -> dict[str, dict[str, Any]]:
        response = api.get(f"/runs/{run.run_id}/tasks")
        response.raise_for_status()
        return {t["path"]: t for t in response.json()["tasks"]}

    def one_waiting() -> tuple[str, str] | None:
        states = {path: t["state"] for path, t in tasks().items()}
        if sorted(states.values()) != ["PENDING", "RUNNING"]:
            return None
        return next(p for p, s in states.items() if s == "RUNNING"), next(
            p for p, s in states.items() if s == "PENDING"
        )

    try:
        # Ray starts either one first: the other waits for the node to be free.
        holder, waiter = eventually(one_waiting, "one task RUNNING and the other PENDING")
        reason = (
            "Waiting for capacity on the Ray cluster: resource 'worker_node': needs 1, "
            "0 free on the only node that can run it."
        )
        assert tasks()[waiter]["error"] == reason
        assert tasks()[holder].get("error") is None
        # KFP's view of the run shows the same.
        details = api.get(f"/runs/{run.run_id}").json()["run_details"]["task_details"]
        shown = {d["task_id"]: d for d in details}[tasks()[waiter]["task_id"]]
        assert shown["state"] == "PENDING" and shown["error"]["message"] == reason

        releases[holder].touch()
        started = eventually(
            lambda: (t := tasks()[waiter])["state"] == "RUNNING" and t,
            f"{waiter} to start once {holder} freed the node",
        )
        assert started.get("error") is None
        assert tasks()[holder]["state"] == "SUCCEEDED"
    finally:
        for release in releases.values():
            release.touch()
        driver.join(120)
    assert not driver.is_alive()
    final = ray_platform.store.get_run(run.run_id)
    assert final.state == RunState.SUCCEEDED, final.error
    ended = {t.path: (t.state, t.error) for t in ray_platform.store.list_tasks(run.run_id)}
    assert ended == {"hold": (TaskState.SUCCEEDED, None), "hold-2": (TaskState.SUCCEEDED, None)}
