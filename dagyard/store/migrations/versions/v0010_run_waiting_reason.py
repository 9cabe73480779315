"""Why a pending run waits.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

`runs.waiting_reason`: the sentence saying why a PENDING run has not started (its
namespace has as many runs running as DAGYARD_NAMESPACE_MAX_RUNS allows); NULL once it
starts, and for every run written before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

# The type of `columns.LongText`, spelled out so that this migration never changes.
_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("waiting_reason", _TEXT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("waiting_reason")
