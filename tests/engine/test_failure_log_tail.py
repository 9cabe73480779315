"""A failed task's error ends with the last lines of its log, read from the end of the
file: a task that prints hundreds of MiB before failing costs the engine no memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import run_pipeline

from dagyard import dsl
from dagyard.service.platform import Platform
from dagyard.settings import DEFAULT_TASK_LOG_LIMIT
from dagyard.store.records import TaskState


@dsl.component
def shout_then_fail(megabytes: int) -> None:
    import sys

    line = "x" * ((1 << 20) - 1) + "\n"
    for _ in range(megabytes):
        sys.stdout.write(line)
    sys.stdout.write("the last words\n")
    sys.stdout.flush()
    raise SystemExit(3)


@dsl.pipeline
def shouting(megabytes: int) -> None:
    shout_then_fail(megabytes=megabytes)


def _peak_rss_reset() -> bool:
    try:  # "5" resets the peak resident set size (VmHWM) of this process
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_a_200_mib_log_fails_its_task_with_its_last_lines_in_flat_memory(
    platform: Platform,
) -> None:
    if not _peak_rss_reset():
        pytest.skip("this system cannot reset a process's peak memory (/proc/self/clear_refs)")
    before = _peak_rss_mib()
    ran = run_pipeline(platform, shouting, megabytes=200)
    grown = _peak_rss_mib() - before

    task = ran["shout-then-fail"]
    assert task.state is TaskState.FAILED
    assert task.error is not None and task.error.endswith("the last words")
    # Kept at the default cap: its first and last 50 MiB, with a line between them.
    assert task.log_uri is not None
    assert 99 << 20 < platform.artifacts.size(task.log_uri) <= DEFAULT_TASK_LOG_LIMIT + 512
    assert grown < 64, f"the engine's peak memory grew by {grown:.0f} MiB"
