"""The tables of the metadata database, one per record type of `dagyard.store.records`.

Column names are the records' field names and are permanent (they reach the REST API and
every existing database). A change here needs a new Alembic revision in
`dagyard/store/migrations/versions/`; a test checks that the migrated schema and these
models agree. No behaviour belongs here: conversion is in `rows.py`, queries in `store.py`.

Owned records are deleted with their owner by the database (ON DELETE CASCADE): a run's
tasks, artifacts and events; a pipeline's versions. Links that may outlive their target
(a run's experiment or pipeline, a cached task's source) are plain columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dagyard.store.records import (
    EventKind,
    Role,
    RunState,
    StorageState,
    TaskKind,
    TaskState,
    ValuesKind,
)
from dagyard.store.sql.columns import JSONDocument, LongText, UTCDateTime, enum_type

ID = sa.String(128)
NAME = sa.String(255)
# (run_id, path) is a unique key: MySQL limits keys to 3072 bytes, 4 bytes a character.
PATH = sa.String(512)
HASH = sa.String(128)

# Binary collation on MySQL/MariaDB: names compare case- and accent-sensitively there too,
# as on SQLite and PostgreSQL (the default collation would make "Train" equal "train").
_MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (sa.UniqueConstraint("namespace", "display_name"), _MYSQL_TABLE)

    experiment_id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(LongText)
    namespace: Mapped[str] = mapped_column(NAME)
    storage_state: Mapped[StorageState] = mapped_column(enum_type(StorageState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PipelineRow(Base):
    __tablename__ = "pipelines"
    __table_args__ = (sa.UniqueConstraint("namespace", "name"), _MYSQL_TABLE)

    pipeline_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    display_name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(LongText)
    namespace: Mapped[str] = mapped_column(NAME)
    tags: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PipelineVersionRow(Base):
    __tablename__ = "pipeline_versions"
    # The unique key also serves lookups of a pipeline's versions.
    __table_args__ = (sa.UniqueConstraint("pipeline_id", "name"), _MYSQL_TABLE)

    pipeline_version_id: Mapped[str] = mapped_column(ID, primary_key=True)
    pipeline_id: Mapped[str] = mapped_column(ID, _fk("pipelines.pipeline_id"))
    name: Mapped[str] = mapped_column(NAME)
    pipeline_spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    display_name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(LongText)
    code_source_url: Mapped[str] = mapped_column(LongText)
    package_url: Mapped[str] = mapped_column(LongText)
    platform_spec: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        sa.Index(None, "experiment_id"),
        sa.Index(None, "state"),
        # Listing pages newest first, overall and per experiment (the API's usual query).
        sa.Index(None, "created_at"),
        sa.Index(None, "experiment_id", "created_at"),
        # The same for the runs not archived (the UI's query), counted from the index.
        sa.Index(None, "storage_state", "created_at"),
        sa.Index(None, "experiment_id", "storage_state", "created_at"),
        # Exactly one run per due time of a recurring run, however many schedulers race.
        sa.Index(None, "recurring_run_id", "scheduled_at", unique=True),
        _MYSQL_TABLE,
    )

    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(NAME)
    pipeline_spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    state: Mapped[RunState] = mapped_column(enum_type(RunState))
    experiment_id: Mapped[str | None] = mapped_column(ID)
    description: Mapped[str] = mapped_column(LongText)
    pipeline_id: Mapped[str | None] = mapped_column(ID)
    pipeline_version_id: Mapped[str | None] = mapped_column(ID)
    runtime_config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    service_account: Mapped[str] = mapped_column(NAME)
    storage_state: Mapped[StorageState] = mapped_column(enum_type(StorageState))
    recurring_run_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(LongText)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    cache_enabled: Mapped[bool] = mapped_column(sa.Boolean)
    max_cache_staleness_seconds: Mapped[float | None] = mapped_column(sa.Double)
    state_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    # The orchestrator process driving the run, and when its claim lapses (migration 0006).
    lease_owner: Mapped[str | None] = mapped_column(NAME)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a PENDING run waits (migration 0010).
    waiting_reason: Mapped[str | None] = mapped_column(LongText)
    # The last revision given to a change of its tasks (migration 0011, see TaskRow).
    task_revision: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # When the run first went RUNNING, for sorting by duration (migration 0013); not a
    # field of the record, whose state_history says the same.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # Also the index of a run's tasks (run_id leads).
        sa.UniqueConstraint("run_id", "path"),
        sa.Index(None, "fingerprint", "state", "finished_at"),
        # A run's tasks changed since a revision (the UI's incremental reads).
        sa.Index(None, "run_id", "revision"),
        _MYSQL_TABLE,
    )

    task_id: Mapped[str] = mapped_column(ID, primary_key=True)
    run_id: Mapped[str] = mapped_column(ID, _fk("runs.run_id"))
    path: Mapped[str] = mapped_column(PATH)
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind))
    display_name: Mapped[str] = mapped_column(NAME)
    # No foreign key: the run's cascade deletes the whole tree, and MySQL stops cascading
    # through a self-reference after 15 levels.
    parent_task_id: Mapped[str | None] = mapped_column(ID)
    iteration_index: Mapped[int | None] = mapped_column(sa.Integer)
    state: Mapped[TaskState] = mapped_column(enum_type(TaskState))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    system_retries: Mapped[int] = mapped_column(sa.Integer)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    fingerprint: Mapped[str | None] = mapped_column(HASH)
    cache_hit: Mapped[bool] = mapped_column(sa.Boolean)
    cached_from_task_id: Mapped[str | None] = mapped_column(ID)
    cache_reason: Mapped[str | None] = mapped_column(LongText)
    error: Mapped[str | None] = mapped_column(LongText)
    log_uri: Mapped[str | None] = mapped_column(LongText)
    node: Mapped[str | None] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its first attempt started, and how long its ended attempts ran (migration 0012).
    first_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ran_seconds: Mapped[float] = mapped_column(sa.Double, default=0.0, server_default="0")
    # Settings recorded but not honoured, as sentences (migration 0008).
    warnings: Mapped[list[str]] = mapped_column(JSONDocument)
    # The run's task revision of the task's last write (migration 0011): every write of a
    # run's tasks takes the next `runs.task_revision` under the run row's lock, so the
    # revisions commit in order and "changed after N" misses nothing. Not in the record.
    revision: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (
        sa.Index(None, "run_id"),
        # Listing pages of every run's artifacts, newest first.
        sa.Index(None, "created_at"),
        _MYSQL_TABLE,
    )

    artifact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    run_id: Mapped[str] = mapped_column(ID, _fk("runs.run_id"))
    name: Mapped[str] = mapped_column(NAME)
    uri: Mapped[str] = mapped_column(LongText)
    schema_title: Mapped[str] = mapped_column(NAME)
    schema_version: Mapped[str] = mapped_column(sa.String(64))
    # `metadata` is taken by SQLAlchemy's declarative base; the column keeps the name.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument)
    digest: Mapped[str | None] = mapped_column(HASH)
    producer_task_id: Mapped[str | None] = mapped_column(ID)
    output_key: Mapped[str | None] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    """One lineage edge. The whole record is the key, so recording it twice is harmless."""

    __tablename__ = "events"
    # The primary key (task_id leads) is the index of a task's events.
    __table_args__ = (sa.Index(None, "artifact_id"), _MYSQL_TABLE)

    task_id: Mapped[str] = mapped_column(ID, _fk("tasks.task_id"), primary_key=True)
    artifact_id: Mapped[str] = mapped_column(ID, _fk("artifacts.artifact_id"), primary_key=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind), primary_key=True)
    key: Mapped[str] = mapped_column(NAME, primary_key=True)
    index: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunMetricRow(Base):
    """A run's scalar metric (migration 0013), "<task path>/<metric>" keyed: the numbers
    of the system.Metrics artifacts its tasks output, those reused from the cache too.
    Derived from artifacts and events as they are written (`sql/metrics.py`), so that
    runs can be sorted by a metric and a list's metric keys found in one query."""

    __tablename__ = "run_metrics"
    # The primary key (run_id leads) is the index of a run's metrics.
    __table_args__ = (sa.Index(None, "key"), _MYSQL_TABLE)

    run_id: Mapped[str] = mapped_column(ID, _fk("runs.run_id"), primary_key=True)
    key: Mapped[str] = mapped_column(PATH, primary_key=True)
    value: Mapped[float] = mapped_column(sa.Double)


