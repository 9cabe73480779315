"""The JSON of KFP's v2beta1 REST API as pydantic models, and records turned into them.

Field names are KFP's snake_case proto names; enums are their names; times RFC 3339.
Like KFP (protojson with EmitUnpopulated=false), empty fields are left out: routes
serialize with `response_model_exclude_none`, and `_set` keeps empty values as None.
No behaviour beyond conversion belongs here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dagyard import ir
from dagyard.service.artifacts import Lineage, TaskUse
from dagyard.service.task_outline import Outline
from dagyard.store import records


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Status(ApiModel):
    code: int | None = None
    message: str | None = None


class Url(ApiModel):
    pipeline_url: str | None = None


class Pipeline(ApiModel):
    pipeline_id: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    namespace: str | None = None
    error: Status | None = None
    tags: dict[str, str] | None = None


class PipelineVersion(ApiModel):
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    package_url: Url | None = None
    code_source_url: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    error: Status | None = None


class CreatePipelineAndVersionRequest(ApiModel):
    pipeline: Pipeline
    pipeline_version: PipelineVersion


class Experiment(ApiModel):
    experiment_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    namespace: str | None = None
    storage_state: str | None = None
    last_run_created_at: datetime | None = None


class RuntimeConfig(ApiModel):
    parameters: dict[str, Any] | None = None
    pipeline_root: str | None = None


class PipelineVersionReference(ApiModel):
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None


class RuntimeStatus(ApiModel):
    update_time: datetime | None = None
    state: str | None = None
    error: Status | None = None


class ChildTask(ApiModel):
    task_id: str | None = None


class PipelineTaskDetail(ApiModel):
    run_id: str | None = None
    task_id: str | None = None
    display_name: str | None = None
    create_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    state: str | None = None
    error: Status | None = None
    parent_task_id: str | None = None
    child_tasks: list[ChildTask] | None = None


class RunDetails(ApiModel):
    task_details: list[PipelineTaskDetail] | None = None


class RunWarning(ApiModel):
    """What a task's settings asked for that Dagyard recorded but did not honour
    (Dagyard's own)."""

    task_id: str
    task_path: str
    message: str


class Run(ApiModel):
    experiment_id: str | None = None
    run_id: str | None = None
    display_name: str | None = None
    storage_state: str | None = None
    description: str | None = None
    pipeline_version_id: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    pipeline_version_reference: PipelineVersionReference | None = None
    runtime_config: RuntimeConfig | None = None
    service_account: str | None = None
    created_at: datetime | None = None
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    state: str | None = None
    error: Status | None = None
    run_details: RunDetails | None = None
    recurring_run_id: str | None = None
    state_history: list[RuntimeStatus] | None = None
    # Beyond KFP: false runs every task afresh (KFP's client rewrites the spec instead).
    cache_enabled: bool | None = None
    # Beyond KFP: the pipeline's output parameters, once the run has them.
    outputs: dict[str, Any] | None = None
    # Beyond KFP: the pipeline's (display) name from its spec, kept when a list leaves the
    # spec out.
    pipeline_name: str | None = None
    # Beyond KFP: its tasks' warnings (settings recorded, not honoured), given with its
    # task details.
    warnings: list[RunWarning] | None = None
    # Beyond KFP: why a PENDING run has not started (its namespace's limit on running
    # runs, DAGYARD_NAMESPACE_MAX_RUNS).
    waiting_reason: str | None = None


class ListPipelinesResponse(ApiModel):
    pipelines: list[Pipeline] | None = None
    total_size: int | None = None
    next_page_token: str | None = None


class ListPipelineVersionsResponse(ApiModel):
    pipeline_versions: list[PipelineVersion] | None = None
    total_size: int | None = None
    next_page_token: str | None = None


class ListExperimentsResponse(ApiModel):
    experiments: list[Experiment] | None = None
    total_size: int | None = None
    next_page_token: str | None = None


class ListRunsResponse(ApiModel):
    runs: list[Run] | None = None
    total_size: int | None = None
    next_page_token: str | None = None


class CronSchedule(ApiModel):
    start_time: str | None = None
    end_time: str | None = None
    cron: str | None = None


# timedelta (and so the scheduler's arithmetic) cannot go much beyond this.
MAX_INTERVAL_SECONDS = 100 * 366 * 24 * 3600


class PeriodicSchedule(ApiModel):
    start_time: str | None = None
    end_time: str | None = None
    interval_second: int | None = Field(default=None, le=MAX_INTERVAL_SECONDS)


class Trigger(ApiModel):
    cron_schedule: CronSchedule | None = None
    periodic_schedule: PeriodicSchedule | None = None


class RecurringRun(ApiModel):
    recurring_run_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    pipeline_spec: dict[str, Any] | None = None
    pipeline_version_reference: PipelineVersionReference | None = None
    runtime_config: RuntimeConfig | None = None
    service_account: str | None = None
    max_concurrency: int | None = None
    trigger: Trigger | None = None
    mode: Literal["MODE_UNSPECIFIED", "ENABLE", "DISABLE"] | None = None
    status: Literal["STATUS_UNSPECIFIED", "ENABLED", "DISABLED"] | None = None
    no_catchup: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    namespace: str | None = None
    experiment_id: str | None = None
    error: Status | None = None
    # Beyond KFP: the IANA time zone of a cron trigger's wall-clock fields.
    timezone: str | None = None
    # Beyond KFP, output only: when it fires next (left out when disabled or past its end).
    next_fire_time: datetime | None = None


class PreviewFireTimesRequest(ApiModel):
    """Dagyard's own: the due times a trigger would have, before creating a recurring run."""

    trigger: Trigger | None = None
    timezone: str | None = None
    count: int | None = None


class PreviewFireTimesResponse(ApiModel):
    fire_times: list[datetime]


class ListRecurringRunsResponse(ApiModel):
    # KFP's proto names this field `recurringRuns` (not snake_case), and kfp.Client
    # reads it under that name.
    recurring_runs: list[RecurringRun] | None = Field(
        default=None, serialization_alias="recurringRuns"
    )
    total_size: int | None = None
    next_page_token: str | None = None


class ReadArtifactResponse(ApiModel):
    data: str | None = None


class TaskLog(ApiModel):
    """A piece of a task attempt's log (Dagyard's own; KFP's API has no log endpoint).
    Read on from `next_offset` until `complete`."""

    run_id: str
    node_id: str
    task_path: str
    attempt: int
    attempts: int
    offset: int
    next_offset: int
    size: int
    text: str
    complete: bool
    cached_from_node_id: str | None = None


class Task(ApiModel):
    """One node of a run's execution tree, as the store keeps it (Dagyard's own)."""

    task_id: str
    run_id: str
    path: str
    name: str
    display_name: str | None = None
    kind: str
    parent_task_id: str | None = None
    iteration_index: int | None = None
    state: str
    attempts: int
    system_retries: int | None = None
    cache_hit: bool | None = None
    cached_from_task_id: str | None = None
    cache_reason: str | None = None
    error: str | None = None
    node: str | None = None
    created_at: datetime | None = None
    # When its latest attempt started; when its first did; how long its attempts that
    # ended ran, in all. Queued: created -> first start; waited between attempts: first
    # start -> end, less what it ran.
    started_at: datetime | None = None
    finished_at: datetime | None = None
    first_started_at: datetime | None = None
    ran_seconds: float | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    # Settings of its recorded, not honoured (kfp-kubernetes' pod labels, ...).
    warnings: list[str] | None = None


class TaskOutline(ApiModel):
    """A big run's tasks in summary (`GET /runs/{id}/tasks?outline=true`): `complete`
    when the answer holds every task; otherwise how many records were left out and the
    state counts of all records (`counts`) and of the leaves below (`leaves`), by
    pattern (a path with `*` for each loop iteration's segment), and how many records
    have warnings (`warned`: those in the answer's selection are only the first ones
    inside loop iterations)."""

    complete: bool
    left_out: int | None = None
    counts: dict[str, dict[str, int]] | None = None
    leaves: dict[str, dict[str, int]] | None = None
    warned: int | None = None


class ListTasksResponse(ApiModel):
    tasks: list[Task]
    # Ask again with after_revision=<this> for only the tasks written since.
    revision: int = 0
    outline: TaskOutline | None = None


class TaskRef(ApiModel):
    """A task that produced or consumed an artifact; `key` is the output or input name."""

    task_id: str
    run_id: str
    path: str
    key: str


class Artifact(ApiModel):
    """An artifact with its lineage (Dagyard's own; KFP keeps these in ML Metadata)."""

    artifact_id: str
    run_id: str
    name: str
    uri: str
    schema_title: str
    schema_version: str | None = None
    metadata: dict[str, Any] | None = None
    digest: str | None = None
    created_at: datetime | None = None
    producer: TaskRef | None = None
    consumers: list[TaskRef] | None = None


class RunArtifactsResponse(ApiModel):
    artifacts: list[Artifact]


class ListArtifactsResponse(ApiModel):
    artifacts: list[Artifact] | None = None
    total_size: int | None = None
    next_page_token: str | None = None


class RunMetrics(ApiModel):
    """Of each run: "<task path>/<metric name>" -> number."""

    metrics: dict[str, dict[str, float]]


class RunMetricKeys(ApiModel):
    """The metric keys of the runs of a list's scope, sorted."""

    metric_keys: list[str]


class Healthz(ApiModel):
    multi_user: bool = False
    pipeline_store: str | None = None


class ErrorBody(ApiModel):
    error: str
    code: int
    message: str


# -- records to API objects ---------------------------------------------------------
# KFP's task states are its run states; a task reused from the cache succeeded.
_TASK_STATES = {records.TaskState.CACHED: "SUCCEEDED"}
_UNKNOWN = 2  # gRPC UNKNOWN, KFP's code for a failed run's error


def _set(value: Any) -> Any:
    """None for an empty value, which is then left out of the JSON (as KFP does)."""
    return value if value not in ("", None, {}, []) else None


def _error(message: str | None) -> Status | None:
    return Status(code=_UNKNOWN, message=message) if message else None


def pipeline(record: records.Pipeline) -> Pipeline:
    return Pipeline(
        pipeline_id=record.pipeline_id,
        name=_set(record.name),
        display_name=_set(record.display_name),
        description=_set(record.description),
        created_at=record.created_at,
        namespace=_set(record.namespace),
        tags=_set(record.tags),
    )


def pipeline_version(record: records.PipelineVersion) -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=record.pipeline_id,
        pipeline_version_id=record.pipeline_version_id,
        name=_set(record.name),
        display_name=_set(record.display_name),
        description=_set(record.description),
        created_at=record.created_at,
        package_url=Url(pipeline_url=record.package_url) if record.package_url else None,
        code_source_url=_set(record.code_source_url),
        pipeline_spec=record.pipeline_spec,
    )


