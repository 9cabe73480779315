"""Recurring runs: one run per due time, enforced by the database; the scheduler's mark.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A unique index on runs (recurring_run_id, scheduled_at): when several schedulers race to
create the run of one due time, one insert wins and the others fail. Ad-hoc runs have
NULL in both columns, and NULLs never collide. `recurring_runs.scheduled_until` is the
time up to which every due time has been handled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_index(
        "ix_runs_recurring_run_id_scheduled_at",
        "runs",
        ["recurring_run_id", "scheduled_at"],
        unique=True,
    )
    op.add_column("recurring_runs", sa.Column("scheduled_until", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recurring_runs") as batch:
        batch.drop_column("scheduled_until")
    op.drop_index("ix_runs_recurring_run_id_scheduled_at", table_name="runs")
