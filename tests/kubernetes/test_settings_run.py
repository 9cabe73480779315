"""kfp-compiled pipelines with kfp-kubernetes settings, run on Dagyard's engine
(service layer, SQLite, real child processes): what one machine honours, and what it
refuses before the task runs.

KFP facts: `set_timeout` is the pod's activeDeadlineSeconds, past which Kubernetes kills
the pod and the task fails (kfp.kubernetes.timeout); `use_field_path_as_env` is the
Downward API (kfp.kubernetes.field); an optional secret that does not exist sets no
variable (kfp.kubernetes.secret, `optional`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes

from dagyard import dsl, kubernetes
from dagyard.compiler import Compiler
from dagyard.service import logs, runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState
from tests.pipelines import k8s_settings

pytestmark = pytest.mark.kfp


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(container_runtime="off", home=tmp_path / "home"))
    try:
        yield opened
    finally:
        opened.close()


def _run(
    platform: Platform, tmp_path: Path, build: Any, *, sdk: str = "kfp", **arguments: Any
) -> tuple[Run, dict[str, Task]]:
    path = tmp_path / "pipeline.yaml"
    if sdk == "kfp":
        kfp_compiler.Compiler().compile(build(kfp_dsl, kfp_kubernetes), str(path))
    else:
        Compiler().compile(build(dsl, kubernetes), path)
    spec = runs.load_pipeline_spec(path)
    submitted = runs.submit_run(platform, spec, parameters=arguments)
    run = runs.drive_run(platform, submitted.run_id)
    tasks = {t.name: t for t in platform.store.list_tasks(run.run_id)}
    return run, tasks


def test_the_run_keeps_the_platform_spec(platform: Platform, tmp_path: Path) -> None:
    run, _ = _run(platform, tmp_path, k8s_settings.timed)
    assert "kubernetes" in run.pipeline_spec["platform_spec"]["platforms"]


def test_a_task_past_its_timeout_is_stopped_and_fails_saying_so(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, tmp_path, k8s_settings.timed)
    assert run.state is RunState.FAILED
    task = tasks["sleep"]
    assert task.state is TaskState.FAILED
    assert task.error is not None
    assert "Timed out" in task.error and "limit of 1 s (set_timeout)" in task.error


def test_field_paths_reach_the_task(platform: Platform, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    run, tasks = _run(platform, tmp_path, k8s_settings.field_paths, marker=str(marker))
    assert run.state is RunState.SUCCEEDED, run.error
    task = tasks["write"]
    pod, node = task.outputs["said"].split("|")
    assert pod == task.task_id
    assert node


@pytest.mark.parametrize("sdk", ["kfp", "dagyard"])
def test_field_paths_read_the_tasks_own_pod_labels_and_annotations(
    platform: Platform, tmp_path: Path, sdk: str
) -> None:
    """KFP's driver gives the pod the labels and annotations of add_pod_label and
    add_pod_annotation (backend/src/v2/driver, the podMetadata of the task's Kubernetes
    config), and the downward API reads them by key; a key the pod lacks is an empty
    value, which KFP's own critical test expects
    (test_data/sdk_compiled_pipelines/valid/critical/pipeline_with_pod_metadata.py)."""
    run, tasks = _run(platform, tmp_path, k8s_settings.pod_metadata_fields, sdk=sdk)
    assert run.state is RunState.SUCCEEDED, run.error
    assert tasks["show"].outputs["said"] == "ml|hello world|"


def test_a_field_path_this_host_has_no_value_for_fails_the_task_before_it_runs(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, tmp_path, k8s_settings.status_field)
    assert run.state is RunState.FAILED
    error = tasks["show"].error or ""
    assert "'status.podIP' (for IP)" in error
    assert "metadata.labels['KEY']" in error


def test_settings_only_recorded_are_warnings_on_the_task_and_in_its_log(
    platform: Platform, tmp_path: Path
) -> None:
    """KFP's driver puts pod labels into the pod's metadata and a node selector into
    its spec (backend/src/v2/driver, extendPodSpecPatch); one machine has neither, so
    each becomes a warning on the task record, and the task still runs."""
    run, tasks = _run(platform, tmp_path, k8s_settings.field_paths, marker=str(tmp_path / "m"))
    assert run.state is RunState.SUCCEEDED, run.error
    task = tasks["write"]
    assert task.warnings == [
        "Pod labels team=ml (add_pod_label) are recorded, not applied: a task here runs as "
        "a process, not in a pod.",
        "The node selector gpu=a100 (add_node_selector) is recorded, not applied: the local "
        "executor runs every task on this host. The Ray executor places tasks on nodes with "
        "those labels.",
    ]
    log = logs.read_log(platform, run.run_id, task.task_id).text
    assert "dagyard: warning: Pod labels team=ml (add_pod_label)" in log


def test_every_recorded_setting_has_its_own_warning(platform: Platform, tmp_path: Path) -> None:
    """Each of kfp-kubernetes' settings that only a Kubernetes pod can honour (its
    metadata, affinity, tolerations, image pulling, security context; kfp.kubernetes'
    pod_metadata, node_affinity, toleration, image, security_context) is named with
    what it asked for."""
    run, tasks = _run(platform, tmp_path, k8s_settings.recorded_only)
    assert run.state is RunState.SUCCEEDED, run.error
    warnings = "\n".join(tasks["echo"].warnings)
    for expected in (
        "Pod annotations note=hello (add_pod_annotation)",
        "Node affinity (add_node_affinity)",
        'Tolerations (add_toleration) [{"effect":"NoSchedule","key":"gpu","operator":"Exists"}]',
        'Image pull secrets (set_image_pull_secrets) ["registry"]',
        'The image pull policy (set_image_pull_policy) "IfNotPresent"',
        "The security context (set_security_context)",
        "The empty dir at /scratch (medium Memory, size 1Gi)",
    ):
        assert expected in warnings
    assert len(tasks["echo"].warnings) == 7


def test_a_node_selector_from_a_pipeline_value_replaces_the_static_labels(
    platform: Platform, tmp_path: Path
) -> None:
    """KFP's driver takes add_node_selector_json's value, when set, instead of the
    labels (backend/src/v2/driver, extendPodSpecPatch: nodeSelectorJson else labels)."""
    run, tasks = _run(
        platform, tmp_path, k8s_settings.selector_json, selector={"zone": "b", "disk": "ssd"}
    )
    assert run.state is RunState.SUCCEEDED, run.error
    (warning,) = tasks["echo"].warnings
    assert warning.startswith("The node selector disk=ssd, zone=b (add_node_selector)")


def test_a_node_selector_that_is_not_an_object_fails_the_task_naming_it(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, tmp_path, k8s_settings.selector_json, selector={"zone": 3})
    assert run.state is RunState.FAILED
    error = tasks["echo"].error or ""
    assert "the node selector {'zone': 3} is not a JSON object of label names to text" in error
