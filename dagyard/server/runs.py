"""/runs: create (from pipeline_spec or pipeline_version_reference), list, get (with
task details), list tasks, terminate, retry, archive, unarchive, delete, read an artifact.
Every route is held to its caller (`PrincipalDep`); the rules are `dagyard.service.runs`'s.
"""

from __future__ import annotations

import base64
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dagyard.errors import UsageError
from dagyard.server import models
from dagyard.server.routing import PlatformDep, PrincipalDep, QueryDep
from dagyard.service import logs, runs
from dagyard.store.records import Children, Subtree, TaskScope

router = APIRouter(tags=["runs"])


@router.post("/runs", response_model=models.Run, response_model_exclude_none=True)
def create_run(
    body: models.Run,
    platform: PlatformDep,
    principal: PrincipalDep,
    namespace: Annotated[
        str | None,
        Query(description="Dagyard: the namespace of the Default experiment, without one"),
    ] = None,
) -> models.Run:
    reference = body.pipeline_version_reference
    version_id = (reference.pipeline_version_id if reference else None) or body.pipeline_version_id
    if body.pipeline_spec is not None and (reference is not None or version_id):
        raise UsageError("Give either pipeline_spec or pipeline_version_reference, not both.")
    if body.pipeline_spec is None and reference is None and not version_id:
        raise UsageError(
            "The run has neither pipeline_spec nor pipeline_version_reference; give one."
        )
    config = body.runtime_config or models.RuntimeConfig()
    created = runs.submit_run(
        platform,
        body.pipeline_spec,
        pipeline_id=reference.pipeline_id if reference else None,
        pipeline_version_id=version_id,
        parameters=config.parameters or {},
        experiment_id=body.experiment_id,
        display_name=body.display_name,
        description=body.description or "",
        pipeline_root=config.pipeline_root or "",
        service_account=body.service_account or "",
        cache_enabled=body.cache_enabled is not False,
        principal=principal,
        namespace=namespace or None,
    )
    return models.run(created)


