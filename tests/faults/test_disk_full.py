"""Fault injection: the artifact root's disk fills up under a task (issue 15, point 7,
the task's side).

A real `dagyard up` whose artifact root is a small tmpfs (8 MiB, mounted for the test:
root only) runs a task that writes more than fits. Its error, and the run's, over the
API, name the full disk and say what to do; so does every later task's while the disk
stays full; the server answers throughout; once space is freed (the failed runs deleted
through the API), the same pipeline succeeds. No run is lost: every one submitted is
listed, ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dagyard_up import DagyardUp
from small_disks import small_disk

from dagyard import dsl
from dagyard.dsl import Dataset, Output


@dsl.component
def fill(megabytes: int, data: Output[Dataset]) -> None:
    block = b"x" * (1 << 20)
    with open(data.path, "wb") as f:
        for _ in range(megabytes):
            f.write(block)


@dsl.pipeline
def filling(megabytes: int) -> None:
    fill(megabytes=megabytes)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, unmounted after the test."""
    with small_disk(tmp_path / "small-disk", megabytes=8) as mounted:
        yield mounted


def test_a_full_artifact_root_is_named_in_the_errors_and_a_run_after_space_returns_succeeds(
    tmp_path: Path, disk: Path
) -> None:
    full = f"the disk holding {disk} (the artifact root) is full (no space left on device)"
    env = {"DAGYARD_ARTIFACT_ROOT": str(disk)}
    with DagyardUp(tmp_path / "home", env) as server:
        failed = []
        for megabytes in (20, 1):  # the second finds the disk full already
            run_id = server.submit(filling, megabytes=megabytes)
            run = server.finished(run_id)
            assert run["state"] == "FAILED"
            task = server.task(run_id, "fill")
            assert task["state"] == "FAILED"
            assert full in task["error"] and "free space on it, then retry the run" in task["error"]
            assert full in run["error"]["message"]
            assert server.answers()
            failed.append(run_id)

        for run_id in failed:  # frees the space: a failed run's files go with it
            assert server.api.delete(f"/runs/{run_id}").status_code == 200
        run_id = server.submit(filling, megabytes=1)
        assert server.finished(run_id)["state"] == "SUCCEEDED"
        read = server.api.get(f"/runs/{run_id}/nodes/fill/artifacts/data:read")
        assert read.status_code == 200
        listed = server.api.get("/runs").json()["runs"]
    assert [r["run_id"] for r in listed] == [run_id]


def test_a_task_that_fills_the_disk_exits_4_saying_so_when_its_log_has_room(
    tmp_path: Path, disk: Path
) -> None:
    """The task's own words, from the runtime, reach its log when the log is on another
    disk than the one the task filled (a folder of its choosing, here)."""
    root = tmp_path / "artifacts"
    env = {"DAGYARD_ARTIFACT_ROOT": str(root)}
    with DagyardUp(tmp_path / "home", env) as server:
        run_id = server.submit(filling_elsewhere, folder=str(disk))
        assert server.finished(run_id)["state"] == "FAILED"
        task = server.task(run_id, "fill-elsewhere")
        text, _ = server.read_log(run_id, "fill-elsewhere")
    assert task["error"].startswith("exited with code 4")
    last = "dagyard executor: no space left on device: free space on the disk, then retry the run"
    assert text.endswith(last + "\n") and task["error"].endswith(last)


@dsl.component
def fill_elsewhere(folder: str) -> None:
    import os

    block = b"x" * (1 << 20)
    with open(os.path.join(folder, "big"), "wb") as f:
        for _ in range(20):
            f.write(block)


@dsl.pipeline
def filling_elsewhere(folder: str) -> None:
    fill_elsewhere(folder=folder)
