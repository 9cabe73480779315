"""A task's running time apart from its waits.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

`tasks.first_started_at`: when the task's first attempt started (`started_at` is its
latest attempt's), so that the time it was queued (created -> first start) is known.
`tasks.ran_seconds`: how long its attempts that ended ran, in all; what is left of its
first start -> end is the waiting between attempts (a retry's back-off, capacity). Rows
written before this revision get NULL and 0: their time reads as before, from their
latest attempt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

# The type of `columns.UTCDateTime`, spelled out so that this migration never changes.
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("tasks", sa.Column("first_started_at", _TIME, nullable=True))
    op.add_column(
        "tasks", sa.Column("ran_seconds", sa.Double(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the tasks table and drops the old one,
    # whose foreign keys would delete every event with it (SQLite drops columns itself
    # since 3.35).
    op.drop_column("tasks", "ran_seconds")
    op.drop_column("tasks", "first_started_at")
