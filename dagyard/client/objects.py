"""What the client returns: frozen dataclasses read from the REST API's JSON.

Only conversion from JSON belongs here; talking to the server lives in `client.py`, and
what a notebook shows of these objects in `notebook.py`. Every attribute name of the
kfp_server_api model that kfp.Client returns in the same place is here too (`run.run_id`,
`run.runtime_config.parameters`, `runs.next_page_token`), so code written against
kfp.Client reads them unchanged; the values are ours: enums stay strings
(`"SUCCEEDED"`), times are timezone-aware datetimes, an error is its message, and a field
the server left out is None or empty. Attributes KFP nests (`runtime_config`,
`run_details`, `trigger`) are also kept flat (`parameters`, `tasks`, `cron`), as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Run states after which nothing changes any more. KFP's client leaves out CANCELED.
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})


def _html(value: Any) -> str:
    from dagyard.client import notebook

    return notebook.html(value)


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    display_name: str
    description: str = ""
    namespace: str = ""
    storage_state: str = ""
    created_at: datetime | None = None
    last_run_created_at: datetime | None = None
    # The experiment's page in the web UI.
    url: str | None = field(default=None, compare=False)

    def _repr_html_(self) -> str:
        return _html(self)


@dataclass(frozen=True)
class Pipeline:
    pipeline_id: str
    display_name: str
    name: str = ""
    description: str = ""
    namespace: str = ""
    created_at: datetime | None = None
    error: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    url: str | None = field(default=None, compare=False)

    def _repr_html_(self) -> str:
        return _html(self)


@dataclass(frozen=True)
class PipelineVersion:
    pipeline_id: str
    pipeline_version_id: str
    display_name: str
    name: str = ""
    description: str = ""
    created_at: datetime | None = None
    package_url: str | None = None
    code_source_url: str | None = None
    # The compiled IR; only when one version is read, not in lists.
    pipeline_spec: dict[str, Any] | None = field(default=None, repr=False)
    error: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    url: str | None = field(default=None, compare=False)

    def _repr_html_(self) -> str:
        return _html(self)


@dataclass(frozen=True)
class RuntimeConfig:
    """A run's arguments (KFP's `runtime_config`)."""

    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_root: str | None = None


@dataclass(frozen=True)
class PipelineVersionReference:
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None


@dataclass(frozen=True)
class RuntimeStatus:
    """One entry of a run's or task's state history."""

    state: str
    update_time: datetime | None = None
    error: str | None = None


class _RunsAPipeline:
    """KFP's nested views of what a run or recurring run runs, and with which arguments."""

    parameters: dict[str, Any]
    pipeline_root: str | None
    pipeline_id: str | None
    pipeline_version_id: str | None

    @property
    def runtime_config(self) -> RuntimeConfig:
        return RuntimeConfig(parameters=self.parameters, pipeline_root=self.pipeline_root)

    @property
    def pipeline_version_reference(self) -> PipelineVersionReference | None:
        if self.pipeline_id is None and self.pipeline_version_id is None:
            return None
        return PipelineVersionReference(self.pipeline_id, self.pipeline_version_id)


@dataclass(frozen=True)
class Task:
    """One task of a run, as in the run's `run_details.task_details` (KFP's
    PipelineTaskDetail, less what only Kubernetes and ML Metadata know)."""

    task_id: str
    display_name: str
    state: str
    parent_task_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None
    run_id: str = ""
    create_time: datetime | None = None
    child_tasks: tuple[str, ...] = ()
    state_history: tuple[RuntimeStatus, ...] = ()
    # Always None here: KFP fills them from Kubernetes and ML Metadata.
    executor_detail: None = None
    execution_id: None = None
    inputs: None = None
    outputs: None = None
    pod_name: None = None


@dataclass(frozen=True)
class RunDetails:
    task_details: tuple[Task, ...] = ()
    # KFP's ML Metadata contexts; Dagyard has none.
    pipeline_context_id: None = None
    pipeline_run_context_id: None = None


