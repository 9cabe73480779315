"""Indexes for listing runs newest first, overall and per experiment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Without them every page of `GET /runs` sorts all matching runs (100,000 runs: seconds).
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_experiment_id_created_at", "runs", ["experiment_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_id_created_at", table_name="runs")
    op.drop_index("ix_runs_created_at", table_name="runs")
