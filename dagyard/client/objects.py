"""What the client returns: frozen dataclasses read from the REST API's JSON.

Only conversion from JSON belongs here; talking to the server lives in `client.py`.
Field names follow KFP's v2beta1 API; enums stay strings (`"SUCCEEDED"`), times become
timezone-aware datetimes, and a field the server left out becomes None or empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Run states after which nothing changes any more. KFP's client leaves out CANCELED.
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    display_name: str
    description: str = ""
    namespace: str = ""
    storage_state: str = ""
    created_at: datetime | None = None
    last_run_created_at: datetime | None = None


@dataclass(frozen=True)
class Pipeline:
    pipeline_id: str
    display_name: str
    name: str = ""
    description: str = ""
    namespace: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class PipelineVersion:
    pipeline_id: str
    pipeline_version_id: str
    display_name: str
    name: str = ""
    description: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Task:
    """One task of a run, as in the run's `run_details.task_details`."""

    task_id: str
    display_name: str
    state: str
    parent_task_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class Run:
    run_id: str
    display_name: str
    state: str
    experiment_id: str = ""
    storage_state: str = ""
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    recurring_run_id: str | None = None
    created_at: datetime | None = None
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    # Filled by get_run and wait_for_run_completion; lists of runs carry no tasks.
    tasks: tuple[Task, ...] = ()

    @property
    def done(self) -> bool:
        """Whether the run has reached a state it will not leave (CANCELED included)."""
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class RecurringRun:
    """A recurring run (KFP's "job"): a pipeline the server runs on a cron or interval
    trigger. Exactly one of `cron` and `interval_second` is set; the trigger's
    `start_time` and `end_time` are flattened in beside them."""

    recurring_run_id: str
    display_name: str
    # "ENABLED" or "DISABLED"; see `enabled`.
    status: str
    description: str = ""
    cron: str | None = None
    interval_second: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    # Beyond KFP: the IANA time zone a cron trigger's fields are read in.
    timezone: str = "UTC"
    max_concurrency: int = 1
    no_catchup: bool = False
    experiment_id: str = ""
    namespace: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    # Set when it runs an uploaded pipeline version; None when it carries its own spec.
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    service_account: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED"


@dataclass(frozen=True)
class ExperimentList:
    experiments: tuple[Experiment, ...]
    total_size: int = 0
    next_page_token: str = ""


@dataclass(frozen=True)
class PipelineList:
    pipelines: tuple[Pipeline, ...]
    total_size: int = 0
    next_page_token: str = ""


@dataclass(frozen=True)
class RunList:
    runs: tuple[Run, ...]
    total_size: int = 0
    next_page_token: str = ""


@dataclass(frozen=True)
class RecurringRunList:
    recurring_runs: tuple[RecurringRun, ...]
    total_size: int = 0
    next_page_token: str = ""


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _trigger_time(value: Any) -> datetime | None:
    # A trigger's times come back as the caller wrote them (RFC 3339); the server reads
    # one without an offset as UTC, and so does this.
    moment = _time(value)
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _error(value: Any) -> str | None:
    return value.get("message") or None if isinstance(value, dict) else None


def experiment(data: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=data["experiment_id"],
        display_name=data.get("display_name", ""),
        description=data.get("description", ""),
        namespace=data.get("namespace", ""),
        storage_state=data.get("storage_state", ""),
        created_at=_time(data.get("created_at")),
        last_run_created_at=_time(data.get("last_run_created_at")),
    )


def pipeline(data: dict[str, Any]) -> Pipeline:
    return Pipeline(
        pipeline_id=data["pipeline_id"],
        display_name=data.get("display_name") or data.get("name", ""),
        name=data.get("name", ""),
        description=data.get("description", ""),
        namespace=data.get("namespace", ""),
        created_at=_time(data.get("created_at")),
    )


def pipeline_version(data: dict[str, Any]) -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=data["pipeline_id"],
        pipeline_version_id=data["pipeline_version_id"],
        display_name=data.get("display_name") or data.get("name", ""),
        name=data.get("name", ""),
        description=data.get("description", ""),
        created_at=_time(data.get("created_at")),
    )


def task(data: dict[str, Any]) -> Task:
    return Task(
        task_id=data["task_id"],
        display_name=data.get("display_name", ""),
        state=data.get("state", ""),
        parent_task_id=data.get("parent_task_id"),
        start_time=_time(data.get("start_time")),
        end_time=_time(data.get("end_time")),
        error=_error(data.get("error")),
    )


def run(data: dict[str, Any]) -> Run:
    reference = data.get("pipeline_version_reference") or {}
    details = data.get("run_details") or {}
    return Run(
        run_id=data["run_id"],
        display_name=data.get("display_name", ""),
        state=data.get("state", ""),
        experiment_id=data.get("experiment_id", ""),
        storage_state=data.get("storage_state", ""),
        description=data.get("description", ""),
        parameters=dict((data.get("runtime_config") or {}).get("parameters") or {}),
        pipeline_id=reference.get("pipeline_id"),
        pipeline_version_id=reference.get("pipeline_version_id"),
        recurring_run_id=data.get("recurring_run_id"),
        created_at=_time(data.get("created_at")),
        scheduled_at=_time(data.get("scheduled_at")),
        finished_at=_time(data.get("finished_at")),
        error=_error(data.get("error")),
        tasks=tuple(task(t) for t in details.get("task_details") or ()),
    )


def recurring_run(data: dict[str, Any]) -> RecurringRun:
    trigger = data.get("trigger") or {}
    schedule = trigger.get("cron_schedule") or trigger.get("periodic_schedule") or {}
    interval = schedule.get("interval_second")
    reference = data.get("pipeline_version_reference") or {}
    return RecurringRun(
        recurring_run_id=data["recurring_run_id"],
        display_name=data.get("display_name", ""),
        status=data.get("status", ""),
        description=data.get("description", ""),
        cron=schedule.get("cron"),
        # int64 may arrive as text in KFP's JSON.
        interval_second=None if interval is None else int(interval),
        start_time=_trigger_time(schedule.get("start_time")),
        end_time=_trigger_time(schedule.get("end_time")),
        timezone=data.get("timezone") or "UTC",
        max_concurrency=data.get("max_concurrency") or 1,
        no_catchup=bool(data.get("no_catchup")),
        experiment_id=data.get("experiment_id", ""),
        namespace=data.get("namespace", ""),
        parameters=dict((data.get("runtime_config") or {}).get("parameters") or {}),
        pipeline_id=reference.get("pipeline_id"),
        pipeline_version_id=reference.get("pipeline_version_id"),
        service_account=data.get("service_account", ""),
        created_at=_time(data.get("created_at")),
        updated_at=_time(data.get("updated_at")),
        error=_error(data.get("error")),
    )
