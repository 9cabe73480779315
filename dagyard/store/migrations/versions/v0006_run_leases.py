"""Run leases: which orchestrator process drives a run, and until when.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

`runs.lease_owner` names the process that claimed the run (NULL: nobody);
`runs.lease_expires_at` is when its claim lapses unless renewed. Claims are
compare-and-set UPDATEs on these columns, so the database, not a process's memory,
decides that one process at a time drives a run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

# The types of `columns.UTCDateTime` and `schema.NAME`, spelled out so that this
# migration never changes.
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