@router.get("/runs", response_model=models.ListRunsResponse, response_model_exclude_none=True)
def list_runs(
    platform: PlatformDep,
    principal: PrincipalDep,
    query: QueryDep,
    experiment_id: str | None = None,
    namespace: str | None = None,
    view: Annotated[
        Literal["FULL", "SUMMARY"],
        Query(description="Dagyard: SUMMARY leaves each run's pipeline_spec out"),
    ] = "FULL",
) -> models.ListRunsResponse:
    page = runs.list_runs(
        platform,
        query,
        experiment_id=experiment_id or None,
        namespace=namespace or None,
        principal=principal,
    )
    with_spec = view == "FULL"
    return models.ListRunsResponse(
        runs=[models.run(r, with_spec=with_spec) for r in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get("/runs:metric_keys", response_model=models.RunMetricKeys)
def list_run_metric_keys(
    platform: PlatformDep,
    principal: PrincipalDep,
    query: QueryDep,
    experiment_id: str | None = None,
    namespace: str | None = None,
) -> models.RunMetricKeys:
    """Dagyard: the metric keys of every run GET /runs lists with the same filter,
    experiment and namespace (all pages); sort runs by one with sort_by=metric:<key>."""
    keys = runs.list_run_metric_keys(
        platform,
        query,
        experiment_id=experiment_id or None,
        namespace=namespace or None,
        principal=principal,
    )
    return models.RunMetricKeys(metric_keys=keys)


@router.get("/runs/{run_id}", response_model=models.Run, response_model_exclude_none=True)
def get_run(
    run_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    task_details: Annotated[
        bool,
        Query(description="Dagyard: false leaves run_details out (tasks: /runs/{id}/tasks)"),
    ] = True,
    view: Annotated[
        Literal["FULL", "SUMMARY"],
        Query(description="Dagyard: SUMMARY leaves the pipeline_spec out"),
    ] = "FULL",
) -> models.Run:
    with_spec = view == "FULL"
    if not task_details:  # what a page polling a big run asks for: no task read at all
        visible = runs.visible_run(platform, run_id, principal=principal)
        return models.run(visible, with_spec=with_spec)
    run, tasks = runs.get_run(platform, run_id, principal=principal)
    return models.run(run, tasks, with_spec=with_spec)


@router.get(
    "/runs/{run_id}/tasks",
    response_model=models.ListTasksResponse,
    response_model_exclude_none=True,
)
def list_tasks(
    run_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    after_revision: Annotated[
        int | None,
        Query(
            ge=0,
            description="Only the tasks written after this revision (the `revision` of an "
            "earlier answer); all of them when left out",
        ),
    ] = None,
    outline: Annotated[
        bool,
        Query(
            description="A run of more than DAGYARD_TASK_OUTLINE_OVER tasks (1,000 unless "
            "set): only those outside loop iterations (and the first failed and warned ones "
            "inside), with `outline` counting the states of all"
        ),
    ] = False,
    under: Annotated[
        str | None, Query(description="Only the task at this path and every one below it")
    ] = None,
    parent: Annotated[
        str | None, Query(description="Only the tasks directly below this path")
    ] = None,
    from_index: Annotated[
        int | None,
        Query(ge=0, description="With parent: only iterations from this index on"),
    ] = None,
    to_index: Annotated[
        int | None,
        Query(ge=0, description="With parent: only iterations before this index"),
    ] = None,
) -> models.ListTasksResponse:
    """The nodes of a run's execution tree (Dagyard's own), in creation order: all of
    them, or those changed since an earlier answer's `revision`; outlined, or one part
    of the tree."""
    scope = _task_scope(outline, under, parent, from_index, to_index)
    if outline:
        found, revision, summary = runs.outlined_tasks(
            platform, run_id, after=after_revision, principal=principal
        )
        return models.ListTasksResponse(
            tasks=[models.task(t) for t in found],
            revision=revision,
            outline=None if summary is None else models.task_outline(summary),
        )
    found, revision = runs.changed_tasks(
        platform, run_id, after=after_revision, scope=scope, principal=principal
    )
    return models.ListTasksResponse(tasks=[models.task(t) for t in found], revision=revision)


def _task_scope(
    outline: bool,
    under: str | None,
    parent: str | None,
    from_index: int | None,
    to_index: int | None,
) -> TaskScope | None:
    """The part of the tree `list_tasks`'s parameters ask for; UsageError for a
    combination that means nothing."""
    if (from_index is not None or to_index is not None) and parent is None:
        raise UsageError("from_index and to_index bound a parent's iterations: give parent too.")
    if outline and (under is not None or parent is not None):
        raise UsageError("outline reads the whole run: give it without under and parent.")
    if under is not None and parent is not None:
        raise UsageError("Give under (a whole subtree) or parent (one level), not both.")
    for name, path in (("under", under), ("parent", parent)):
        if path is not None and (not path or path.startswith("/") or path.endswith("/")):
            raise UsageError(f"{name}={path!r} is not a task path; give one such as 'for-loop-2'.")
    if from_index is not None and to_index is not None and from_index > to_index:
        raise UsageError(
            f"from_index {from_index} is past to_index {to_index}; give from_index <= to_index."
        )
    if under is not None:
        return Subtree(under)
    if parent is not None:
        return Children(parent, from_index, to_index)
    return None


@router.delete("/runs/{run_id}")
def delete_run(run_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    runs.delete_run(platform, run_id, principal=principal)
    return {}


@router.post("/runs/{run_id}:terminate")
def terminate_run(run_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    runs.terminate_run(platform, run_id, principal=principal)
    return {}


@router.post("/runs/{run_id}:retry")
def retry_run(run_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    runs.reset_for_retry(platform, run_id, principal=principal)
    return {}


@router.post("/runs/{run_id}:archive")
def archive_run(run_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    runs.archive_run(platform, run_id, principal=principal)
    return {}


@router.post("/runs/{run_id}:unarchive")
def unarchive_run(run_id: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    runs.unarchive_run(platform, run_id, principal=principal)
    return {}


@router.get(
    "/runs/{run_id}/nodes/{node_id:path}/artifacts/{artifact_name}:read",
    response_model=models.ReadArtifactResponse,
    response_model_exclude_none=True,
)
def read_artifact(
    run_id: str, node_id: str, artifact_name: str, platform: PlatformDep, principal: PrincipalDep
) -> models.ReadArtifactResponse:
    data = runs.read_artifact(platform, run_id, node_id, artifact_name, principal=principal)
    return models.ReadArtifactResponse(data=base64.b64encode(data).decode("ascii"))


@router.get(
    "/runs/{run_id}/nodes/{node_id:path}/logs",
    response_model=models.TaskLog,
    response_model_exclude_none=True,
)
def read_log(
    run_id: str,
    node_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    attempt: Annotated[int | None, Query(description="1 is the first; default the latest")] = None,
    offset: Annotated[int, Query(description="the byte to read from")] = 0,
    limit: Annotated[int, Query(description="the most bytes to return")] = logs.MAX_LOG_CHUNK_BYTES,
) -> models.TaskLog:
    """A piece of the log of a task (by id, path or name), to be read on from `next_offset`."""
    chunk = logs.read_log(
        platform,
        run_id,
        node_id,
        attempt=attempt,
        offset=offset,
        limit=limit,
        principal=principal,
    )
    source = chunk.source
    return models.TaskLog(
        run_id=run_id,
        node_id=chunk.task.task_id,
        task_path=chunk.task.path,
        attempt=chunk.attempt,
        attempts=source.attempts,
        offset=chunk.offset,
        next_offset=chunk.next_offset,
        size=chunk.size,
        text=chunk.text,
        complete=chunk.complete,
        cached_from_node_id=source.task_id if source is not chunk.task else None,
    )