def experiment(record: records.Experiment) -> Experiment:
    return Experiment(
        experiment_id=record.experiment_id,
        display_name=_set(record.display_name),
        description=_set(record.description),
        created_at=record.created_at,
        namespace=_set(record.namespace),
        storage_state=str(record.storage_state),
        last_run_created_at=record.last_run_created_at,
    )


def run(
    record: records.Run, tasks: list[records.Task] | None = None, *, with_spec: bool = True
) -> Run:
    reference = None
    if record.pipeline_id or record.pipeline_version_id:
        reference = PipelineVersionReference(
            pipeline_id=record.pipeline_id, pipeline_version_id=record.pipeline_version_id
        )
    config = record.runtime_config
    return Run(
        experiment_id=record.experiment_id,
        run_id=record.run_id,
        display_name=_set(record.display_name),
        storage_state=str(record.storage_state),
        description=_set(record.description),
        pipeline_spec=record.pipeline_spec if reference is None and with_spec else None,
        pipeline_version_reference=reference,
        pipeline_name=_pipeline_name(record.pipeline_spec),
        runtime_config=RuntimeConfig(
            parameters=_set(config.get("parameters")),
            pipeline_root=_set(config.get("pipeline_root")),
        ),
        service_account=_set(record.service_account),
        created_at=record.created_at,
        scheduled_at=record.scheduled_at,
        finished_at=record.finished_at,
        state=str(record.state),
        error=_error(record.error),
        run_details=None if tasks is None else RunDetails(task_details=_tasks(tasks)),
        warnings=None if tasks is None else _warnings(tasks),
        recurring_run_id=record.recurring_run_id,
        cache_enabled=record.cache_enabled,
        outputs=record.outputs or None,
        state_history=[
            RuntimeStatus(
                update_time=entry.get("update_time"),
                state=entry.get("state"),
                error=_error(entry.get("error")),
            )
            for entry in record.state_history
        ]
        or None,
        waiting_reason=record.waiting_reason,
    )


