"""Secrets and config maps: named sets of text values that tasks read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

`named_values` holds one row per (kind, namespace, name): `kind` is 'secret' or
'config_map', `data` the values as a JSON object of strings. kfp-kubernetes' settings
(use_secret_as_env, use_config_map_as_volume, ...) read them; `dagyard secrets` and
`dagyard configmaps` write them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# The types of `columns.enum_type`, `schema.NAME`, `columns.JSONDocument` and
# `columns.UTCDateTime`, spelled out so that this migration never changes.
_MYSQL = ("mysql", "mariadb")
_ENUM = sa.String(length=32)
_NAME = sa.String(length=255)
_JSON = sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *_MYSQL)


def upgrade() -> None:
    op.create_table(
        "named_values",
        sa.Column("kind", _ENUM, nullable=False),
        sa.Column("namespace", _NAME, nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "namespace", "name", name="pk_named_values"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def downgrade() -> None:
    op.drop_table("named_values")