class RecurringRunRow(Base):
    __tablename__ = "recurring_runs"
    __table_args__ = (_MYSQL_TABLE,)

    recurring_run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(NAME)
    pipeline_spec: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    pipeline_id: Mapped[str | None] = mapped_column(ID)
    pipeline_version_id: Mapped[str | None] = mapped_column(ID)
    description: Mapped[str] = mapped_column(LongText)
    runtime_config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    service_account: Mapped[str] = mapped_column(NAME)
    max_concurrency: Mapped[int] = mapped_column(sa.Integer)
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    enabled: Mapped[bool] = mapped_column(sa.Boolean)
    no_catchup: Mapped[bool] = mapped_column(sa.Boolean)
    experiment_id: Mapped[str | None] = mapped_column(ID)
    namespace: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(LongText)
    scheduled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NamedValuesRow(Base):
    """Secrets and config maps (migration 0007), keyed by kind, namespace and name."""

    __tablename__ = "named_values"
    __table_args__ = (_MYSQL_TABLE,)

    kind: Mapped[ValuesKind] = mapped_column(enum_type(ValuesKind), primary_key=True)
    namespace: Mapped[str] = mapped_column(NAME, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    data: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NamespaceRow(Base):
    """Namespaces (migration 0009)."""

    __tablename__ = "namespaces"
    __table_args__ = (_MYSQL_TABLE,)

    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiTokenRow(Base):
    """Namespace tokens (migration 0009), found by their digest; deleted with their
    namespace."""

    __tablename__ = "api_tokens"
    __table_args__ = (sa.UniqueConstraint("digest"), _MYSQL_TABLE)

    token_id: Mapped[str] = mapped_column(ID, primary_key=True)
    namespace: Mapped[str] = mapped_column(NAME, _fk("namespaces.name"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    digest: Mapped[str] = mapped_column(HASH)
    label: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