@dataclass(frozen=True)
class Run(_RunsAPipeline):
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
    pipeline_root: str | None = None
    service_account: str = ""
    state_history: tuple[RuntimeStatus, ...] = ()
    # Beyond KFP: the pipeline's output parameters, once the run has them, and its name.
    outputs: dict[str, Any] = field(default_factory=dict)
    pipeline_name: str = ""
    # The IR it runs (with get_run; lists leave it out).
    pipeline_spec: dict[str, Any] | None = field(default=None, repr=False)
    # KFP's plugin fields; Dagyard has no plugins.
    plugins_input: None = None
    plugins_output: None = None
    # The run's page in the web UI.
    url: str | None = field(default=None, compare=False)

    @property
    def done(self) -> bool:
        """Whether the run has reached a state it will not leave (CANCELED included)."""
        return self.state in TERMINAL_STATES

    @property
    def run_details(self) -> RunDetails:
        return RunDetails(task_details=self.tasks)

    def _repr_html_(self) -> str:
        return _html(self)


@dataclass(frozen=True)
class CronSchedule:
    cron: str
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True)
class PeriodicSchedule:
    interval_second: int
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True)
class Trigger:
    """KFP's nested view of a recurring run's trigger: exactly one schedule is set."""

    cron_schedule: CronSchedule | None = None
    periodic_schedule: PeriodicSchedule | None = None


@dataclass(frozen=True)
class RecurringRun(_RunsAPipeline):
    """A recurring run (KFP's "job"): a pipeline the server runs on a cron or interval
    trigger. Exactly one of `cron` and `interval_second` is set; the trigger's
    `start_time` and `end_time` are flattened in beside them (`trigger` gives KFP's
    nested view)."""

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
    pipeline_root: str | None = None
    pipeline_spec: dict[str, Any] | None = field(default=None, repr=False)
    plugins_input: None = None

    @property
    def enabled(self) -> bool:
        return self.status == "ENABLED"

    @property
    def mode(self) -> str:
        """KFP's requested mode: "ENABLE" or "DISABLE"."""
        return "ENABLE" if self.enabled else "DISABLE"

    @property
    def trigger(self) -> Trigger:
        if self.cron is not None:
            return Trigger(cron_schedule=CronSchedule(self.cron, self.start_time, self.end_time))
        if self.interval_second is not None:
            return Trigger(
                periodic_schedule=PeriodicSchedule(
                    self.interval_second, self.start_time, self.end_time
                )
            )
        return Trigger()


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
class PipelineVersionList:
    pipeline_versions: tuple[PipelineVersion, ...]
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


@dataclass(frozen=True)
class Healthz:
    """What GET /healthz says of the server."""

    multi_user: bool = False
    pipeline_store: str = ""


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _trigger_time(value: Any) -> datetime | None:
    # A trigger's times come back as the caller wrote them (RFC 3339); the server reads
    # one without an offset as UTC, and so does this.
    moment = _time(value)
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _error(value: Any) -> str | None:
    return value.get("message") or None if isinstance(value, dict) else None


def _history(values: Any) -> tuple[RuntimeStatus, ...]:
    return tuple(
        RuntimeStatus(
            state=item.get("state", ""),
            update_time=_time(item.get("update_time")),
            error=_error(item.get("error")),
        )
        for item in values or ()
        if isinstance(item, dict)
    )


def _page(base: str | None, path: str) -> str | None:
    return f"{base}{path}" if base else None


def experiment(data: dict[str, Any], ui: str | None = None) -> Experiment:
    return Experiment(
        experiment_id=data["experiment_id"],
        display_name=data.get("display_name", ""),
        description=data.get("description", ""),
        namespace=data.get("namespace", ""),
        storage_state=data.get("storage_state", ""),
        created_at=_time(data.get("created_at")),
        last_run_created_at=_time(data.get("last_run_created_at")),
        url=_page(ui, f"/experiments/{data['experiment_id']}"),
    )


