"""dagyard.Client's task logs against a real server whose RunWorker runs real tasks:
the whole log, a log followed while the task writes it, tasks inside a loop by path,
and the errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dagyard import dsl
from dagyard.client import Client
from dagyard.errors import ApiError
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker


@dsl.component
def speak(word: str, release: str) -> None:
    import os
    import time

    print(f"before {word}", flush=True)
    while not os.path.exists(release):
        time.sleep(0.02)
    print(f"after {word}", flush=True)


@dsl.pipeline
def speaking(release: str, words: list[str] = ["one", "two"]) -> None:  # noqa: B006
    with dsl.ParallelFor(words) as word:
        speak(word=word, release=release)


def test_a_followed_log_streams_until_the_task_ends(
    client: Client, worker: RunWorker, platform: Platform, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    run = client.run(speaking, params={"release": str(release), "words": ["solo"]}, wait=False)
    task_path: list[str] = []
    pieces: list[str] = []

    def follow() -> None:
        for piece in client.iter_logs(run.run_id, "speak", follow=True, poll_seconds=0.05):
            pieces.append(piece)
            if "before solo" in piece:
                release.touch()  # the task ends only once its first line was read

    reader = threading.Thread(target=follow)
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "following the log did not end with the task"
    assert "".join(pieces) == "before solo\nafter solo\n"
    assert client.wait_for_run_completion(run.run_id, timeout=60).state == "SUCCEEDED"
    task_path += [t.path for t in platform.store.list_tasks(run.run_id) if t.name == "speak"]
    assert len(task_path) == 1 and "/" in task_path[0]
    assert client.logs(run.run_id, task_path[0]) == "before solo\nafter solo\n"


def test_tasks_in_a_loop_are_read_by_path_and_a_name_must_be_unique(
    client: Client, worker: RunWorker, platform: Platform, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()
    run = client.run(speaking, params={"release": str(release)})
    assert run.state == "SUCCEEDED"
    paths = sorted(t.path for t in platform.store.list_tasks(run.run_id) if t.name == "speak")
    assert [client.logs(run.run_id, path) for path in paths] == [
        "before one\nafter one\n",
        "before two\nafter two\n",
    ]
    with pytest.raises(ApiError, match="give the task's path") as ambiguous:
        client.logs(run.run_id, "speak")
    assert ambiguous.value.status == 400
    with pytest.raises(ApiError) as missing:
        client.logs(run.run_id, "nothing")
    assert missing.value.status == 404
