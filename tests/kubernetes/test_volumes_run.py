"""kfp-compiled pipelines with kfp-kubernetes volumes, secrets and config maps, run on
Dagyard's engine (service layer, SQLite, real child processes in their own mount
namespaces, as root on Linux).

KFP facts: a secret or config map key becomes a variable (use_secret_as_env) or a file
named by the key in a folder at the mount path (use_secret_as_volume); CreatePVC's
output `name` is `pvc_name`, else a new UUID followed by `pvc_name_suffix`, and it runs
no pod (backend/src/v2/driver/k8s.go, createPVC/deletePVC); a claim outlives the run
that made it until DeletePVC."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes

from dagyard.service import logs, runs, secrets
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState, ValuesKind
from tests.pipelines import k8s_volumes

pytestmark = [
    pytest.mark.kfp,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or os.geteuid() != 0,
        reason="mounts need a mount namespace: Linux, as root",
    ),
]

SECRET = "s3cr3t-Value-9f2"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(container_runtime="off", home=tmp_path / "home"))
    try:
        yield opened
    finally:
        opened.close()


def _run(platform: Platform, tmp_path: Path, build: Any) -> tuple[Run, dict[str, Task]]:
    path = tmp_path / "pipeline.yaml"
    kfp_compiler.Compiler().compile(build(kfp_dsl, kfp_kubernetes), str(path))
    submitted = runs.submit_run(platform, runs.load_pipeline_spec(path))
    run = runs.drive_run(platform, submitted.run_id)
    return run, {t.name: t for t in platform.store.list_tasks(run.run_id)}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_a_secret_reaches_the_task_as_a_variable_and_files_and_nowhere_else(
    platform: Platform, tmp_path: Path
) -> None:
    secrets.set_values(platform, ValuesKind.SECRET, "db", {"password": SECRET, "user": "me"})
    secrets.set_values(platform, ValuesKind.CONFIG_MAP, "settings", {"mode": "fast"})
    run, tasks = _run(platform, tmp_path, k8s_volumes.secrets)
    assert run.state is RunState.SUCCEEDED, run.error
    task = tasks["read"]
    assert task.outputs["said"] == f"{_digest(SECRET)}|{_digest(SECRET)}|password,user,|fast"
    records = json.dumps([repr(platform.store.get_run(run.run_id)), *map(repr, tasks.values())])
    assert SECRET not in records
    assert SECRET not in logs.read_log(platform, run.run_id, task.task_id).text
    # The files lived in the attempt's temporary folder, removed at its end.
    work = platform.settings.work_root / run.run_id
    assert not [
        p for p in work.rglob("*") if p.is_file() and SECRET in p.read_text(errors="replace")
    ]


def test_a_missing_secret_fails_the_task_before_it_runs_naming_it(
    platform: Platform, tmp_path: Path
) -> None:
    secrets.set_values(platform, ValuesKind.CONFIG_MAP, "settings", {"mode": "fast"})
    run, tasks = _run(platform, tmp_path, k8s_volumes.secrets)
    assert run.state is RunState.FAILED
    error = str(tasks["read"].error)
    assert "reads the secret 'db'" in error and "dagyard secrets set db KEY=VALUE" in error
    assert tasks["read"].started_at is None


def test_a_claim_is_created_shared_by_tasks_and_runs_then_deleted_never_on_the_host(
    platform: Platform, tmp_path: Path
) -> None:
    host = Path("/mnt/data")
    assert not host.exists(), "this test needs a host without /mnt/data"
    run, tasks = _run(platform, tmp_path, k8s_volumes.claim_written)
    assert run.state is RunState.SUCCEEDED, run.error
    assert tasks["createpvc"].outputs == {"name": "shared-data"}
    assert tasks["read"].outputs["said"] == "hello\n"
    folder = platform.settings.volumes_root / "_" / "shared-data"
    assert (folder / "note").read_text() == "hello\n"
    assert not host.exists()
    later, tasks = _run(platform, tmp_path, k8s_volumes.claim_read_then_deleted)
    assert later.state is RunState.SUCCEEDED, later.error
    assert tasks["read"].outputs["said"] == "hello\n"
    assert tasks["deletepvc"].state is TaskState.SUCCEEDED
    assert not folder.exists()
    assert not host.exists()


def test_an_empty_dir_is_empty_and_writable(platform: Platform, tmp_path: Path) -> None:
    assert not Path("/scratch").exists(), "this test needs a host without /scratch"
    run, tasks = _run(platform, tmp_path, k8s_volumes.scratch)
    assert run.state is RunState.SUCCEEDED, run.error
    assert tasks["use"].outputs["said"].strip() == "0"
    assert not Path("/scratch").exists()


def test_a_mount_path_that_is_not_absolute_is_under_the_root(
    platform: Platform, tmp_path: Path
) -> None:
    """The API server takes a relative mountPath and the kubelet mounts it under the
    root (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go, makeAbsolutePath); KFP's
    driver passes kfp-kubernetes' mount path on as given (KFP's snapshot data
    general_ephemeral_volume.py mounts at 'path')."""
    assert not Path("/scratch").exists(), "this test needs a host without /scratch"
    run, tasks = _run(platform, tmp_path, k8s_volumes.scratch_relative)
    assert run.state is RunState.SUCCEEDED, run.error
    assert tasks["use"].outputs["said"].strip() == "0"
    assert not Path("/scratch").exists()
