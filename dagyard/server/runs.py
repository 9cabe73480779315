"""/runs: create (from pipeline_spec or pipeline_version_reference), list, get (with
task details), terminate, retry, archive, unarchive, delete, read an artifact."""

from __future__ import annotations

import base64

from fastapi import APIRouter

from dagyard import ir
from dagyard.errors import UsageError
from dagyard.server import models
from dagyard.server.routing import PlatformDep, QueryDep
from dagyard.service import pipelines, runs
from dagyard.service.platform import Platform

router = APIRouter(tags=["runs"])


@router.post("/runs", response_model=models.Run, response_model_exclude_none=True)
def create_run(body: models.Run, platform: PlatformDep) -> models.Run:
    document, pipeline_id, version_id = _document(platform, body)
    config = body.runtime_config or models.RuntimeConfig()
    created = runs.create_run(
        platform,
        document,
        parameters=config.parameters or {},
        experiment_id=body.experiment_id or "",
        display_name=body.display_name or "",
        description=body.description or "",
        pipeline_root=config.pipeline_root or "",
        service_account=body.service_account or "",
        pipeline_id=pipeline_id,
        pipeline_version_id=version_id,
    )
    return models.run(created)


@router.get("/runs", response_model=models.ListRunsResponse, response_model_exclude_none=True)
def list_runs(
    platform: PlatformDep,
    query: QueryDep,
    experiment_id: str | None = None,
    namespace: str | None = None,
) -> models.ListRunsResponse:
    page = runs.list_runs(platform, query, experiment_id=experiment_id or None)
    return models.ListRunsResponse(
        runs=[models.run(r) for r in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get("/runs/{run_id}", response_model=models.Run, response_model_exclude_none=True)
def get_run(run_id: str, platform: PlatformDep) -> models.Run:
    run, tasks = runs.get_run(platform, run_id)
    return models.run(run, tasks)


@router.delete("/runs/{run_id}")
def delete_run(run_id: str, platform: PlatformDep) -> dict[str, str]:
    runs.delete_run(platform, run_id)
    return {}


@router.post("/runs/{run_id}:terminate")
def terminate_run(run_id: str, platform: PlatformDep) -> dict[str, str]:
    runs.terminate_run(platform, run_id)
    return {}


@router.post("/runs/{run_id}:retry")
def retry_run(run_id: str, platform: PlatformDep) -> dict[str, str]:
    runs.reset_for_retry(platform, run_id)
    return {}


@router.post("/runs/{run_id}:archive")
def archive_run(run_id: str, platform: PlatformDep) -> dict[str, str]:
    runs.archive_run(platform, run_id)
    return {}


@router.post("/runs/{run_id}:unarchive")
def unarchive_run(run_id: str, platform: PlatformDep) -> dict[str, str]:
    runs.unarchive_run(platform, run_id)
    return {}


@router.get(
    "/runs/{run_id}/nodes/{node_id}/artifacts/{artifact_name}:read",
    response_model=models.ReadArtifactResponse,
    response_model_exclude_none=True,
)
def read_artifact(
    run_id: str, node_id: str, artifact_name: str, platform: PlatformDep
) -> models.ReadArtifactResponse:
    data = runs.read_artifact(platform, run_id, node_id, artifact_name)
    return models.ReadArtifactResponse(data=base64.b64encode(data).decode("ascii"))


def _document(
    platform: Platform, body: models.Run
) -> tuple[ir.PipelineDocument, str | None, str | None]:
    reference = body.pipeline_version_reference
    version_id = (reference.pipeline_version_id if reference else None) or body.pipeline_version_id
    if body.pipeline_spec is not None:
        if reference is not None or version_id:
            raise UsageError("Give either pipeline_spec or pipeline_version_reference, not both.")
        return pipelines.spec_document(body.pipeline_spec), None, None
    if reference is None and not version_id:
        raise UsageError(
            "The run has neither pipeline_spec nor pipeline_version_reference; give one."
        )
    pipeline_id = reference.pipeline_id if reference else None
    if version_id and pipeline_id:
        version = pipelines.get_version(platform, pipeline_id, version_id)
    elif version_id:
        version = platform.store.get_pipeline_version(version_id)
    elif pipeline_id:
        version = pipelines.latest_version(platform, pipeline_id)
    else:
        raise UsageError("pipeline_version_reference needs a pipeline_id.")
    document = pipelines.spec_document(version.pipeline_spec, version.platform_spec)
    return document, version.pipeline_id, version.pipeline_version_id
