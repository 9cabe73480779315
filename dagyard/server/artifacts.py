"""Dagyard's artifact routes for the UI (KFP keeps artifacts in ML Metadata, which has no
REST API of its own): a run's artifacts with their lineage, all artifacts page by page,
one artifact, its bytes, and the scalar metrics of runs. The work is in
`dagyard.service.artifacts`; only parsing and formatting belong here. Every route is
held to its caller (`PrincipalDep`): an artifact is seen by those who see its run.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dagyard.server import models
from dagyard.server.routing import PlatformDep, PrincipalDep, QueryDep
from dagyard.service import artifacts
from dagyard.service.runs import MAX_ARTIFACT_READ_BYTES

router = APIRouter(tags=["artifacts"])

# An artifact's bytes are whatever a task wrote: an HTML report opened straight from the
# API must not run scripts in the API's (and the UI's) origin, nor be sniffed into HTML.
_CONTENT_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


@router.get("/runs:metrics", response_model=models.RunMetrics, response_model_exclude_none=True)
def run_metrics(
    platform: PlatformDep,
    principal: PrincipalDep,
    run_ids: Annotated[
        list[str] | None, Query(description="repeat for each run, at most 200")
    ] = None,
) -> models.RunMetrics:
    """The scalar metrics (system.Metrics artifacts) of runs, "<task path>/<metric>" keyed."""
    return models.RunMetrics(
        metrics=artifacts.run_metrics(platform, run_ids or [], principal=principal)
    )


@router.get(
    "/runs/{run_id}/artifacts",
    response_model=models.RunArtifactsResponse,
    response_model_exclude_none=True,
)
def list_run_artifacts(
    run_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.RunArtifactsResponse:
    """Every artifact of a run (those reused from the cache too), with producer and consumers."""
    found = artifacts.run_artifacts(platform, run_id, principal=principal)
    return models.RunArtifactsResponse(artifacts=[models.artifact(a) for a in found])


@router.get(
    "/artifacts", response_model=models.ListArtifactsResponse, response_model_exclude_none=True
)
def list_artifacts(
    platform: PlatformDep,
    principal: PrincipalDep,
    query: QueryDep,
    run_id: str | None = None,
    schema_title: str | None = None,
    namespace: str | None = None,
) -> models.ListArtifactsResponse:
    page = artifacts.page_artifacts(
        platform,
        query,
        run_id=run_id or None,
        schema_title=schema_title or None,
        principal=principal,
        namespace=namespace or None,
    )
    return models.ListArtifactsResponse(
        artifacts=[models.artifact(a) for a in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


# Before /artifacts/{artifact_id}, whose id would otherwise swallow ":content".
@router.get(
    "/artifacts/{artifact_id}:content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def read_artifact_content(
    artifact_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    offset: Annotated[int, Query(description="the byte to read from")] = 0,
    limit: Annotated[int, Query(description="the most bytes to return")] = MAX_ARTIFACT_READ_BYTES,
    download: Annotated[bool, Query(description="ask the browser to save it")] = False,
) -> Response:
    """The bytes of a file artifact in the artifact store (a piece, with offset and limit)."""
    content = artifacts.read_content(
        platform, artifact_id, offset=offset, limit=limit, principal=principal
    )
    headers = {**_CONTENT_HEADERS, "X-Artifact-Size": str(content.size)}
    if download:
        headers["Content-Disposition"] = _attachment(content.file_name)
    return Response(content=content.data, media_type=content.media_type, headers=headers)


@router.get(
    "/artifacts/{artifact_id}", response_model=models.Artifact, response_model_exclude_none=True
)
def get_artifact(
    artifact_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.Artifact:
    return models.artifact(artifacts.get_artifact(platform, artifact_id, principal=principal))


def _attachment(file_name: str) -> str:
    # A plain ASCII name for old clients, the exact UTF-8 name (RFC 6266) for the rest.
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"
