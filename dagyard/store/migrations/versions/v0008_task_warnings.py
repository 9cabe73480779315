"""Task warnings: what a task's settings asked for that Dagyard could not honour.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

`tasks.warnings` is a JSON list of sentences, one per setting the engine recorded but
did not enforce (kfp-kubernetes' pod labels, node selectors, image pulling, ...). Rows
written before this revision get an empty list.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# The type of `columns.JSONDocument`, spelled out so that this migration never changes.
_JSON = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    # Added empty, filled, then required: MySQL gives a text column no literal default.
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("warnings", _JSON, nullable=True))
    op.execute("UPDATE tasks SET warnings = '[]'")
    with op.batch_alter_table("tasks") as batch:
        batch.alter_column("warnings", existing_type=_JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("warnings")
