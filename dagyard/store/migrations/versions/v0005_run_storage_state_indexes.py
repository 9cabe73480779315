"""Indexes for listing the runs that are not archived, overall and per experiment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

The UI lists `storage_state = AVAILABLE` runs newest first. Without these, counting them
for `total_size` reads every run's row, pipeline spec included (100,000 runs: about
0.6 s per page).
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_runs_storage_state_created_at", "runs", ["storage_state", "created_at"])
    op.create_index(
        "ix_runs_experiment_id_storage_state_created_at",
        "runs",
        ["experiment_id", "storage_state", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_id_storage_state_created_at", table_name="runs")
    op.drop_index("ix_runs_storage_state_created_at", table_name="runs")
