"""/pipelines and their versions: create, upload (multipart field `uploadfile`), list,
get, get by name, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from dagyard import ir
from dagyard.errors import UsageError
from dagyard.server import models
from dagyard.server.routing import PlatformDep, PrincipalDep, QueryDep
from dagyard.service import pipelines

router = APIRouter(tags=["pipelines"])

UploadDep = Annotated[UploadFile, File(description="The compiled pipeline: .yaml, .zip, .tar.gz")]


@router.post("/pipelines", response_model=models.Pipeline, response_model_exclude_none=True)
def create_pipeline(
    body: models.Pipeline, platform: PlatformDep, principal: PrincipalDep
) -> models.Pipeline:
    created = pipelines.create_pipeline(
        platform,
        name=body.name or body.display_name or "",
        display_name=body.display_name or "",
        description=body.description or "",
        namespace=body.namespace or "",
        tags=body.tags,
        principal=principal,
    )
    return models.pipeline(created)


@router.post("/pipelines/create", response_model=models.Pipeline, response_model_exclude_none=True)
def create_pipeline_and_version(
    body: models.CreatePipelineAndVersionRequest, platform: PlatformDep, principal: PrincipalDep
) -> models.Pipeline:
    document = _version_document(body.pipeline_version)
    name = body.pipeline.name or body.pipeline.display_name or document.name
    created, _version = pipelines.create_pipeline_with_version(
        platform,
        document,
        name=name,
        display_name=body.pipeline.display_name or "",
        description=body.pipeline.description or "",
        namespace=body.pipeline.namespace or "",
        version_name=body.pipeline_version.name or body.pipeline_version.display_name or "",
        code_source_url=body.pipeline_version.code_source_url or "",
        principal=principal,
    )
    return models.pipeline(created)


@router.post("/pipelines/upload", response_model=models.Pipeline, response_model_exclude_none=True)
async def upload_pipeline(
    request: Request,
    uploadfile: UploadDep,
    platform: PlatformDep,
    principal: PrincipalDep,
    name: str = "",
    display_name: str = "",
    description: str = "",
    namespace: str = "",
) -> models.Pipeline:
    filename, document = await _read_upload(request, uploadfile)
    name = name or display_name or _stem(filename)
    created, _version = pipelines.create_pipeline_with_version(
        platform,
        document,
        name=name,
        display_name=display_name,
        description=description,
        namespace=namespace,
        principal=principal,
    )
    return models.pipeline(created)


@router.post(
    "/pipelines/upload_version",
    response_model=models.PipelineVersion,
    response_model_exclude_none=True,
)
async def upload_pipeline_version(
    request: Request,
    uploadfile: UploadDep,
    platform: PlatformDep,
    principal: PrincipalDep,
    pipelineid: str = "",
    name: str = "",
    display_name: str = "",
    description: str = "",
) -> models.PipelineVersion:
    if not pipelineid:
        raise UsageError("Query parameter 'pipelineid' is missing; name the pipeline to add to.")
    _filename, document = await _read_upload(request, uploadfile)
    version = pipelines.create_version(
        platform,
        pipelineid,
        document,
        name=name or display_name,
        display_name=display_name,
        description=description,
        principal=principal,
    )
    return models.pipeline_version(version)


@router.get(
    "/pipelines", response_model=models.ListPipelinesResponse, response_model_exclude_none=True
)
def list_pipelines(
    platform: PlatformDep, principal: PrincipalDep, query: QueryDep, namespace: str | None = None
) -> models.ListPipelinesResponse:
    page = pipelines.list_pipelines(
        platform, query, namespace=namespace or None, principal=principal
    )
    return models.ListPipelinesResponse(
        pipelines=[models.pipeline(p) for p in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get(
    "/pipelines/names/{name}", response_model=models.Pipeline, response_model_exclude_none=True
)
def get_pipeline_by_name(
    name: str, platform: PlatformDep, principal: PrincipalDep, namespace: str = ""
) -> models.Pipeline:
    found = pipelines.get_pipeline_by_name(platform, name, namespace, principal=principal)
    return models.pipeline(found)


@router.get(
    "/pipelines/{pipeline_id}", response_model=models.Pipeline, response_model_exclude_none=True
)
def get_pipeline(
    pipeline_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.Pipeline:
    return models.pipeline(pipelines.get_pipeline(platform, pipeline_id, principal=principal))


@router.patch(
    "/pipelines/{pipeline_id}", response_model=models.Pipeline, response_model_exclude_none=True
)
def update_pipeline(
    pipeline_id: str, body: models.Pipeline, platform: PlatformDep, principal: PrincipalDep
) -> models.Pipeline:
    """Change a pipeline's name, display_name, description or tags (the fields given)."""
    changes = body.model_dump(exclude_unset=True, exclude={"error"})
    updated = pipelines.update_pipeline(platform, pipeline_id, changes, principal=principal)
    return models.pipeline(updated)


