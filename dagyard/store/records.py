"""The records Dagyard stores: plain data, shared by every metadata backend.

Field names follow KFP's REST API where KFP has one (they reach the API and the database
and are permanent). Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any, NamedTuple


class RunState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    PAUSED = "PAUSED"

    @property
    def terminal(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.SKIPPED, RunState.FAILED, RunState.CANCELED)


class TaskState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CACHED = "CACHED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in (
            TaskState.SUCCEEDED,
            TaskState.FAILED,
            TaskState.SKIPPED,
            TaskState.CACHED,
            TaskState.CANCELED,
        )

    @property
    def done_ok(self) -> bool:
        """Finished with outputs: succeeded, or reused from the cache."""
        return self in (TaskState.SUCCEEDED, TaskState.CACHED)


class StorageState(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    ARCHIVED = "ARCHIVED"


class TaskKind(enum.StrEnum):
    CONTAINER = "container"  # runs a command (lightweight Python or container component)
    IMPORTER = "importer"  # registers an existing URI as an artifact
    DAG = "dag"  # a sub-DAG: condition, exit handler, nested pipeline, loop iteration
    LOOP = "loop"  # a ParallelFor; its children are its iterations (kind DAG)


class EventKind(enum.StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class ValuesKind(enum.StrEnum):
    """What a set of named values is to the tasks that read it (kfp-kubernetes' words)."""

    SECRET = "secret"  # its values are never shown: not in a listing, a log or the API
    CONFIG_MAP = "config_map"


@dataclasses.dataclass
class Experiment:
    experiment_id: str
    display_name: str
    description: str = ""
    namespace: str = ""
    storage_state: StorageState = StorageState.AVAILABLE
    created_at: datetime | None = None
    last_run_created_at: datetime | None = None


@dataclasses.dataclass
class Pipeline:
    pipeline_id: str
    name: str
    display_name: str = ""
    description: str = ""
    namespace: str = ""
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    created_at: datetime | None = None


@dataclasses.dataclass
class PipelineVersion:
    pipeline_version_id: str
    pipeline_id: str
    name: str
    pipeline_spec: dict[str, Any]
    display_name: str = ""
    description: str = ""
    code_source_url: str = ""
    package_url: str = ""
    platform_spec: dict[str, Any] | None = None
    created_at: datetime | None = None


@dataclasses.dataclass
class Run:
    run_id: str
    display_name: str
    pipeline_spec: dict[str, Any]
    state: RunState = RunState.PENDING
    experiment_id: str | None = None
    description: str = ""
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    # KFP's runtime_config: {"parameters": {...}, "pipeline_root": "..."}
    runtime_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    service_account: str = ""
    storage_state: StorageState = StorageState.AVAILABLE
    recurring_run_id: str | None = None
    created_at: datetime | None = None
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    # Pipeline outputs by name, once the run has them.
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Caching switches of this run: off entirely (`--no-cache`), or a maximum age.
    cache_enabled: bool = True
    max_cache_staleness_seconds: float | None = None
    # [{"update_time": iso, "state": ..., "error": ...}], appended on every state change.
    state_history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # The orchestrator process that drives the run, and when its lease lapses unless
    # renewed (`MetadataStore.claim_run`); None when no process holds it.
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    # Why a PENDING run has not started (its namespace's limit on running runs); None
    # once it starts, or when nothing holds it back.
    waiting_reason: str | None = None


@dataclasses.dataclass
class Task:
    """One node of a run's execution tree: a leaf task, a sub-DAG, a loop or an iteration.

    `path` is unique within the run and stable across restarts (e.g.
    `exit-handler-1/for-loop-2/3/square`): the engine finds its earlier work by it.
    """

    task_id: str
    run_id: str
    path: str
    name: str
    kind: TaskKind
    display_name: str = ""
    parent_task_id: str | None = None
    iteration_index: int | None = None
    state: TaskState = TaskState.PENDING
    attempts: int = 0
    system_retries: int = 0
    # Resolved inputs: {"parameters": {...}, "artifacts": {name: [artifact_id, ...]}}
    inputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Parameter outputs by name (artifacts are linked through events).
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: str | None = None
    cache_hit: bool = False
    cached_from_task_id: str | None = None
    # Why the cache was or was not used, in words (the "why" query reads this).
    cache_reason: str | None = None
    error: str | None = None
    log_uri: str | None = None
    # The host its last attempt ran on (a Ray node id, or this machine's name). The
    # field's name is stored and served by the API, so it stays `node`.
    node: str | None = None
    created_at: datetime | None = None
    # When its latest attempt started (None while it waits for a retry or for capacity).
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # When its first attempt started (created -> first start: the time it was queued),
    # and how long its attempts that ended ran, in all (engine/running_time.py). What is
    # left of first start -> end is the waiting between attempts.
    first_started_at: datetime | None = None
    ran_seconds: float = 0.0
    # What its settings asked for that was recorded, not honoured (kfp-kubernetes' pod
    # labels, node selectors no Ray node matches, ...): one sentence each.
    warnings: list[str] = dataclasses.field(default_factory=list)


class TaskDigest(NamedTuple):
    """What a summary of a run's task tree needs of one task record, read without the
    rest of it (a run may have tens of thousands): `warned` says its `warnings` are not
    empty, and `revision` is the run's task revision of its last write. A named tuple:
    twenty thousand are made in a few milliseconds."""

    task_id: str
    path: str
    kind: TaskKind
    state: TaskState
    cache_hit: bool
    iteration_index: int | None
    warned: bool
    revision: int


@dataclasses.dataclass(frozen=True)
class Subtree:
    """The task record at `path` and every record below it, at all depths."""

    path: str


@dataclasses.dataclass(frozen=True)
class Children:
    """The task records directly below `path` (one more segment); with `from_index` or
    `to_index`, only those whose `iteration_index` is in [from_index, to_index)."""

    path: str
    from_index: int | None = None
    to_index: int | None = None


# The part of a run's task tree a read is held to (`MetadataStore.changed_tasks`).
TaskScope = Subtree | Children


@dataclasses.dataclass
class Artifact:
    artifact_id: str
    run_id: str
    name: str
    uri: str
    schema_title: str
    schema_version: str = "0.0.1"
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    # sha256 of the bytes (a file, or a folder's files in path order), None if unknown.
    digest: str | None = None
    producer_task_id: str | None = None
    output_key: str | None = None
    created_at: datetime | None = None


@dataclasses.dataclass
class Event:
    """Lineage: a task consumed or produced an artifact under an input/output key."""

    task_id: str
    artifact_id: str
    kind: EventKind
    key: str
    index: int = 0
    created_at: datetime | None = None


@dataclasses.dataclass
class RecurringRun:
    recurring_run_id: str
    display_name: str
    pipeline_spec: dict[str, Any] | None = None
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    description: str = ""
    runtime_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    service_account: str = ""
    max_concurrency: int = 1
    # KFP's trigger: {"cron_schedule": {...}} or {"periodic_schedule": {...}}
    trigger: dict[str, Any] = dataclasses.field(default_factory=dict)
    timezone: str = "UTC"
    enabled: bool = True
    no_catchup: bool = False
    experiment_id: str | None = None
    namespace: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    error: str | None = None
    # The scheduler's watermark: every due time up to here has its run, or was skipped
    # (no_catchup, or while disabled). None: start from `start_time`, else `created_at`.
    scheduled_until: datetime | None = None


@dataclasses.dataclass
class NamedValues:
    """A secret or a config map: named text values (`data`, key -> value) that tasks get
    as environment variables or files (kfp-kubernetes' use_secret_as_env, ...). One per
    (kind, namespace, name); the namespace is the one of the run's experiment ("" by
    default), as KFP looks a secret up in the namespace of the run's pod."""

    kind: ValuesKind
    name: str
    data: dict[str, str] = dataclasses.field(default_factory=dict)
    namespace: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Role(enum.StrEnum):
    """What a namespace token may do in its namespace."""

    EDIT = "edit"  # read, create, change and delete
    VIEW = "view"  # read only


@dataclasses.dataclass
class Namespace:
    """A team's share of the platform: its pipelines, experiments, runs and recurring
    runs are its own, reached only with its tokens (or the admin token)."""

    name: str
    created_at: datetime | None = None


@dataclasses.dataclass
class ApiToken:
    """A namespace token, as stored: never the token itself, only its SHA-256 `digest`.
    `expires_at` None: it does not expire; `revoked_at` set: it no longer works."""

    token_id: str
    namespace: str
    role: Role
    digest: str
    label: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
