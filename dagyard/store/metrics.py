"""What a run's scalar metric is: a finite number in the metadata of a system.Metrics
artifact one of its tasks output, keyed "<task path>/<metric>". One reading for the
store, which keeps them as rows to sort runs by, and the service, which reports them.
"""

from __future__ import annotations

import math

METRICS_SCHEMA = "system.Metrics"


def metric_number(value: object) -> float | None:
    """`value` if it is a metric: a finite number (NaN and infinities have no JSON
    spelling; booleans are not metrics)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def metric_key(task_path: str, name: str) -> str:
    """The key of metric `name` of the task at `task_path`."""
    return f"{task_path}/{name}"
