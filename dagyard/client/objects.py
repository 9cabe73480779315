"""What the client returns: frozen dataclasses read from the REST API's JSON.

Only conversion from JSON belongs here; talking to the server lives in `client.py`.
Field names follow KFP's v2beta1 API; enums stay strings (`"SUCCEEDED"`), times become
timezone-aware datetimes, and a field the server left out becomes None or empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


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
