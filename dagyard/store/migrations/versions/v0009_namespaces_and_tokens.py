"""Namespaces and namespace tokens.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

`namespaces` holds one row per namespace; `api_tokens` one per namespace token: its
namespace, its role ('edit' or 'view'), a label, its SHA-256 digest (the token itself
is never stored), when it was made, when it expires and when it was revoked. A token
goes with its namespace.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# The types of `schema.ID`, `schema.NAME`, `schema.HASH`, `columns.enum_type` and
# `columns.UTCDateTime`, spelled out so that this migration never changes.
_MYSQL = ("mysql", "mariadb")
_ID = sa.String(length=128)
_NAME = sa.String(length=255)
_HASH = sa.String(length=128)
_ENUM = sa.String(length=32)
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *_MYSQL)


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("name", _NAME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_namespaces"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", _ID, nullable=False),
        sa.Column("namespace", _NAME, nullable=False),
        sa.Column("role", _ENUM, nullable=False),
        sa.Column("digest", _HASH, nullable=False),
        sa.Column("label", _NAME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["namespace"],
            ["namespaces.name"],
            name="fk_api_tokens_namespace_namespaces",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_api_tokens_namespace", "api_tokens", ["namespace"])


def downgrade() -> None:
    # The table's indexes go with it (MySQL refuses to drop the index on its own while
    # the foreign key needs it).
    op.drop_table("api_tokens")
    op.drop_table("namespaces")