def _warnings(tasks: list[records.Task]) -> list[RunWarning] | None:
    found = [
        RunWarning(task_id=t.task_id, task_path=t.path, message=message)
        for t in tasks
        for message in t.warnings
    ]
    return found or None


def recurring_run(
    record: records.RecurringRun, *, next_fire_time: datetime | None = None
) -> RecurringRun:
    reference = None
    if record.pipeline_version_id:
        reference = PipelineVersionReference(
            pipeline_id=record.pipeline_id, pipeline_version_id=record.pipeline_version_id
        )
    config = record.runtime_config
    return RecurringRun(
        recurring_run_id=record.recurring_run_id,
        display_name=_set(record.display_name),
        description=_set(record.description),
        pipeline_spec=record.pipeline_spec if reference is None else None,
        pipeline_version_reference=reference,
        runtime_config=RuntimeConfig(
            parameters=_set(config.get("parameters")),
            pipeline_root=_set(config.get("pipeline_root")),
        ),
        service_account=_set(record.service_account),
        max_concurrency=record.max_concurrency,
        trigger=Trigger.model_validate(record.trigger),
        status="ENABLED" if record.enabled else "DISABLED",
        no_catchup=record.no_catchup or None,
        created_at=record.created_at,
        updated_at=record.updated_at,
        namespace=_set(record.namespace),
        experiment_id=record.experiment_id,
        error=_error(record.error),
        timezone=record.timezone,
        next_fire_time=next_fire_time,
    )


