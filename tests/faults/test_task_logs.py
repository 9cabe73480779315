"""Fault injection: tasks that print far more than their log keeps (issue 15, point 6).

A real `dagyard up` (API, worker, engine and local executor in one process) runs a task
that prints 300 MB as fast as it can and fails, with the log cap set to 1 MiB: the log
read back over the API is the first and last half MiB with one line between them naming
DAGYARD_TASK_LOG_LIMIT, the task's error ends with the task's last line, and the server's
peak memory grows by far less than the log, on a local artifact root and on an
S3-compatible one (a real moto server on loopback). A task still printing past its cap
holds about the cap on disk, and its log reads as head, a line, and what it printed last.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conditions import eventually
from dagyard_up import DagyardUp

from dagyard import dsl

CAP = 1 << 20
MARKER_ROOM = 512
PRINTED_MB = 300


@dsl.component
def shout_then_fail(megabytes: int) -> None:
    import os

    line = b"all work and no play makes the log a dull file\n"
    block = line * ((1 << 20) // len(line))
    os.write(1, b"the first line\n")
    for _ in range(megabytes):
        written = 0
        while written < len(block):
            written += os.write(1, block[written:])
    os.write(1, b"the last line\n")
    raise SystemExit(3)


@dsl.pipeline
def shouting(megabytes: int) -> None:
    shout_then_fail(megabytes=megabytes)


@dsl.component
def shout_then_wait(megabytes: int, gate: str) -> None:
    import os
    import time

    os.write(1, b"the first line\n")
    for n in range(megabytes * 16):
        os.write(1, b"".join(b"line %09d\n" % (n * 4096 + i) for i in range(4096)))
    os.write(1, b"the last line before the gate\n")
    while not os.path.exists(gate):
        time.sleep(0.05)
    os.write(1, b"the last line\n")


@dsl.pipeline
def shouting_slowly(megabytes: int, gate: str) -> None:
    shout_then_wait(megabytes=megabytes, gate=gate)


def assert_capped(text: str, last: str) -> None:
    """Head, one line naming the setting and the bytes cut, and the tail ending `last`."""
    assert len(text.encode()) <= CAP + MARKER_ROOM
    assert text.startswith("the first line\nall work and no play")
    assert text.endswith(f"all work and no play makes the log a dull file\n{last}\n")
    (cut,) = [line for line in text.splitlines() if line.startswith("dagyard: ")]
    assert "bytes of this log were cut here" in cut and "DAGYARD_TASK_LOG_LIMIT=1048576" in cut
    assert int(cut.split()[1]) > (PRINTED_MB - 2) << 20


def shout_through(server: DagyardUp) -> tuple[dict[str, object], str, int]:
    """Run `shouting` to its end; the failed task, its log over the API, and how much
    the server's peak memory grew meanwhile."""
    before = server.peak_memory()
    run_id = server.submit(shouting, megabytes=PRINTED_MB)
    assert server.finished(run_id)["state"] == "FAILED"
    task = server.task(run_id, "shout-then-fail")
    text, answer = server.read_log(run_id, "shout-then-fail")
    assert answer["complete"] and answer["size"] == len(text.encode())
    assert server.answers()
    return task, text, server.peak_memory() - before


def test_a_task_printing_300_mb_keeps_a_capped_log_on_a_local_root_in_flat_memory(
    tmp_path: Path,
) -> None:
    root = tmp_path / "artifacts"
    env = {"DAGYARD_TASK_LOG_LIMIT": "1M", "DAGYARD_ARTIFACT_ROOT": str(root)}
    with DagyardUp(tmp_path / "home", env) as server:
        task, text, grown = shout_through(server)
    assert grown < 64 << 20, f"the server's peak memory grew by {grown >> 20} MiB"
    assert task["state"] == "FAILED"
    assert task["error"].startswith("exited with code 3")
    assert task["error"].endswith("the last line")
    assert_capped(text, "the last line")
    (log,) = root.glob("*/shout-then-fail/logs/attempt-1.log")
    assert log.stat().st_size == len(text.encode())


def test_a_task_printing_300_mb_ships_a_capped_log_to_an_object_store_in_flat_memory(
    tmp_path: Path, s3_root: str
) -> None:
    env = {"DAGYARD_TASK_LOG_LIMIT": "1M", "DAGYARD_ARTIFACT_ROOT": s3_root}
    with DagyardUp(tmp_path / "home", env) as server:
        task, text, grown = shout_through(server)
        (local,) = (tmp_path / "home" / "work").glob("*/shout-then-fail/attempt-1/attempt.log")
    assert grown < 64 << 20, f"the server's peak memory grew by {grown >> 20} MiB"
    assert task["error"].endswith("the last line")
    assert_capped(text, "the last line")
    # The attempt's local copy, on the host that ran it, is capped alike.
    assert local.read_text() == text


def test_a_task_printing_past_its_cap_holds_about_the_cap_on_disk_while_it_runs(
    tmp_path: Path,
) -> None:
    root, gate = tmp_path / "artifacts", tmp_path / "gate"
    env = {"DAGYARD_TASK_LOG_LIMIT": "1M", "DAGYARD_ARTIFACT_ROOT": str(root)}
    with DagyardUp(tmp_path / "home", env) as server:
        run_id = server.submit(shouting_slowly, megabytes=40, gate=str(gate))
        log = eventually(
            lambda: next(root.glob("*/shout-then-wait/logs/attempt-1.log"), None), "a log"
        )
        # Written in full, then its middle punched out: every byte counts in its length.
        eventually(lambda: log.stat().st_size > 40 * 16 * 4096 * 15, "the task printed it all")
        on_disk = eventually(
            lambda: (used := log.stat().st_blocks * 512) < 4 * CAP and used, "the log is trimmed"
        )
        if on_disk > log.stat().st_size // 2:
            pytest.skip(f"this file system ({root}) cannot punch holes")
        text, answer = server.read_log(run_id, "shout-then-wait")
        assert not answer["complete"]
        assert "\0" not in text and text.startswith("the first line\nline 000000000\n")
        assert "dagyard: this log passed its cap (DAGYARD_TASK_LOG_LIMIT=1048576)" in text
        assert text.endswith("the last line before the gate\n")
        # A reader following the log from where it stopped gets the rest once it comes.
        gate.touch()
        assert server.finished(run_id)["state"] == "SUCCEEDED"
        rest, _ = server.read_log(run_id, "shout-then-wait", offset=answer["next_offset"])
        assert rest == "the last line\n"
        final, answer = server.read_log(run_id, "shout-then-wait")
    assert answer["complete"] and len(final.encode()) <= CAP + MARKER_ROOM
    assert final.startswith("the first line\n") and final.endswith("the gate\nthe last line\n")
    assert final.count("dagyard: ") == 1 and "bytes of this log were cut here" in final
