"""Node selectors and volumes on the Ray executor, on a real Ray cluster of two nodes
(`ray start` processes on this machine, the worker node labelled `disktype=ssd`), with
pipelines compiled by the real kfp and kfp-kubernetes.

KFP facts: add_node_selector puts `key: value` in the pod's nodeSelector, so the pod runs
only on a node with that label (kfp.kubernetes.node_selector; KFP's driver,
extendPodSpecPatch); a mounted volume is seen at its mount path by the task's container
(kfp.kubernetes.volume, empty_dir)."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes
from ray_cluster import Cluster, ray_cluster

from dagyard.executors.ray_placement import NodeView, place
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.store.records import Run, RunState, Task, TaskState

pytestmark = [pytest.mark.slow, pytest.mark.kfp]

needs_mounts = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0,
    reason="volumes need a mount namespace: Linux, as root",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with ray_cluster(
        {"head_node": {"head_node": 1}, "worker_node": {"worker_node": 1}},
        labels={"worker_node": {"disktype": "ssd"}},
    ) as c:
        yield c


@kfp_dsl.container_component
def echo(text: str, said: kfp_dsl.OutputPath(str)):  # type: ignore[no-untyped-def, valid-type]
    return kfp_dsl.ContainerSpec(
        image="alpine", command=["sh", "-c", 'printf %s "$0" > "$1"'], args=[text, said]
    )


@kfp_dsl.container_component
def scratch(said: kfp_dsl.OutputPath(str)):  # type: ignore[no-untyped-def, valid-type]
    # What the empty dir holds, once the task has written a file in it.
    return kfp_dsl.ContainerSpec(
        image="alpine", command=["sh", "-c", 'touch /scratch/x && ls /scratch > "$0"', said]
    )


def _run(platform: Platform, tmp_path: Path, pipeline: Any) -> tuple[Run, dict[str, Task]]:
    path = tmp_path / "pipeline.yaml"
    kfp_compiler.Compiler().compile(pipeline, str(path))
    submitted = runs.submit_run(platform, runs.load_pipeline_spec(path), cache_enabled=False)
    run = runs.drive_run(platform, submitted.run_id)
    return run, {t.name: t for t in platform.store.list_tasks(run.run_id)}


def _selected(disktype: str) -> Any:
    @kfp_dsl.pipeline(name="ray-selected")
    def pipeline() -> None:
        kfp_kubernetes.add_node_selector(echo(text="a"), "disktype", disktype)

    return pipeline


def test_a_node_selector_runs_the_task_on_the_node_with_those_labels(
    ray_platform: Platform, cluster: Cluster, tmp_path: Path
) -> None:
    for _ in range(3):  # not by chance: every time
        run, tasks = _run(ray_platform, tmp_path, _selected("ssd"))
        assert run.state is RunState.SUCCEEDED, run.error
        assert tasks["echo"].node == cluster.nodes["worker_node"]
        assert tasks["echo"].warnings == []


def test_a_node_selector_no_node_matches_runs_anywhere_with_a_warning(
    ray_platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(ray_platform, tmp_path, _selected("nvme"))
    assert run.state is RunState.SUCCEEDED, run.error
    (warning,) = tasks["echo"].warnings
    assert warning.startswith("The node selector disktype=nvme (add_node_selector) matches no")
    assert "ray start --labels disktype=nvme" in warning


@needs_mounts
def test_a_task_with_volumes_runs_on_the_engines_node_and_sees_them(
    ray_platform: Platform, cluster: Cluster, tmp_path: Path
) -> None:
    @kfp_dsl.pipeline(name="ray-scratch")
    def pipeline() -> None:
        kfp_kubernetes.empty_dir_mount(scratch(), "scratch", "/scratch")

    assert not Path("/scratch").exists(), "this test needs a host without /scratch"
    for _ in range(2):
        run, tasks = _run(ray_platform, tmp_path, pipeline)
        assert run.state is RunState.SUCCEEDED, run.error
        assert tasks["scratch"].outputs["said"].split() == ["x"]
        assert tasks["scratch"].node == _home(cluster, ray_platform, tmp_path)
    assert not Path("/scratch").exists()


@needs_mounts
def test_a_task_with_volumes_that_needs_another_node_fails_before_it_runs(
    ray_platform: Platform, cluster: Cluster, tmp_path: Path
) -> None:
    home = _home(cluster, ray_platform, tmp_path)
    other = next(name for name, node in cluster.nodes.items() if node != home)

    @kfp_dsl.pipeline(name="ray-scratch-elsewhere")
    def pipeline() -> None:
        task = scratch().set_accelerator_type(other).set_accelerator_limit(1)
        kfp_kubernetes.empty_dir_mount(task, "scratch", "/scratch")

    run, tasks = _run(ray_platform, tmp_path, pipeline)
    assert run.state is RunState.FAILED
    task = tasks["scratch"]
    assert task.state is TaskState.FAILED and task.outputs == {}
    error = task.error or ""
    assert "mounts volumes (/scratch) whose folders are on the engine's host" in error
    assert f"resource '{other}': needs 1" in error


def _home(cluster: Cluster, platform: Platform, tmp_path: Path) -> str:
    """The node of the engine's host: where a task that asks for nothing and mounts an
    empty dir ran."""

    @kfp_dsl.pipeline(name="ray-home")
    def pipeline() -> None:
        kfp_kubernetes.empty_dir_mount(scratch(), "scratch", "/scratch")

    run, tasks = _run(platform, tmp_path, pipeline)
    assert run.state is RunState.SUCCEEDED, run.error
    node = tasks["scratch"].node
    assert node in cluster.nodes.values()
    return str(node)


# The decision itself, node by node


NODES = {
    "a": NodeView({"CPU": 1.0}, {"disktype": "ssd"}),
    "b": NodeView({"CPU": 1.0, "gpu_node": 1.0}, {}),
}


def test_placement_selects_labels_only_where_a_node_has_them() -> None:
    def placed(selector: dict[str, str]) -> Any:
        return place(
            node_selector=selector,
            mount_paths=(),
            needed={},
            nodes=NODES,
            home_node="a",
            address="h:1",
        )

    assert placed({"disktype": "ssd"}).label_selector == {"disktype": "ssd"}
    unmatched = placed({"disktype": "ssd", "zone": "b"})
    assert unmatched.label_selector is None and unmatched.warnings


def test_placement_of_volumes_pins_to_the_home_node_or_refuses_naming_why() -> None:
    def placed(home: str | None, needed: dict[str, float], selector: dict[str, str]) -> Any:
        return place(
            node_selector=selector,
            mount_paths=("/data",),
            needed=needed,
            nodes=NODES,
            home_node=home,
            address="h:1",
        )

    assert placed("a", {}, {"disktype": "ssd"}).node_id == "a"
    assert "has no alive node" in str(placed(None, {}, {}).refused)
    assert "lacks the labels of its node selector disktype=ssd" in str(
        placed("b", {}, {"disktype": "ssd"}).refused
    )
    assert "resource 'gpu_node': needs 1" in str(placed("a", {"gpu_node": 1.0}, {}).refused)