@router.delete("/pipelines/{pipeline_id}")
def delete_pipeline(
    pipeline_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    pipelines.delete_pipeline(platform, pipeline_id, principal=principal)
    return {}


@router.post(
    "/pipelines/{pipeline_id}/versions",
    response_model=models.PipelineVersion,
    response_model_exclude_none=True,
)
def create_pipeline_version(
    pipeline_id: str, body: models.PipelineVersion, platform: PlatformDep, principal: PrincipalDep
) -> models.PipelineVersion:
    document = _version_document(body)
    version = pipelines.create_version(
        platform,
        pipeline_id,
        document,
        name=body.name or body.display_name or "",
        display_name=body.display_name or "",
        description=body.description or "",
        code_source_url=body.code_source_url or "",
        principal=principal,
    )
    return models.pipeline_version(version)


@router.get(
    "/pipelines/{pipeline_id}/versions",
    response_model=models.ListPipelineVersionsResponse,
    response_model_exclude_none=True,
)
def list_pipeline_versions(
    pipeline_id: str, platform: PlatformDep, principal: PrincipalDep, query: QueryDep
) -> models.ListPipelineVersionsResponse:
    page = pipelines.list_versions(platform, pipeline_id, query, principal=principal)
    return models.ListPipelineVersionsResponse(
        pipeline_versions=[models.pipeline_version(v) for v in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get(
    "/pipelines/{pipeline_id}/versions/{pipeline_version_id}",
    response_model=models.PipelineVersion,
    response_model_exclude_none=True,
)
def get_pipeline_version(
    pipeline_id: str, pipeline_version_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.PipelineVersion:
    version = pipelines.resolve_version(
        platform, pipeline_id=pipeline_id, version_id=pipeline_version_id, principal=principal
    )
    return models.pipeline_version(version)


@router.patch(
    "/pipelines/{pipeline_id}/versions/{pipeline_version_id}",
    response_model=models.PipelineVersion,
    response_model_exclude_none=True,
)
def update_pipeline_version(
    pipeline_id: str,
    pipeline_version_id: str,
    body: models.PipelineVersion,
    platform: PlatformDep,
    principal: PrincipalDep,
) -> models.PipelineVersion:
    """Change a version's name, display_name, description or code_source_url."""
    changes = body.model_dump(exclude_unset=True, exclude={"error", "package_url"})
    if "pipeline_spec" in changes:
        raise UsageError("A version's pipeline_spec cannot change; create a new version.")
    updated = pipelines.update_version(
        platform, pipeline_id, pipeline_version_id, changes, principal=principal
    )
    return models.pipeline_version(updated)


@router.delete("/pipelines/{pipeline_id}/versions/{pipeline_version_id}")
def delete_pipeline_version(
    pipeline_id: str, pipeline_version_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    pipelines.delete_version(platform, pipeline_id, pipeline_version_id, principal=principal)
    return {}


def _version_document(version: models.PipelineVersion) -> ir.PipelineDocument:
    url = version.package_url.pipeline_url if version.package_url is not None else None
    if version.pipeline_spec is not None and url:
        raise UsageError("Give a pipeline version either pipeline_spec or package_url, not both.")
    if url:
        return pipelines.fetch_package(url)
    if version.pipeline_spec is None:
        raise UsageError(
            "The pipeline version has neither pipeline_spec nor package_url; send the "
            "compiled IR or a URL to fetch it from."
        )
    return pipelines.spec_document(version.pipeline_spec)


async def _read_upload(request: Request, upload: UploadFile) -> tuple[str, ir.PipelineDocument]:
    filename = upload.filename or "pipeline.yaml"
    data = await upload.read(pipelines.MAX_PACKAGE_BYTES + 1)
    return filename, pipelines.read_package(filename, data)


def _stem(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    for suffix in pipelines.PACKAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
