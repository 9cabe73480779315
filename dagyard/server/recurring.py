"""/recurringruns: create, list, get, enable, disable, delete; and (Dagyard's own) preview
the due times of a trigger.

Checking triggers, time zones and pipelines is `dagyard.service.recurring`'s; creating
runs when they fall due is `dagyard.scheduler`'s. Only parsing and formatting belong here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dagyard.errors import UsageError
from dagyard.server import models
from dagyard.server.routing import PlatformDep, PrincipalDep, QueryDep
from dagyard.service import pipelines, recurring
from dagyard.service.platform import Platform
from dagyard.service.tenancy import Principal
from dagyard.store.records import RecurringRun

router = APIRouter(tags=["recurring runs"])


@router.post("/recurringruns", response_model=models.RecurringRun, response_model_exclude_none=True)
def create_recurring_run(
    body: models.RecurringRun, platform: PlatformDep, principal: PrincipalDep
) -> models.RecurringRun:
    spec, version_id = _pipeline(platform, body, principal)
    config = body.runtime_config or models.RuntimeConfig()
    trigger = body.trigger.model_dump(exclude_none=True) if body.trigger else {}
    try:
        created = recurring.create_recurring_run(
            platform,
            display_name=body.display_name or "",
            trigger=trigger,
            pipeline_spec=spec,
            pipeline_version_id=version_id,
            parameters=config.parameters or {},
            pipeline_root=config.pipeline_root or "",
            experiment_id=body.experiment_id or None,
            description=body.description or "",
            service_account=body.service_account or "",
            max_concurrency=1 if body.max_concurrency is None else body.max_concurrency,
            no_catchup=bool(body.no_catchup),
            enabled=body.mode != "DISABLE",
            timezone=body.timezone or "UTC",
            namespace=body.namespace or "",
            principal=principal,
        )
    except OverflowError as error:  # a start or end time at the edge of the calendar
        raise UsageError(
            f"A trigger time is out of range ({error}); use a time between years 1 and 9999."
        ) from error
    return _recurring_run(created)


@router.post(
    "/recurringruns:preview",
    response_model=models.PreviewFireTimesResponse,
    response_model_exclude_none=True,
)
def preview_fire_times(
    body: models.PreviewFireTimesRequest,
) -> models.PreviewFireTimesResponse:
    """The next `count` due times (default 5, at most 50) of a trigger from now."""
    trigger = body.trigger.model_dump(exclude_none=True) if body.trigger else {}
    times = recurring.preview_fire_times(
        trigger, body.timezone or "UTC", count=5 if body.count is None else body.count
    )
    return models.PreviewFireTimesResponse(fire_times=times)


@router.get(
    "/recurringruns",
    response_model=models.ListRecurringRunsResponse,
    response_model_exclude_none=True,
)
def list_recurring_runs(
    platform: PlatformDep,
    principal: PrincipalDep,
    query: QueryDep,
    experiment_id: str | None = None,
    namespace: str | None = None,
) -> models.ListRecurringRunsResponse:
    page = recurring.page_recurring_runs(
        platform,
        query,
        experiment_id=experiment_id or None,
        namespace=namespace or None,
        principal=principal,
    )
    return models.ListRecurringRunsResponse(
        recurring_runs=[_recurring_run(r) for r in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get(
    "/recurringruns/{recurring_run_id}",
    response_model=models.RecurringRun,
    response_model_exclude_none=True,
)
def get_recurring_run(
    recurring_run_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.RecurringRun:
    found = recurring.get_recurring_run(platform, recurring_run_id, principal=principal)
    return _recurring_run(found)


@router.post("/recurringruns/{recurring_run_id}:enable")
def enable_recurring_run(
    recurring_run_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    recurring.enable_recurring_run(platform, recurring_run_id, principal=principal)
    return {}


@router.post("/recurringruns/{recurring_run_id}:disable")
def disable_recurring_run(
    recurring_run_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    recurring.disable_recurring_run(platform, recurring_run_id, principal=principal)
    return {}


@router.delete("/recurringruns/{recurring_run_id}")
def delete_recurring_run(
    recurring_run_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    recurring.delete_recurring_run(platform, recurring_run_id, principal=principal)
    return {}


def _recurring_run(record: RecurringRun) -> models.RecurringRun:
    return models.recurring_run(record, next_fire_time=recurring.next_fire_time(record))


def _pipeline(
    platform: Platform, body: models.RecurringRun, principal: Principal
) -> tuple[dict[str, Any] | None, str | None]:
    """(pipeline_spec, None) or (None, pipeline_version_id) of the body."""
    reference = body.pipeline_version_reference
    if body.pipeline_spec is not None:
        if reference is not None:
            raise UsageError("Give either pipeline_spec or pipeline_version_reference, not both.")
        spec = body.pipeline_spec
        pipelines.spec_document(spec)  # refuse a malformed spec now, not at each due time
        if "pipeline_spec" in spec and "root" not in spec:  # kfp.Client's pair
            if spec.get("platform_spec"):
                raise UsageError(
                    "A recurring run of a pipeline_spec with a platform_spec is not "
                    "supported yet; upload the pipeline and give pipeline_version_reference."
                )
            spec = spec["pipeline_spec"]
        return spec, None
    if reference is None or not (reference.pipeline_id or reference.pipeline_version_id):
        raise UsageError(
            "The recurring run has neither pipeline_spec nor pipeline_version_reference; give one."
        )
    version = pipelines.resolve_version(
        platform,
        pipeline_id=reference.pipeline_id,
        version_id=reference.pipeline_version_id,
        principal=principal,
    )
    return None, version.pipeline_version_id
