"""Task revisions: what changed in a run's tasks since a given read.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

`runs.task_revision` counts the writes of the run's tasks; `tasks.revision` is the count
at the task's last write (both 0 for everything written before this revision, which a
first full read returns anyway). Indexed by (run_id, revision) for "changed after N".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Not in batch mode (see 0012): on SQLite that would copy tables and drop the old
    # ones, and their foreign keys would take the rows that point at them along.
    op.add_column(
        "runs", sa.Column("task_revision", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("tasks", sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_tasks_run_id_revision", "tasks", ["run_id", "revision"])


def downgrade() -> None:
    op.drop_index("ix_tasks_run_id_revision", table_name="tasks")
    op.drop_column("tasks", "revision")
    op.drop_column("runs", "task_revision")