def task(record: records.Task) -> Task:
    return Task(
        task_id=record.task_id,
        run_id=record.run_id,
        path=record.path,
        name=record.name,
        display_name=_set(record.display_name),
        kind=str(record.kind),
        parent_task_id=record.parent_task_id,
        iteration_index=record.iteration_index,
        state=str(record.state),
        attempts=record.attempts,
        system_retries=record.system_retries or None,
        cache_hit=record.cache_hit or None,
        cached_from_task_id=record.cached_from_task_id,
        cache_reason=_set(record.cache_reason),
        error=_set(record.error),
        node=_set(record.node),
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        first_started_at=record.first_started_at,
        ran_seconds=record.ran_seconds,
        inputs=_set(record.inputs),
        outputs=_set(record.outputs),
        warnings=_set(record.warnings),
    )


def task_outline(summary: Outline) -> TaskOutline:
    if summary.complete:
        return TaskOutline(complete=True)
    return TaskOutline(
        complete=False,
        left_out=summary.left_out,
        counts=summary.counts,
        leaves=summary.leaves,
        warned=summary.warned,
    )


def artifact(lineage: Lineage) -> Artifact:
    record = lineage.artifact
    return Artifact(
        artifact_id=record.artifact_id,
        run_id=record.run_id,
        name=record.name,
        uri=record.uri,
        schema_title=record.schema_title,
        schema_version=_set(record.schema_version),
        metadata=_set(record.metadata),
        digest=record.digest,
        created_at=record.created_at,
        producer=None if lineage.producer is None else _task_ref(lineage.producer),
        consumers=[_task_ref(use) for use in lineage.consumers] or None,
    )


def _task_ref(use: TaskUse) -> TaskRef:
    return TaskRef(
        task_id=use.task.task_id, run_id=use.task.run_id, path=use.task.path, key=use.key
    )


def _tasks(tasks: list[records.Task]) -> list[PipelineTaskDetail]:
    children: dict[str, list[ChildTask]] = {}
    for task in tasks:
        if task.parent_task_id is not None:
            children.setdefault(task.parent_task_id, []).append(ChildTask(task_id=task.task_id))
    return [
        PipelineTaskDetail(
            run_id=task.run_id,
            task_id=task.task_id,
            display_name=task.display_name or task.name,
            create_time=task.created_at,
            start_time=task.started_at,
            end_time=task.finished_at,
            state=_TASK_STATES.get(task.state, str(task.state)),
            error=_error(task.error),
            parent_task_id=task.parent_task_id,
            child_tasks=children.get(task.task_id),
        )
        for task in tasks
    ]


def _pipeline_name(spec: dict[str, Any] | None) -> str | None:
    """The display name (else the name) of a stored spec's pipeline, also inside kfp's
    {pipeline_spec, platform_spec}. Read without planning the spec: a page of runs
    names each one's pipeline."""
    if not isinstance(spec, dict):
        return None
    inner = spec.get("pipeline_spec", spec)
    if not isinstance(inner, dict):
        return None
    info = ir.pipeline_info(inner)
    for name in (info.display_name, info.name):
        if isinstance(name, str) and name:
            return name
    return None
