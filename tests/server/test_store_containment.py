"""Nothing outside the artifact store is served as an artifact: a task whose output is a
symbolic link out of its folder fails, naming the link's target, and a link planted in
the store afterwards is refused by both artifact reads. A real server, worker and child
processes on SQLite, with a local artifact root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from test_logs_api import finished, submit

from dagyard import dsl
from dagyard.dsl import Artifact, Dataset, Output
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker

SECRET = "root:x:0:0:a secret outside the store\n"


@dsl.component
def link_out(secret: str, data: Output[Dataset]) -> None:
    import os

    os.symlink(secret, data.path)


@dsl.pipeline
def linking(secret: str) -> None:
    link_out(secret=secret)


@dsl.component
def link_inside_folder(secret: str, out: Output[Artifact]) -> None:
    import os

    os.makedirs(out.path)
    with open(os.path.join(out.path, "part-0"), "w") as f:
        f.write("0")
    os.symlink(secret, os.path.join(out.path, "part-1"))


@dsl.pipeline
def folder_linking(secret: str) -> None:
    link_inside_folder(secret=secret)


@dsl.component
def plain(data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("mine")


@dsl.pipeline
def writing() -> None:
    plain()


def failed_task_error(api: httpx.Client, pipeline: Any, secret: Path, path: str) -> str:
    """Run `pipeline` with a secret file outside the store; the error of its task `path`,
    which must have failed without its secret anywhere in the run's tasks."""
    secret.write_text(SECRET)
    run_id = submit(api, pipeline, secret=str(secret))
    assert finished(api, run_id) == "FAILED"
    found = api.get(f"/runs/{run_id}/tasks")
    assert "a secret" not in found.text
    error: str = next(t for t in found.json()["tasks"] if t["path"] == path)["error"]
    return error


def test_an_output_linked_out_of_its_folder_fails_its_task_and_is_never_served(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    secret = tmp_path / "passwd"
    message = failed_task_error(api, linking, secret, "link-out")
    assert "'data'" in message and str(secret) in message and "symbolic link" in message

    run_id = api.get("/runs").json()["runs"][0]["run_id"]
    read = api.get(f"/runs/{run_id}/nodes/link-out/artifacts/data:read")
    assert read.status_code == 404
    assert "a secret" not in read.text


def test_a_folder_output_holding_a_link_out_fails_its_task(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    secret = tmp_path / "passwd"
    error = failed_task_error(api, folder_linking, secret, "link-inside-folder")
    assert "part-1" in error and str(secret) in error


def test_a_link_planted_in_the_store_after_the_run_is_refused_by_both_reads(
    api: httpx.Client, worker: RunWorker, platform: Platform
) -> None:
    run_id = submit(api, writing)
    assert finished(api, run_id) == "SUCCEEDED"
    artifact = next(
        a for a in api.get(f"/runs/{run_id}/artifacts").json()["artifacts"] if a["name"] == "data"
    )
    path = platform.artifacts.local_path(artifact["uri"])
    path.unlink()
    path.symlink_to("/etc/passwd")

    read = api.get(f"/runs/{run_id}/nodes/plain/artifacts/data:read")
    content = api.get(f"/artifacts/{artifact['artifact_id']}:content")
    for response in (read, content):
        assert response.status_code == 404, response.text
        assert "outside the artifact store" in response.json()["message"]
        assert "root:" not in response.text
