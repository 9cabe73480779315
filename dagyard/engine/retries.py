"""Retries: how long a failed task waits before its next attempt, and how often an
attempt lost with its host is run again.

Two budgets, apart: the pipeline's `RetryPolicy` (`set_retry`) counts attempts that
failed; system retries count attempts lost with their host (`Outcome.lost`), which say
nothing about the task. Pure functions; the driver keeps the clock.
"""

from __future__ import annotations

from dagyard.engine.scopes import Node
from dagyard.ir.sources import RetryPolicy

# How often a task's attempt may be lost with its host (`Outcome.lost`) and run again
# before the task fails: system retries, apart from the pipeline's retry policy.
MAX_SYSTEM_RETRIES = 3


def retry_delay(policy: RetryPolicy, *, failures: int) -> float | None:
    """Seconds to wait before the next attempt of a task whose attempts failed `failures`
    times (lost ones not counted), or None when the policy allows no more: the backoff
    grows by `backoff_factor` each time, up to `backoff_max_seconds`."""
    if policy.max_retry_count - (failures - 1) <= 0:
        return None
    delay = policy.backoff_seconds * policy.backoff_factor ** (failures - 1)
    return min(delay, policy.backoff_max_seconds)


def system_retries_exhausted(lost: int) -> str | None:
    """Why a task whose attempt was lost for the `lost`-th time fails, or None if it may
    run again."""
    if lost <= MAX_SYSTEM_RETRIES:
        return None
    return (
        f"The node running this task was lost {lost} times (at most "
        f"{MAX_SYSTEM_RETRIES} system retries)"
    )


def next_retry_delay(nodes: list[Node], now: float) -> float | None:
    """Seconds until the first of `nodes` waiting out a retry's backoff may start, or
    None if none waits."""
    delays = [
        max(0.0, node.not_before - now)
        for node in nodes
        if not node.done and node.not_before and node.attempt is None
    ]
    return min(delays) if delays else None
