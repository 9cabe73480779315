"""Runs' scalar metrics as rows of `run_metrics`, derived from the lineage as it is
written: an OUTPUT event of a task to a system.Metrics artifact gives the task's run
each finite number of the artifact's metadata, keyed "<task path>/<metric>"
(`dagyard.store.metrics`). Every place that records events calls `record_metrics` in the
same transaction, so the rows never disagree with the events. A cached task's event
to the artifact it reused gives its own run the metrics, as the service reports them.

Only the writing is here; sorting runs by a metric is `listing.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from dagyard.store.metrics import METRICS_SCHEMA, metric_key, metric_number
from dagyard.store.records import Event, EventKind
from dagyard.store.sql.schema import PATH, ArtifactRow, RunMetricRow, TaskRow
from dagyard.store.sql.transactions import chunks

_MAX_KEY = PATH.length or 512


def record_metrics(connection: sa.Connection, events: Sequence[Event]) -> None:
    """Store the metrics that `events` give their tasks' runs, replacing the values
    stored under the same keys. A key no column could hold (too long, or text no
    database takes) is left out: that metric cannot be sorted by, the rest of the
    write goes on."""
    outputs = [e for e in events if EventKind(e.kind) is EventKind.OUTPUT]
    if not outputs:
        return
    metadata: dict[str, dict[str, object]] = {}
    for chunk in chunks(sorted({e.artifact_id for e in outputs})):
        found = connection.execute(
            sa.select(ArtifactRow.artifact_id, ArtifactRow.metadata_).where(
                ArtifactRow.artifact_id.in_(chunk), ArtifactRow.schema_title == METRICS_SCHEMA
            )
        )
        metadata.update((artifact_id, values or {}) for artifact_id, values in found)
    scored = [e for e in outputs if e.artifact_id in metadata]
    if not scored:
        return
    tasks: dict[str, tuple[str, str]] = {}
    for chunk in chunks(sorted({e.task_id for e in scored})):
        found = connection.execute(
            sa.select(TaskRow.task_id, TaskRow.run_id, TaskRow.path).where(
                TaskRow.task_id.in_(chunk)
            )
        )
        tasks.update((task_id, (run_id, path)) for task_id, run_id, path in found)
    values: dict[tuple[str, str], float] = {}
    for event in scored:
        if event.task_id not in tasks:
            continue
        run_id, path = tasks[event.task_id]
        for name, value in metadata[event.artifact_id].items():
            number = metric_number(value)
            key = metric_key(path, name)
            if number is not None and _storable(key):
                values[(run_id, key)] = number
    if not values:
        return
    keys = sorted(values)
    for start in range(0, len(keys), 250):
        pairs = sa.tuple_(RunMetricRow.run_id, RunMetricRow.key).in_(keys[start : start + 250])
        connection.execute(sa.delete(RunMetricRow).where(pairs))
    connection.execute(
        sa.insert(RunMetricRow),
        [{"run_id": r, "key": k, "value": v} for (r, k), v in values.items()],
    )


def _storable(key: str) -> bool:
    if len(key) > _MAX_KEY or "\x00" in key:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
