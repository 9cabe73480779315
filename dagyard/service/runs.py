"""Running pipelines: create (submit), drive, resume and retry runs; read why a task was
cached.

`submit_run` is the only place a run is created, whoever asks (REST, the CLI,
dagyard.local, the scheduler through `service.recurring`). Every function takes a
`Platform` and plain values, and returns stored records.

The functions the API calls take the caller's `Principal` (the admin unless given). A
run's namespace is its experiment's (`run_namespace`); a namespace token reaches its
namespace's runs only, and is told any other does not exist (NotFound, worded as the
store words an unknown id); a view token reads them but changes nothing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dagyard import ir
from dagyard.engine import termination
from dagyard.engine.commands import unknown_placeholder
from dagyard.engine.driver import DriverOptions, RunDriver
from dagyard.engine.termination import NOT_RUN_TERMINATED
from dagyard.engine.values import coerce, from_ir, parse_cli
from dagyard.errors import (
    AlreadyExists,
    LeaseLost,
    NotFound,
    RunError,
    StoreError,
    StoreFailure,
    StoreUnavailable,
    UsageError,
)
from dagyard.ir.pipeline import ArtifactDefinition, ParameterDefinition
from dagyard.service import leases, task_outline
from dagyard.service.leases import Lease
from dagyard.service.pipelines import resolve_version, spec_document
from dagyard.service.platform import Platform
from dagyard.service.task_outline import Outline
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.listing import ListQuery, Operation, Page, Predicate
from dagyard.store.records import (
    EventKind,
    Experiment,
    Run,
    RunState,
    StorageState,
    Task,
    TaskKind,
    TaskScope,
    TaskState,
)

DEFAULT_EXPERIMENT = "Default"
MAX_ARTIFACT_READ_BYTES = 32 * 1024 * 1024


def load_pipeline_spec(path: Path, function: str | None = None) -> dict[str, Any]:
    """The IR of a compiled YAML/JSON file, or of a pipeline in a .py file; with a
    PlatformSpec, the `{pipeline_spec, platform_spec}` pair (`ir.stored_form`)."""
    if not path.exists():
        raise UsageError(f"No such file: '{path}'. Give a compiled pipeline (.yaml) or a .py file.")
    if path.suffix == ".py":
        from dagyard.compiler import compile_to_dict
        from dagyard.compiler.pipeline_file import load_pipeline

        spec = compile_to_dict(load_pipeline(path, function))
        return ir.stored_form(ir.from_dict(spec))
    return ir.stored_form(ir.load(path))


def prepare_parameters(
    inputs: Mapping[str, ParameterDefinition],
    given: Mapping[str, Any],
    *,
    from_text: bool = False,
) -> dict[str, Any]:
    """The run's parameters: each given value checked (or parsed, for command-line text)
    against the pipeline's inputs (`plan.root.inputs.parameters`), defaults filled in.
    Raises RunError before anything runs."""
    unknown = sorted(set(given) - set(inputs))
    if unknown:
        known = ", ".join(sorted(inputs)) or "none"
        raise RunError(f"Unknown pipeline parameter {unknown[0]!r}; the pipeline takes: {known}.")
    values: dict[str, Any] = {}
    for name, definition in inputs.items():
        ptype = definition.type.value
        what = f"Parameter '{name}'"
        if name in given:
            raw = given[name]
            values[name] = (
                parse_cli(raw, ptype, what=what) if from_text else coerce(raw, ptype, what=what)
            )
        elif definition.has_default:
            values[name] = from_ir(definition.default, ptype)
        elif not definition.is_optional:
            raise RunError(
                f"{what} ({ptype}) is required and has no default; pass it with -p {name}=VALUE."
            )
    return values


def _refuse_required_artifacts(inputs: Mapping[str, ArtifactDefinition]) -> None:
    """RunError for a pipeline that needs an input artifact: a run is given parameters
    only (as KFP's runtime config is), so the pipeline's tasks would get no artifact."""
    for name, definition in sorted(inputs.items()):
        if not definition.is_optional:
            title = definition.type.schema_title or "system.Artifact"
            raise RunError(
                f"The pipeline takes input artifact {name!r} ({title}), which a run cannot "
                "be given (a run takes parameters only); run it as a task of a pipeline "
                f"that makes or imports {name!r} (dsl.importer), or make the input optional."
            )


def _refuse_unknown_placeholders(plan: ir.PipelinePlan) -> None:
    """RunError for a placeholder nothing resolves: its task would get its text."""
    found = unknown_placeholder(plan)
    if found is not None:
        placeholder, where = found
        raise RunError(
            f"The pipeline uses placeholder {placeholder!r} (in {where}), which Dagyard does "
            "not know, so the task would be given its text; remove it, or pass the value "
            "as a pipeline parameter instead."
        )


def experiment_for(platform: Platform, name: str, namespace: str = "") -> Experiment:
    """The experiment called `name` in `namespace`, created if missing (also when several
    requests race to create it: the loser reads the winner's)."""
    found = platform.store.find_experiment(name, namespace)
    if found is not None:
        return found
    try:
        return platform.store.create_experiment(
            Experiment(
                experiment_id=uuid.uuid4().hex,
                display_name=name,
                namespace=namespace,
                created_at=datetime.now(UTC),
            )
        )
    except AlreadyExists:
        found = platform.store.find_experiment(name, namespace)
        if found is None:
            raise
        return found


def default_run_name(stem: str, at: datetime) -> str:
    """The name of a run created without one: `<stem>-<YYYYmmdd-HHMMSS>`, where the stem is
    the pipeline's name ("pipeline" if it has none) and the time is when the run was
    created; for a scheduled run, the stem is its recurring run's name and the time its
    due time. Every creator of runs (REST, the CLI, dagyard.local, the scheduler) names
    them this way, so that the runs of one pipeline sort by name in time order."""
    return f"{stem or 'pipeline'}-{at:%Y%m%d-%H%M%S}"


def submit_run(
    platform: Platform,
    spec: ir.PipelineDocument | Mapping[str, Any] | None = None,
    *,
    pipeline_id: str | None = None,
    pipeline_version_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    from_text: bool = False,
    experiment: str = DEFAULT_EXPERIMENT,
    experiment_id: str | None = None,
    display_name: str | None = None,
    description: str = "",
    pipeline_root: str = "",
    service_account: str = "",
    cache_enabled: bool = True,
    max_cache_staleness_seconds: float | None = None,
    lease_owner: str | None = None,
    recurring_run_id: str | None = None,
    scheduled_at: datetime | None = None,
    principal: Principal = ADMIN,
    namespace: str | None = None,
) -> Run:
    """Store a new PENDING run; nothing runs yet. The one way a run is created: REST, the
    CLI, dagyard.local and the scheduler all call it.

    The pipeline is `spec` (validated IR, or a PipelineSpec dict validated here), or else
    the stored version a reference names (`pipeline_version_id`, or the latest version of
    `pipeline_id`: `pipelines.resolve_version`). The parameters are checked against the
    pipeline's inputs (parsed from command-line text with `from_text`) and completed with
    their defaults. The experiment is `experiment_id` if given, or else the one named
    `experiment`, created if missing. Without `display_name` the run is named by
    `default_run_name`. Nothing is stored if a check fails.

    `cache_enabled` False makes no task reuse earlier results; `max_cache_staleness_seconds`
    bounds the age of those reused. With `lease_owner`, the run is stored with its lease
    held by that owner, so that no run worker takes it before the caller drives it
    (`drive_run(..., owner=lease_owner)`). A scheduled run carries its `recurring_run_id`
    and due time `scheduled_at`; the store keeps that pair unique (AlreadyExists).

    `principal` must be able to change the experiment (Forbidden), which, given by id,
    it must see (NotFound, as for an unknown id); without `experiment_id` the run goes
    to the experiment named `experiment` of `namespace` (default: the caller's only
    namespace; one with several names it). A referenced
    pipeline must be one the caller sees (its namespace's or a shared one).
    """
    if experiment_id:
        chosen: Experiment | None = _writable_experiment(platform, experiment_id, principal)
    else:
        chosen = None
        principal.check_write(
            principal.default_namespace(namespace), f"the runs of experiment {experiment!r}"
        )
    if spec is not None:
        if pipeline_id or pipeline_version_id:
            raise UsageError(
                "Give a run either a pipeline spec or a pipeline version reference, not both."
            )
        document = spec if isinstance(spec, ir.PipelineDocument) else spec_document(spec)
    else:
        _check_pipeline_visible(platform, pipeline_id, pipeline_version_id, principal)
        version = resolve_version(platform, pipeline_id=pipeline_id, version_id=pipeline_version_id)
        document = spec_document(version.pipeline_spec, version.platform_spec)
        pipeline_id, pipeline_version_id = version.pipeline_id, version.pipeline_version_id
    plan = ir.plan(document)
    _refuse_required_artifacts(plan.root.inputs.artifacts)
    _refuse_unknown_placeholders(plan)
    values = prepare_parameters(plan.root.inputs.parameters, parameters or {}, from_text=from_text)
    if chosen is None:  # created only now, once every check has passed
        chosen = experiment_for(platform, experiment, principal.default_namespace(namespace))
    now = datetime.now(UTC)
    return platform.store.create_run(
        Run(
            run_id=uuid.uuid4().hex,
            display_name=display_name or default_run_name(document.name, now),
            description=description,
            pipeline_spec=ir.stored_form(document),
            experiment_id=chosen.experiment_id,
            pipeline_id=pipeline_id,
            pipeline_version_id=pipeline_version_id,
            runtime_config={
                "parameters": values,
                "pipeline_root": pipeline_root or plan.default_pipeline_root or "",
            },
            service_account=service_account,
            cache_enabled=cache_enabled,
            max_cache_staleness_seconds=max_cache_staleness_seconds,
            recurring_run_id=recurring_run_id,
            scheduled_at=scheduled_at,
            created_at=now,
            lease_owner=lease_owner,
            lease_expires_at=(
                None
                if lease_owner is None
                else now + timedelta(seconds=platform.settings.lease_seconds)
            ),
        )
    )


def run_namespace(platform: Platform, run: Run) -> str:
    """The namespace of a run: its experiment's ("", the admin's, when it has none or
    its experiment was deleted)."""
    if not run.experiment_id:
        return ""
    try:
        return platform.store.get_experiment(run.experiment_id).namespace
    except NotFound:
        return ""


def visible_run(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> Run:
    """The run, or NotFound worded as the store's for an unknown id when `principal` may
    not see it (so another namespace's run looks absent, not forbidden)."""
    run = platform.store.get_run(run_id)
    if not principal.admin and not principal.visible(run_namespace(platform, run)):
        raise NotFound(f"No run with id {run_id!r}.")
    return run


def sees_run(platform: Platform, run_id: str, *, principal: Principal) -> bool:
    """Whether the run exists and `principal` may see it."""
    try:
        visible_run(platform, run_id, principal=principal)
    except NotFound:
        return False
    return True


def _writable_run(platform: Platform, run_id: str, principal: Principal) -> Run:
    """The run, once `principal` may change it: NotFound as `visible_run`, Forbidden for
    a view token."""
    run = visible_run(platform, run_id, principal=principal)
    if not principal.admin:
        principal.check_write(run_namespace(platform, run), f"run {run_id!r}")
    return run


def _visible_experiment(platform: Platform, experiment_id: str, principal: Principal) -> Experiment:
    experiment = platform.store.get_experiment(experiment_id)
    if not principal.visible(experiment.namespace):
        raise NotFound(f"No experiment with id {experiment_id!r}.")
    return experiment


def _writable_experiment(
    platform: Platform, experiment_id: str, principal: Principal
) -> Experiment:
    experiment = _visible_experiment(platform, experiment_id, principal)
    what = f"the runs of experiment {experiment.display_name!r}"
    principal.check_write(experiment.namespace, what)
    return experiment


def _check_pipeline_visible(
    platform: Platform, pipeline_id: str | None, version_id: str | None, principal: Principal
) -> None:
    """NotFound, worded as the store's for an unknown id, when a run's pipeline reference
    names a pipeline or version `principal` cannot see (another namespace's). The
    version is looked at first, as `resolve_version` does, so that a made-up id and an
    invisible one get the same answer."""
    if principal.admin:
        return
    if version_id:
        version = platform.store.get_pipeline_version(version_id)
        owner = platform.store.get_pipeline(version.pipeline_id)
        if not principal.visible(owner.namespace, shared=True):
            raise NotFound(f"No pipeline version with id {version_id!r}.")
    if pipeline_id:
        pipeline = platform.store.get_pipeline(pipeline_id)
        if not principal.visible(pipeline.namespace, shared=True):
            raise NotFound(f"No pipeline with id {pipeline_id!r}.")


def get_run(
    platform: Platform, run_id: str, *, principal: Principal = ADMIN
) -> tuple[Run, list[Task]]:
    """A run and its tasks (in creation order)."""
    run = visible_run(platform, run_id, principal=principal)
    return run, platform.store.list_tasks(run_id)


def list_tasks(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> list[Task]:
    """Every task record of a run (leaves, sub-DAGs, loops, iterations) in creation order.
    Raises NotFound for an unknown run."""
    visible_run(platform, run_id, principal=principal)
    return platform.store.list_tasks(run_id)


def changed_tasks(
    platform: Platform,
    run_id: str,
    *,
    after: int | None,
    scope: TaskScope | None = None,
    principal: Principal = ADMIN,
) -> tuple[list[Task], int]:
    """A run's tasks written after its task revision `after` (all if None), only those
    in `scope` if given, and the revision to ask after next time
    (`MetadataStore.changed_tasks`). NotFound for an unknown run."""
    visible_run(platform, run_id, principal=principal)
    return platform.store.changed_tasks(run_id, after, scope=scope)


def outlined_tasks(
    platform: Platform, run_id: str, *, after: int | None, principal: Principal = ADMIN
) -> tuple[list[Task], int, Outline | None]:
    """`changed_tasks`, with a run of more than `Settings.task_outline_over` records cut
    down to its outline's selection (`task_outline.outline`). Returns the tasks, the
    revision to ask after next time, and the outline: `COMPLETE` for a run read whole;
    None when an outlined run has no record written after `after` (an idle poll).

    The revision of an outlined read is the run's highest, over every record: those
    left out too, so that an idle run stays idle. It skips nothing the reader needs: a
    record that enters the selection later (it fails, say) is written then, with a
    higher revision."""
    visible_run(platform, run_id, principal=principal)
    store = platform.store
    records, revision = store.task_tally(run_id)
    if records <= platform.settings.task_outline_over:
        tasks, revision = store.changed_tasks(run_id, after)
        return tasks, revision, task_outline.COMPLETE
    if after is not None and revision <= after:
        return [], after, None
    digests = store.task_digests(run_id)
    # The digests, read after the tally, are the newer word on the revision.
    revision = max([revision, *(d.revision for d in digests)])
    summary = task_outline.outline(digests)
    wanted = [d.task_id for d in summary.selected if after is None or d.revision > after]
    return store.get_tasks(wanted), revision, summary


def list_runs(
    platform: Platform,
    query: ListQuery,
    *,
    experiment_id: str | None = None,
    namespace: str | None = None,
    principal: Principal = ADMIN,
) -> Page[Run]:
    """Runs of one experiment, or of the experiments of one namespace, or all. A
    namespace token's listing is held to its namespace (`Principal.listing_namespace`),
    and an experiment it names must be one it sees (NotFound otherwise)."""
    namespace = principal.listing_namespace(namespace)
    if experiment_id and not principal.admin:
        _visible_experiment(platform, experiment_id, principal)
    return platform.store.page_runs(query, experiment_id=experiment_id, namespace=namespace)


def list_run_metric_keys(
    platform: Platform,
    query: ListQuery,
    *,
    experiment_id: str | None = None,
    namespace: str | None = None,
    principal: Principal = ADMIN,
) -> list[str]:
    """The metric keys ("<task path>/<metric>") of every run `list_runs` would list for
    the same arguments, over all its pages: the columns a runs list can offer, and
    sort by with sort_by "metric:<key>"."""
    namespace = principal.listing_namespace(namespace)
    if experiment_id and not principal.admin:
        _visible_experiment(platform, experiment_id, principal)
    return platform.store.run_metric_keys(query, experiment_id=experiment_id, namespace=namespace)


def terminate_run(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> Run:
    """Ask for a run to stop: a PENDING run is CANCELED at once, a running one becomes
    CANCELING and its worker stops its tasks. Repeating it is harmless."""
    run = _writable_run(platform, run_id, principal)
    if run.state in (RunState.CANCELING, RunState.CANCELED):
        return run
    if run.state.terminal:
        raise RunError(f"Run {run_id} is {run.state} already; only an unfinished run can stop.")
    if run.state is RunState.PENDING:  # no driver has it: nothing runs, nothing will
        return termination.end_undriven(
            platform.store,
            run_id,
            state=RunState.CANCELED,
            error=None,
            task_error=NOT_RUN_TERMINATED,
            fence=None,
        )
    return platform.store.update_run(run_id, state=RunState.CANCELING)


def archive_run(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> Run:
    """Hide a run from default listings; its records and files are kept."""
    if not principal.admin:
        _writable_run(platform, run_id, principal)
    return platform.store.update_run(run_id, storage_state=StorageState.ARCHIVED)


def unarchive_run(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> Run:
    if not principal.admin:
        _writable_run(platform, run_id, principal)
    return platform.store.update_run(run_id, storage_state=StorageState.AVAILABLE)


def delete_run(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> None:
    """Delete a finished run: its records, and its artifacts and logs in the artifact store."""
    run = _writable_run(platform, run_id, principal)
    if not run.state.terminal:
        raise RunError(
            f"Run {run_id} is {run.state}; terminate it and wait until it is CANCELED "
            "before deleting it."
        )
    platform.artifacts.delete_run(run_id)
    platform.store.delete_run(run_id)


def read_artifact(
    platform: Platform, run_id: str, task_id: str, name: str, *, principal: Principal = ADMIN
) -> bytes:
    """The bytes of output artifact `name` of task `task_id` (its id or path) of a run.
    Only files inside the artifact store can be read."""
    if not principal.admin:  # the admin is answered as ever: an unknown run has no task
        visible_run(platform, run_id, principal=principal)
    task = find_task(platform, run_id, task_id)
    outputs = [
        e
        for e in platform.store.list_events(task_id=task.task_id)
        if e.kind is EventKind.OUTPUT and e.key == name
    ]
    missing = NotFound(f"Task {task.path!r} of run {run_id!r} has no output artifact {name!r}.")
    if not outputs:
        raise missing
    artifact = platform.store.get_artifact(outputs[0].artifact_id)
    # Reused from the cache of a run the caller cannot see: that run's, not the caller's.
    if (
        not principal.admin
        and artifact.run_id != run_id
        and not sees_run(platform, artifact.run_id, principal=principal)
    ):
        raise missing
    if not platform.artifacts.is_within(artifact.uri):
        raise UsageError(
            f"Artifact {name!r} is at {artifact.uri!r}, outside the artifact store; "
            "read it from there."
        )
    try:
        if platform.artifacts.size(artifact.uri) > MAX_ARTIFACT_READ_BYTES:
            raise UsageError(
                f"Artifact {name!r} is larger than {MAX_ARTIFACT_READ_BYTES} bytes; read "
                f"it from {artifact.uri!r} instead."
            )
        return platform.artifacts.read_bytes(artifact.uri)
    except (StoreUnavailable, StoreFailure):
        raise  # the store's fault, not a missing artifact: 503 or 500, not 404
    except StoreError as e:
        raise NotFound(f"Artifact {name!r} of task {task.path!r} cannot be read: {e}") from e


def find_task(platform: Platform, run_id: str, task_ref: str) -> Task:
    """The task of a run with id, path or (if unambiguous) name `task_ref`."""
    tasks = platform.store.list_tasks(run_id)
    exact = [t for t in tasks if task_ref in (t.task_id, t.path)]
    if exact:
        return exact[0]
    named = [t for t in tasks if t.name == task_ref and t.kind is TaskKind.CONTAINER]
    if len(named) == 1:
        return named[0]
    if named:
        paths = ", ".join(t.path for t in named[:5])
        raise UsageError(
            f"Run {run_id!r} has {len(named)} tasks named {task_ref!r} ({paths}...); "
            "give the task's path."
        )
    raise NotFound(f"Run {run_id!r} has no task (node) {task_ref!r}.")


def drive_run(
    platform: Platform, run_id: str, *, lease: Lease | None = None, owner: str | None = None
) -> Run:
    """Run (or continue) a stored run in this process until it ends.

    Only the holder of the run's lease drives it. With `lease` (a run worker's), the
    caller holds it already, and driving stops early, without recording anything more,
    once the lease is lost. Without, the run's lease is claimed for the call (as `owner`,
    if given: e.g. the owner the run was submitted with), renewed while driving and
    released at the end; RunError, naming the holder, if another process holds it.
    """
    if lease is None:
        seconds = platform.settings.lease_seconds
        with leases.exclusive(platform.store, run_id, seconds=seconds, owner=owner) as held:
            return _drive(platform, run_id, held)
    return _drive(platform, run_id, lease)


def _drive(platform: Platform, run_id: str, lease: Lease) -> Run:
    settings = platform.settings
    run = platform.store.get_run(run_id)
    try:
        driver = RunDriver(
            run=run,
            store=platform.store,
            artifacts=platform.artifacts,
            executor=platform.executor,
            options=DriverOptions(
                work_root=settings.work_root,
                max_parallel=settings.max_parallel,
                cache_enabled=settings.cache_enabled,
                max_cache_staleness_seconds=settings.max_cache_staleness_seconds,
                task_log_limit=settings.task_log_limit,
                outage_seconds=settings.store_outage_seconds,
                volumes_root=settings.volumes_root,
                namespace_max_tasks=settings.namespace_max_tasks,
            ),
            stop=lease.lost,
            lease_owner=lease.owner,
        )
    except (StoreUnavailable, LeaseLost):
        raise  # the run stays unfinished, for a later driver
    except Exception as error:  # a driver cannot even start on it: a fault of ours
        with contextlib.suppress(StoreError):  # else it stays unfinished, to be tried again
            termination.end_undriven(
                platform.store,
                run_id,
                state=RunState.FAILED,
                error=termination.engine_error(error),
                task_error=termination.NOT_FINISHED_ENGINE_ERROR,
                fence=lease.owner,
            )
        raise
    return driver.drive()


def resume_run(platform: Platform, run_id: str) -> Run:
    """Continue a run whose process died: finished tasks are kept, the rest run."""
    run = platform.store.get_run(run_id)
    if run.state.terminal:
        raise RunError(
            f"Run {run_id} is {run.state}; only an unfinished run can be resumed "
            "(use `dagyard runs retry` for a failed one)."
        )
    return drive_run(platform, run_id)


def retry_run(platform: Platform, run_id: str) -> Run:
    """Re-run a failed or canceled run from the point of failure, keeping the outputs of
    every task that succeeded."""
    run = platform.store.get_run(run_id)
    if run.state not in (RunState.FAILED, RunState.CANCELED):
        raise RunError(
            f"Run {run_id} is {run.state}; only a FAILED or CANCELED run can be retried."
        )
    reset_for_retry(platform, run_id)
    return drive_run(platform, run_id)


def reset_for_retry(platform: Platform, run_id: str, *, principal: Principal = ADMIN) -> Run:
    """Make a failed or canceled run PENDING again, its failed and canceled tasks with it,
    so that a worker (or `drive_run`) continues it from the point of failure."""
    run = _writable_run(platform, run_id, principal)
    if run.state not in (RunState.FAILED, RunState.CANCELED):
        raise RunError(
            f"Run {run_id} is {run.state}; only a FAILED or CANCELED run can be retried."
        )
    tasks = platform.store.list_tasks(run_id)
    by_id = {t.task_id: t for t in tasks}
    reset: set[str] = set()
    for task in tasks:
        if task.state in (TaskState.FAILED, TaskState.CANCELED, TaskState.CANCELING) or (
            task.state == TaskState.SKIPPED and task.error
        ):
            reset.add(task.task_id)
            parent = task.parent_task_id
            while parent is not None and parent not in reset:
                reset.add(parent)
                parent = by_id[parent].parent_task_id
    for task_id in reset:
        # No `started_at`: no attempt of it is live (engine/running_time.py).
        platform.store.update_task(
            task_id, state=TaskState.PENDING, error=None, started_at=None, finished_at=None
        )
    return platform.store.update_run(run_id, state=RunState.PENDING, error=None, finished_at=None)


def why_cached(platform: Platform, run_id: str, task: str) -> Task:
    """The task (by path or name) of a run, whose `cache_reason` says why the cache was or
    was not used."""
    tasks = platform.store.list_tasks(run_id)
    matches = [t for t in tasks if t.path == task] or [t for t in tasks if t.name == task]
    if not matches:
        names = ", ".join(sorted(t.path for t in tasks if t.fingerprint)) or "none"
        raise UsageError(
            f"Run {run_id} has no task '{task}'. Tasks with a cache decision: {names}."
        )
    return matches[0]


# The shortest run id prefix looked up: shorter ones match too many runs to be useful.
MIN_RUN_ID_PREFIX = 4


def resolve_run_id(platform: Platform, ref: str) -> str:
    """The id of the run whose id is `ref`, or the only one that starts with `ref` (as
    `runs list` prints them, shortened)."""
    ref = ref.strip().lower()
    if len(ref) < MIN_RUN_ID_PREFIX:
        raise UsageError(
            f"Run id {ref!r} is too short; give at least {MIN_RUN_ID_PREFIX} characters of it."
        )
    query = ListQuery(
        predicates=(Predicate("run_id", Operation.GREATER_THAN_EQUALS, ref),),
        sort_by="run_id",
        page_size=2,
    )
    found = [r.run_id for r in platform.store.page_runs(query).records if r.run_id.startswith(ref)]
    if not found:
        raise NotFound(
            f"No run has an id that starts with {ref!r}; `dagyard runs list --local` lists "
            "this home's runs."
        )
    if len(found) > 1 and found[0] != ref:
        raise UsageError(
            f"Run id {ref!r} is ambiguous: {found[0]}, {found[1]} and maybe more start with it; "
            "give more of it."
        )
    return found[0]
