"""System retries: an attempt the executor reports as lost (`Outcome.lost`: its node
died under it) runs again without using the task's retry policy, at most
MAX_SYSTEM_RETRIES times.

The local executor never reports a loss, so these tests wrap it: the attempts run as
real processes, and the wrapper relabels the chosen attempts' outcomes as lost, as the
Ray executor does when a node dies (tests/executors/test_ray_faults.py kills a real one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from engine_support import run_pipeline

from dagyard import dsl
from dagyard.engine.retries import MAX_SYSTEM_RETRIES
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.service.platform import Platform
from dagyard.store.records import RunState, TaskState


class Losing(Executor):
    """Runs attempts on `inner`; reports attempts numbered in `lost` as lost."""

    def __init__(self, inner: Executor, lost: Collection[int]) -> None:
        self.inner = inner
        self.lost = set(lost)
        self.attempts: dict[str, int] = {}

    def submit(self, launch: Launch) -> str:
        handle = self.inner.submit(launch)
        self.attempts[handle] = launch.attempt
        return handle

    def wait(self, handles: Collection[str], timeout: float | None) -> dict[str, Outcome]:
        finished = self.inner.wait(handles, timeout)
        return {
            handle: (
                Outcome(exit_code=None, error="the node died", lost=True)
                if self.attempts.pop(handle) in self.lost
                else outcome
            )
            for handle, outcome in finished.items()
        }

    def cancel(self, handle: str) -> None:
        self.inner.cancel(handle)

    def close(self) -> None:
        self.inner.close()


@dsl.component
def count_runs(ledger: str, fail_until: int) -> str:
    """Appends a line per run; exits 1 while the ledger has at most `fail_until` lines."""
    with open(ledger, "a") as f:
        f.write("ran\n")
    with open(ledger) as f:
        runs = len(f.read().split())
    if runs <= fail_until:
        raise SystemExit(1)
    return f"run {runs}"


@dsl.pipeline
def counted(ledger: str, fail_until: int) -> None:
    count_runs(ledger=ledger, fail_until=fail_until).set_retry(num_retries=1).set_caching_options(
        False
    )


@dsl.pipeline
def never_retried(ledger: str) -> None:
    count_runs(ledger=ledger, fail_until=0).set_retry(num_retries=0).set_caching_options(False)


def losing(platform: Platform, lost: Collection[int]) -> Platform:
    return dataclasses.replace(platform, executor=Losing(platform.executor, lost))


def test_a_lost_attempt_is_run_again_without_using_the_retry_policy(
    platform: Platform, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    ran = run_pipeline(losing(platform, {1}), never_retried, ledger=str(ledger))
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    task = ran["count-runs"]
    assert (task.attempts, task.system_retries) == (2, 1)
    assert task.outputs == {"Output": "run 2"}


def test_a_lost_attempt_leaves_the_retry_budget_whole(platform: Platform, tmp_path: Path) -> None:
    # Attempt 1 is lost; attempt 2 fails (the one retry of the policy); attempt 3 succeeds.
    ledger = tmp_path / "ledger"
    ran = run_pipeline(losing(platform, {1}), counted, ledger=str(ledger), fail_until=2)
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    task = ran["count-runs"]
    assert (task.attempts, task.system_retries) == (3, 1)
    assert task.outputs == {"Output": "run 3"}


def test_a_task_lost_too_often_fails_saying_so(platform: Platform, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    every = range(1, MAX_SYSTEM_RETRIES + 5)
    ran = run_pipeline(losing(platform, every), never_retried, ledger=str(ledger))
    assert ran.run.state == RunState.FAILED
    task = ran["count-runs"]
    assert task.state == TaskState.FAILED
    assert task.attempts == MAX_SYSTEM_RETRIES + 1
    assert task.system_retries == MAX_SYSTEM_RETRIES
    assert task.error is not None
    assert f"lost {MAX_SYSTEM_RETRIES + 1} times" in task.error
    assert "the node died" in task.error
