"""Runs sortable by duration and by a metric.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

`runs.started_at`: when the run first went RUNNING (its duration is `finished_at` minus
it), filled for the runs written before from their state history. `run_metrics`: each
run's scalar metrics, "<task path>/<metric>" keyed, filled for the runs written before
from their tasks' output events to system.Metrics artifacts (`store/sql/metrics.py`
keeps them from then on).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

# The column types of the models, spelled out so that this migration never changes.
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_MAX_KEY = 512


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("started_at", _TIME, nullable=True))
    op.create_table(
        "run_metrics",
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("key", sa.String(_MAX_KEY), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name="fk_run_metrics_run_id_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_metrics"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_run_metrics_key", "run_metrics", ["key"])
    connection = op.get_bind()
    _fill_started_at(connection)
    _fill_metrics(connection)


def downgrade() -> None:
    op.drop_index("ix_run_metrics_key", table_name="run_metrics")
    op.drop_table("run_metrics")
    # Not in batch mode: on SQLite that copies the runs table and drops the old one,
    # which deletes every run's tasks and artifacts with it (ON DELETE CASCADE).
    op.drop_column("runs", "started_at")


def _fill_started_at(connection: sa.Connection) -> None:
    runs = sa.table(
        "runs",
        sa.column("run_id", sa.String()),
        sa.column("state_history", sa.Text()),
        sa.column("started_at", _TIME),
    )
    found = connection.execute(sa.select(runs.c.run_id, runs.c.state_history)).all()
    for run_id, history in found:
        entries = json.loads(history or "[]")
        started = next((e["update_time"] for e in entries if e.get("state") == "RUNNING"), None)
        if not started:
            continue
        when = datetime.fromisoformat(started.replace("Z", "+00:00")).astimezone(UTC)
        if connection.dialect.name != "postgresql":
            when = when.replace(tzinfo=None)  # stored as naive UTC there
        connection.execute(runs.update().where(runs.c.run_id == run_id).values(started_at=when))


def _fill_metrics(connection: sa.Connection) -> None:
    found = connection.execute(
        sa.text(
            "SELECT t.run_id, t.path, a.metadata FROM events e"
            " JOIN tasks t ON t.task_id = e.task_id"
            " JOIN artifacts a ON a.artifact_id = e.artifact_id"
            " WHERE e.kind = 'OUTPUT' AND a.schema_title = 'system.Metrics'"
        )
    ).all()
    values: dict[tuple[str, str], float] = {}
    for run_id, path, metadata in found:
        for name, value in (json.loads(metadata or "{}") or {}).items():
            key = f"{path}/{name}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value) and len(key) <= _MAX_KEY and "\x00" not in key:
                values[(run_id, key)] = value
    metrics = sa.table(
        "run_metrics",
        sa.column("run_id", sa.String()),
        sa.column("key", sa.String()),
        sa.column("value", sa.Double()),
    )
    if values:
        connection.execute(
            metrics.insert(), [{"run_id": r, "key": k, "value": v} for (r, k), v in values.items()]
        )