def pipeline(data: dict[str, Any], ui: str | None = None) -> Pipeline:
    return Pipeline(
        pipeline_id=data["pipeline_id"],
        display_name=data.get("display_name") or data.get("name", ""),
        name=data.get("name", ""),
        description=data.get("description", ""),
        namespace=data.get("namespace", ""),
        created_at=_time(data.get("created_at")),
        error=_error(data.get("error")),
        tags=dict(data.get("tags") or {}),
        url=_page(ui, f"/pipelines/{data['pipeline_id']}"),
    )


def pipeline_version(data: dict[str, Any], ui: str | None = None) -> PipelineVersion:
    package = data.get("package_url")
    return PipelineVersion(
        pipeline_id=data["pipeline_id"],
        pipeline_version_id=data["pipeline_version_id"],
        display_name=data.get("display_name") or data.get("name", ""),
        name=data.get("name", ""),
        description=data.get("description", ""),
        created_at=_time(data.get("created_at")),
        package_url=package.get("pipeline_url") if isinstance(package, dict) else None,
        code_source_url=data.get("code_source_url"),
        pipeline_spec=data.get("pipeline_spec"),
        error=_error(data.get("error")),
        tags=dict(data.get("tags") or {}),
        url=_page(ui, f"/pipelines/{data['pipeline_id']}?version={data['pipeline_version_id']}"),
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
        run_id=data.get("run_id", ""),
        create_time=_time(data.get("create_time")),
        child_tasks=tuple(
            str(child["task_id"])
            for child in data.get("child_tasks") or ()
            if isinstance(child, dict) and child.get("task_id")
        ),
        state_history=_history(data.get("state_history")),
    )


def run(data: dict[str, Any], ui: str | None = None) -> Run:
    reference = data.get("pipeline_version_reference") or {}
    details = data.get("run_details") or {}
    config = data.get("runtime_config") or {}
    return Run(
        run_id=data["run_id"],
        display_name=data.get("display_name", ""),
        state=data.get("state", ""),
        experiment_id=data.get("experiment_id", ""),
        storage_state=data.get("storage_state", ""),
        description=data.get("description", ""),
        parameters=dict(config.get("parameters") or {}),
        pipeline_id=reference.get("pipeline_id"),
        pipeline_version_id=reference.get("pipeline_version_id") or data.get("pipeline_version_id"),
        recurring_run_id=data.get("recurring_run_id"),
        created_at=_time(data.get("created_at")),
        scheduled_at=_time(data.get("scheduled_at")),
        finished_at=_time(data.get("finished_at")),
        error=_error(data.get("error")),
        tasks=tuple(task(t) for t in details.get("task_details") or ()),
        pipeline_root=config.get("pipeline_root"),
        service_account=data.get("service_account", ""),
        state_history=_history(data.get("state_history")),
        outputs=dict(data.get("outputs") or {}),
        pipeline_name=data.get("pipeline_name", ""),
        pipeline_spec=data.get("pipeline_spec"),
        url=_page(ui, f"/runs/{data['run_id']}"),
    )


def recurring_run(data: dict[str, Any]) -> RecurringRun:
    trigger = data.get("trigger") or {}
    schedule = trigger.get("cron_schedule") or trigger.get("periodic_schedule") or {}
    interval = schedule.get("interval_second")
    reference = data.get("pipeline_version_reference") or {}
    config = data.get("runtime_config") or {}
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
        parameters=dict(config.get("parameters") or {}),
        pipeline_id=reference.get("pipeline_id"),
        pipeline_version_id=reference.get("pipeline_version_id"),
        service_account=data.get("service_account", ""),
        created_at=_time(data.get("created_at")),
        updated_at=_time(data.get("updated_at")),
        error=_error(data.get("error")),
        pipeline_root=config.get("pipeline_root"),
        pipeline_spec=data.get("pipeline_spec"),
    )
