"""How often a growing log is shipped to an object store (`staging.ship_every`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagyard.errors import ExecutorError
from dagyard.executors.staging import LOG_STEP, Staging, ship_every, stage_out
from dagyard.store.artifact_store import open_url


def test_a_small_log_is_shipped_every_interval_and_a_big_one_less_often() -> None:
    assert ship_every(1.0, 0) == 1.0
    assert ship_every(2.0, LOG_STEP) == 2.0
    # Each upload sends the whole file: bytes per second stay about LOG_STEP / interval.
    assert ship_every(1.0, 10 * LOG_STEP) == 10.0
    assert ship_every(0.5, 100 * LOG_STEP) == 50.0


def test_an_output_linked_out_of_its_folder_is_not_uploaded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the store")
    task = tmp_path / "task"
    task.mkdir()
    (task / "data").symlink_to(secret)
    target = "memory://dagyard-staging-test/run/task/data"
    with pytest.raises(ExecutorError, match=r"'data' is a symbolic link .*secret\.txt"):
        stage_out(Staging(uploads=((str(task / "data"), target),)))
    fs, path = open_url(target)
    assert not fs.exists(path)
