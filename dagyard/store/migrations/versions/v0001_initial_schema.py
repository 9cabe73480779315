"""The initial metadata schema: one table per record type of dagyard.store.records.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Column types are spelled out here instead of importing `dagyard.store.sql.columns`, so
that this revision stays what it was when later revisions change the models. JSON
documents are text (see `columns.JSONDocument`); times are timestamptz on PostgreSQL and
DATETIME(6) holding UTC on MySQL/MariaDB.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_MYSQL = ("mysql", "mariadb")
_ID = sa.String(length=128)
_NAME = sa.String(length=255)
_ENUM = sa.String(length=32)
_HASH = sa.String(length=128)
_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)
_JSON = _TEXT
_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _column(name: str, type_: sa.types.TypeEngine[Any], *, null: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=null)


def _owned_by(column: str, table: str, owner: str, key: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{owner}.{key}"], name=f"fk_{table}_{column}_{owner}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        _column("experiment_id", _ID),
        _column("display_name", _NAME),
        _column("description", _TEXT),
        _column("namespace", _NAME),
        _column("storage_state", _ENUM),
        _column("created_at", _TIME),
        _column("last_run_created_at", _TIME, null=True),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint(
            "namespace", "display_name", name="uq_experiments_namespace_display_name"
        ),
        **_OPTIONS,
    )
    op.create_table(
        "pipelines",
        _column("pipeline_id", _ID),
        _column("name", _NAME),
        _column("display_name", _NAME),
        _column("description", _TEXT),
        _column("namespace", _NAME),
        _column("tags", _JSON),
        _column("created_at", _TIME),
        sa.PrimaryKeyConstraint("pipeline_id", name="pk_pipelines"),
        sa.UniqueConstraint("namespace", "name", name="uq_pipelines_namespace_name"),
        **_OPTIONS,
    )
    op.create_table(
        "pipeline_versions",
        _column("pipeline_version_id", _ID),
        _column("pipeline_id", _ID),
        _column("name", _NAME),
        _column("pipeline_spec", _JSON),
        _column("display_name", _NAME),
        _column("description", _TEXT),
        _column("code_source_url", _TEXT),
        _column("package_url", _TEXT),
        _column("platform_spec", _JSON, null=True),
        _column("created_at", _TIME),
        _owned_by("pipeline_id", "pipeline_versions", "pipelines", "pipeline_id"),
        sa.PrimaryKeyConstraint("pipeline_version_id", name="pk_pipeline_versions"),
        sa.UniqueConstraint("pipeline_id", "name", name="uq_pipeline_versions_pipeline_id_name"),
        **_OPTIONS,
    )
    op.create_table(
        "runs",
        _column("run_id", _ID),
        _column("display_name", _NAME),
        _column("pipeline_spec", _JSON),
        _column("state", _ENUM),
        _column("experiment_id", _ID, null=True),
        _column("description", _TEXT),
        _column("pipeline_id", _ID, null=True),
        _column("pipeline_version_id", _ID, null=True),
        _column("runtime_config", _JSON),
        _column("service_account", _NAME),
        _column("storage_state", _ENUM),
        _column("recurring_run_id", _ID, null=True),
        _column("created_at", _TIME),
        _column("scheduled_at", _TIME, null=True),
        _column("finished_at", _TIME, null=True),
        _column("error", _TEXT, null=True),
        _column("outputs", _JSON),
        _column("cache_enabled", sa.Boolean()),
        _column("max_cache_staleness_seconds", sa.Double(), null=True),
        _column("state_history", _JSON),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
        **_OPTIONS,
    )
    op.create_index("ix_runs_experiment_id", "runs", ["experiment_id"])
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_table(
        "tasks",
        _column("task_id", _ID),
        _column("run_id", _ID),
        _column("path", sa.String(length=512)),
        _column("name", _NAME),
        _column("kind", _ENUM),
        _column("display_name", _NAME),
        _column("parent_task_id", _ID, null=True),
        _column("iteration_index", sa.Integer(), null=True),
        _column("state", _ENUM),
        _column("attempts", sa.Integer()),
        _column("system_retries", sa.Integer()),
        _column("inputs", _JSON),
        _column("outputs", _JSON),
        _column("fingerprint", _HASH, null=True),
        _column("cache_hit", sa.Boolean()),
        _column("cached_from_task_id", _ID, null=True),
        _column("cache_reason", _TEXT, null=True),
        _column("error", _TEXT, null=True),
        _column("log_uri", _TEXT, null=True),
        _column("node", _NAME, null=True),
        _column("created_at", _TIME),
        _column("started_at", _TIME, null=True),
        _column("finished_at", _TIME, null=True),
        _owned_by("run_id", "tasks", "runs", "run_id"),
        sa.PrimaryKeyConstraint("task_id", name="pk_tasks"),
        sa.UniqueConstraint("run_id", "path", name="uq_tasks_run_id_path"),
        **_OPTIONS,
    )
    op.create_index(
        "ix_tasks_fingerprint_state_finished_at", "tasks", ["fingerprint", "state", "finished_at"]
    )
    op.create_table(
        "artifacts",
        _column("artifact_id", _ID),
        _column("run_id", _ID),
        _column("name", _NAME),
        _column("uri", _TEXT),
        _column("schema_title", _NAME),
        _column("schema_version", sa.String(length=64)),
        _column("metadata", _JSON),
        _column("digest", _HASH, null=True),
        _column("producer_task_id", _ID, null=True),
        _column("output_key", _NAME, null=True),
        _column("created_at", _TIME),
        _owned_by("run_id", "artifacts", "runs", "run_id"),
        sa.PrimaryKeyConstraint("artifact_id", name="pk_artifacts"),
        **_OPTIONS,
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_table(
        "events",
        _column("task_id", _ID),
        _column("artifact_id", _ID),
        _column("kind", _ENUM),
        _column("key", _NAME),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        _column("created_at", _TIME),
        _owned_by("task_id", "events", "tasks", "task_id"),
        _owned_by("artifact_id", "events", "artifacts", "artifact_id"),
        sa.PrimaryKeyConstraint("task_id", "artifact_id", "kind", "key", "index", name="pk_events"),
        **_OPTIONS,
    )
    op.create_index("ix_events_artifact_id", "events", ["artifact_id"])
    op.create_table(
        "recurring_runs",
        _column("recurring_run_id", _ID),
        _column("display_name", _NAME),
        _column("pipeline_spec", _JSON, null=True),
        _column("pipeline_id", _ID, null=True),
        _column("pipeline_version_id", _ID, null=True),
        _column("description", _TEXT),
        _column("runtime_config", _JSON),
        _column("service_account", _NAME),
        _column("max_concurrency", sa.Integer()),
        _column("trigger", _JSON),
        _column("timezone", sa.String(length=64)),
        _column("enabled", sa.Boolean()),
        _column("no_catchup", sa.Boolean()),
        _column("experiment_id", _ID, null=True),
        _column("namespace", _NAME),
        _column("created_at", _TIME),
        _column("updated_at", _TIME),
        _column("error", _TEXT, null=True),
        sa.PrimaryKeyConstraint("recurring_run_id", name="pk_recurring_runs"),
        **_OPTIONS,
    )


def downgrade() -> None:
    for table in (
        "recurring_runs",
        "events",
        "artifacts",
        "tasks",
        "runs",
        "pipeline_versions",
        "pipelines",
        "experiments",
    ):
        op.drop_table(table)
