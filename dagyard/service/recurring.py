"""Recurring runs: create, get, list, enable, disable and delete them.

The trigger, time zone, pipeline and parameters are checked when a recurring run is
created, so a bad one is refused with a message (UsageError, RunError) instead of
failing later in the scheduler. Turning due times into runs is `dagyard.scheduler`'s,
which sits below this layer: `scheduler_for` builds it with `create_scheduled_run`, the
run creation it calls for each due time (`runs.submit_run`, as for any other run).

A recurring run lives in its experiment's namespace (its `namespace` field, set from the
experiment when it is created). Each function takes the caller's `Principal` (the admin
unless given): a namespace token reaches its namespace's recurring runs only, and is
told any other does not exist (NotFound, worded as the store words an unknown id).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagyard import ir
from dagyard.errors import NotFound, UsageError
from dagyard.scheduler.loop import Clock, Scheduler, utc_now
from dagyard.scheduler.triggers import Trigger
from dagyard.service.experiments import get_experiment
from dagyard.service.pipelines import resolve_version, spec_document
from dagyard.service.platform import Platform
from dagyard.service.runs import (
    DEFAULT_EXPERIMENT,
    default_run_name,
    experiment_for,
    prepare_parameters,
    submit_run,
)
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.listing import ListQuery, Page
from dagyard.store.records import RecurringRun, Run

# KFP's API server refuses max_concurrency outside 1..10.
MAX_CONCURRENCY = 10
MAX_PREVIEW_TIMES = 50


def create_recurring_run(
    platform: Platform,
    *,
    display_name: str,
    trigger: Mapping[str, Any],
    pipeline_spec: dict[str, Any] | None = None,
    pipeline_version_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    pipeline_root: str = "",
    experiment_id: str | None = None,
    description: str = "",
    service_account: str = "",
    max_concurrency: int = 1,
    no_catchup: bool = False,
    enabled: bool = True,
    timezone: str = "UTC",
    namespace: str = "",
    principal: Principal = ADMIN,
) -> RecurringRun:
    """Store a recurring run of `pipeline_spec`, or of a stored pipeline version.

    `trigger` is KFP's: {"cron_schedule": {"cron", "start_time", "end_time"}} or
    {"periodic_schedule": {"interval_second", "start_time", "end_time"}}. The experiment
    defaults to "Default" of `namespace` (none named: the caller's). Raises
    UsageError/RunError, naming the bad value, NotFound for an experiment or pipeline
    version the caller cannot see, Forbidden when the caller may not create in the
    experiment's namespace; and stores nothing then.
    """
    if not display_name.strip():
        raise UsageError("A recurring run needs a display_name; give it one.")
    Trigger.parse(trigger, timezone)
    if (pipeline_spec is None) == (pipeline_version_id is None):
        raise UsageError(
            "Give a recurring run exactly one of pipeline_spec or pipeline_version_id "
            "(KFP's pipeline_version_reference)."
        )
    pipeline_id = None
    if pipeline_version_id is not None:
        version = resolve_version(platform, version_id=pipeline_version_id, principal=principal)
        pipeline_spec, pipeline_id = version.pipeline_spec, version.pipeline_id
    assert pipeline_spec is not None
    if isinstance(max_concurrency, bool) or not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise UsageError(
            f"max_concurrency is {max_concurrency!r}; give a whole number from 1 to "
            f"{MAX_CONCURRENCY}."
        )
    inputs = ir.plan(spec_document(pipeline_spec)).root.inputs.parameters
    values = prepare_parameters(inputs, parameters or {})
    what = f"recurring run {display_name!r}"
    if experiment_id is None:
        namespace = principal.default_namespace(namespace)
        principal.check_write(namespace, what)  # before the Default experiment is made
        experiment = experiment_for(platform, DEFAULT_EXPERIMENT, namespace)
    else:
        experiment = get_experiment(platform, experiment_id, principal=principal)
        principal.check_write(experiment.namespace, what)
    if namespace and namespace != experiment.namespace:
        raise UsageError(
            f"Experiment {experiment.display_name!r} is in namespace "
            f"{experiment.namespace!r}, not {namespace!r}; a recurring run lives in the "
            "namespace of its experiment."
        )
    namespace = experiment.namespace
    experiment_id = experiment.experiment_id
    now = datetime.now(UTC)
    return platform.store.create_recurring_run(
        RecurringRun(
            recurring_run_id=uuid.uuid4().hex,
            display_name=display_name,
            # A version's spec is read when each run is created, so it is not copied here.
            pipeline_spec=pipeline_spec if pipeline_version_id is None else None,
            pipeline_id=pipeline_id,
            pipeline_version_id=pipeline_version_id,
            description=description,
            runtime_config={"parameters": values, "pipeline_root": pipeline_root},
            service_account=service_account,
            max_concurrency=max_concurrency,
            trigger=dict(trigger),
            timezone=timezone,
            enabled=enabled,
            no_catchup=no_catchup,
            experiment_id=experiment_id,
            namespace=namespace,
            created_at=now,
            updated_at=now,
        )
    )


def create_scheduled_run(platform: Platform, recurring: RecurringRun, at: datetime) -> Run:
    """Store the PENDING run of `recurring` for its due time `at`, with its pipeline (the
    version's spec as it is now), parameters, pipeline root and experiment, named after the
    recurring run and `at`. AlreadyExists if that due time has its run already. The
    scheduler calls this for each due time (see `scheduler_for`)."""
    if recurring.pipeline_spec is None and recurring.pipeline_version_id is None:
        raise UsageError(
            f"Recurring run {recurring.recurring_run_id} has neither a pipeline_spec nor a "
            "pipeline version; delete it and create it again with one."
        )
    config = recurring.runtime_config
    return submit_run(
        platform,
        recurring.pipeline_spec,
        pipeline_version_id=recurring.pipeline_version_id,
        parameters=config.get("parameters") or {},
        experiment_id=recurring.experiment_id,
        display_name=default_run_name(recurring.display_name, at),
        pipeline_root=config.get("pipeline_root") or "",
        service_account=recurring.service_account,
        recurring_run_id=recurring.recurring_run_id,
        scheduled_at=at,
    )


def scheduler_for(platform: Platform, *, clock: Clock = utc_now, period: float = 1.0) -> Scheduler:
    """The scheduler of the recurring runs in `platform`'s store, creating their runs with
    `create_scheduled_run`: the composition of the two layers, done here because the
    scheduler must not import the service layer."""
    return Scheduler(
        platform.store,
        create_run=functools.partial(create_scheduled_run, platform),
        clock=clock,
        period=period,
    )


def preview_fire_times(
    trigger: Mapping[str, Any],
    timezone: str = "UTC",
    *,
    count: int = 5,
    now: datetime | None = None,
) -> list[datetime]:
    """The next `count` due times after `now` of a trigger, as a recurring run created
    now would have them. UsageError, as creating one gives, for a bad trigger or zone."""
    if isinstance(count, bool) or not 1 <= count <= MAX_PREVIEW_TIMES:
        raise UsageError(f"count is {count!r}; preview 1 to {MAX_PREVIEW_TIMES} due times.")
    parsed = Trigger.parse(trigger, timezone)
    now = now or datetime.now(UTC)
    return _fire_times(parsed, after=now, anchor=now, count=count)


def next_fire_time(recurring: RecurringRun, *, now: datetime | None = None) -> datetime | None:
    """When the scheduler next creates a run of `recurring`, at the earliest: its first
    due time after now (and after the due times it has run). None when it is disabled,
    has no due time left, or its stored trigger cannot be read."""
    if not recurring.enabled:
        return None
    now = now or datetime.now(UTC)
    try:
        trigger = Trigger.parse(recurring.trigger, recurring.timezone)
    except UsageError:
        return None
    after = max(now, recurring.scheduled_until or now)
    times = _fire_times(trigger, after=after, anchor=recurring.created_at or now, count=1)
    return times[0] if times else None


def _fire_times(
    trigger: Trigger, *, after: datetime, anchor: datetime, count: int
) -> list[datetime]:
    found: list[datetime] = []
    try:
        for due in trigger.times_after(after, anchor=anchor):
            found.append(due)
            if len(found) == count:
                break
    except (OverflowError, ValueError):  # the calendar ends (year 9999) before `count`
        pass
    return found


def get_recurring_run(
    platform: Platform, recurring_run_id: str, *, principal: Principal = ADMIN
) -> RecurringRun:
    """Raises NotFound, also (worded the same) when the caller may not see it."""
    recurring = platform.store.get_recurring_run(recurring_run_id)
    if not principal.visible(recurring.namespace):
        raise NotFound(f"No recurring run with id {recurring_run_id!r}.")
    return recurring


def list_recurring_runs(platform: Platform) -> list[RecurringRun]:
    return platform.store.list_recurring_runs()


def page_recurring_runs(
    platform: Platform,
    query: ListQuery,
    *,
    experiment_id: str | None = None,
    namespace: str | None = None,
    principal: Principal = ADMIN,
) -> Page[RecurringRun]:
    namespace = principal.listing_namespace(namespace)
    return platform.store.page_recurring_runs(
        query, experiment_id=experiment_id, namespace=namespace
    )


def enable_recurring_run(
    platform: Platform,
    recurring_run_id: str,
    *,
    now: datetime | None = None,
    principal: Principal = ADMIN,
) -> RecurringRun:
    """Start scheduling again. Due times that passed while it was disabled are not
    caught up: scheduling resumes from `now` (the current time unless given)."""
    recurring = _writable(platform, recurring_run_id, principal)
    if recurring.enabled:
        return recurring
    now = now or datetime.now(UTC)
    until = max(recurring.scheduled_until or now, now)
    return platform.store.update_recurring_run(
        recurring_run_id, enabled=True, scheduled_until=until
    )


def disable_recurring_run(
    platform: Platform, recurring_run_id: str, *, principal: Principal = ADMIN
) -> RecurringRun:
    """Stop scheduling; runs already created go on."""
    recurring = _writable(platform, recurring_run_id, principal)
    if not recurring.enabled:
        return recurring
    return platform.store.update_recurring_run(recurring_run_id, enabled=False)


def delete_recurring_run(
    platform: Platform, recurring_run_id: str, *, principal: Principal = ADMIN
) -> None:
    """Delete the recurring run; its runs are kept. Raises NotFound."""
    _writable(platform, recurring_run_id, principal)
    platform.store.delete_recurring_run(recurring_run_id)


def _writable(platform: Platform, recurring_run_id: str, principal: Principal) -> RecurringRun:
    recurring = get_recurring_run(platform, recurring_run_id, principal=principal)
    principal.check_write(recurring.namespace, f"recurring run {recurring.display_name!r}")
    return recurring
