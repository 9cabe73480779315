"""A secret's values reach the task that asks for them and nothing else a user can see:
no REST answer (runs, tasks, pipelines and their versions, artifacts, logs), no line of
the server's own log, no task log, no page of the UI. A real `dagyard up` on loopback
runs a pipeline compiled by the real kfp with kfp-kubernetes' use_secret_as_env and
use_secret_as_volume; the same run's recorded-only setting (a pod label) comes back as a
warning on the run and its task.

KFP facts: use_secret_as_env maps a secret's key to a variable and use_secret_as_volume
mounts the secret as one file per key (kfp.kubernetes.secret); KFP's API never carries a
secret's value, only its name in the PlatformSpec (backend/src/v2/driver, the pod spec
refers to the Kubernetes secret by name)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conditions import eventually
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes

from tests.faults.dagyard_up import DagyardUp
from tests.pipelines import k8s_volumes

pytestmark = [
    pytest.mark.kfp,
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or os.geteuid() != 0,
        reason="secret volumes need a mount namespace: Linux, as root",
    ),
]

SECRET = "Sx9-never-shown-7Qz"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DagyardUp]:
    home = tmp_path / "home"
    env = {"DAGYARD_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "dagyard.cli", "secrets", "set", "db", f"password={SECRET}"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    # Its most talkative: every request and every debug line of the engine.
    with DagyardUp(home, {}, ("--log-level", "debug", "--access-log")) as up:
        yield up


def _everything_shown(api: httpx.Client, run_id: str, pipeline_id: str) -> dict[str, str]:
    """Every answer the API gives about the run and its pipeline, by what was asked."""
    tasks = api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    asked = [
        "/runs",
        f"/runs/{run_id}",
        f"/runs/{run_id}/tasks",
        f"/runs/{run_id}/artifacts",
        "/artifacts",
        "/pipelines",
        f"/pipelines/{pipeline_id}",
        f"/pipelines/{pipeline_id}/versions",
        *(f"/runs/{run_id}/nodes/{t['task_id']}/logs" for t in tasks),
    ]
    versions = api.get(f"/pipelines/{pipeline_id}/versions").json()["pipeline_versions"]
    asked += [f"/pipelines/{pipeline_id}/versions/{v['pipeline_version_id']}" for v in versions]
    answers = {}
    for path in asked:
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        answers[path] = answer.text
    return answers


def test_a_secret_reaches_its_task_and_no_answer_log_or_page(
    server: DagyardUp, tmp_path: Path
) -> None:
    path = tmp_path / "secrets.yaml"
    kfp_compiler.Compiler().compile(
        k8s_volumes.secrets_labelled(kfp_dsl, kfp_kubernetes), str(path)
    )
    api = server.api
    with open(path, "rb") as file:
        uploaded = api.post("/pipelines/upload", files={"uploadfile": ("secrets.yaml", file)})
    assert uploaded.status_code == 200, uploaded.text
    pipeline_id = uploaded.json()["pipeline_id"]
    versions = api.get(f"/pipelines/{pipeline_id}/versions").json()["pipeline_versions"]
    created = api.post(
        "/runs",
        json={
            "display_name": "secrets",
            "pipeline_version_reference": {
                "pipeline_id": pipeline_id,
                "pipeline_version_id": versions[0]["pipeline_version_id"],
            },
        },
    )
    assert created.status_code == 200, created.text
    run = server.finished(created.json()["run_id"])
    assert run["state"] == "SUCCEEDED", run
    run_id = run["run_id"]

    task = server.task(run_id, "read")
    digest = hashlib.sha256(SECRET.encode()).hexdigest()[:16]
    assert task["outputs"]["said"] == f"{digest}|{digest}"  # it had the value, both ways
    log, _ = server.read_log(run_id, task["task_id"])
    assert "read the secret" in log

    answers = _everything_shown(api, run_id, pipeline_id)
    assert not [where for where, text in answers.items() if SECRET in text]
    eventually(lambda: "GET /apis/v2beta1/runs" in _server_log(server), "requests logged", 10)
    assert SECRET not in _server_log(server)
    # The UI's pages are the API's answers drawn in a browser; its files hold no data.
    page = httpx.get(f"http://127.0.0.1:{server.port}/runs/{run_id}", timeout=30)
    assert page.status_code == 200 and SECRET not in page.text


def test_a_recorded_setting_is_a_warning_on_the_run_and_its_task(
    server: DagyardUp, tmp_path: Path
) -> None:
    """KFP's driver puts pod labels into the pod's metadata (backend/src/v2/driver,
    extendPodSpecPatch); a task here is a process, so the label is a warning."""
    pipeline = k8s_volumes.secrets_labelled(kfp_dsl, kfp_kubernetes)
    path = tmp_path / "secrets.yaml"
    kfp_compiler.Compiler().compile(pipeline, str(path))
    spec: Any = _pair(path)
    created = server.api.post("/runs", json={"display_name": "label", "pipeline_spec": spec})
    assert created.status_code == 200, created.text
    run = server.finished(created.json()["run_id"])
    assert run["state"] == "SUCCEEDED", run
    task = server.task(run["run_id"], "read")
    warning = (
        "Pod labels team=ml (add_pod_label) are recorded, not applied: a task here runs as "
        "a process, not in a pod."
    )
    assert task["warnings"] == [warning]
    assert run["warnings"] == [
        {"task_id": task["task_id"], "task_path": "read", "message": warning}
    ]


def _pair(path: Path) -> dict[str, Any]:
    """The {pipeline_spec, platform_spec} pair kfp's client sends for a YAML of two
    documents."""
    import yaml

    spec, platform = yaml.safe_load_all(path.read_text())
    return {"pipeline_spec": spec, "platform_spec": platform}


def _server_log(server: DagyardUp) -> str:
    return (server.home / "server.log").read_text(errors="replace")
