"""/experiments: create, list, get, archive, unarchive, delete."""

from __future__ import annotations

from fastapi import APIRouter

from dagyard.server import models
from dagyard.server.routing import PlatformDep, PrincipalDep, QueryDep
from dagyard.service import experiments

router = APIRouter(tags=["experiments"])


@router.post("/experiments", response_model=models.Experiment, response_model_exclude_none=True)
def create_experiment(
    body: models.Experiment, platform: PlatformDep, principal: PrincipalDep
) -> models.Experiment:
    created = experiments.create_experiment(
        platform,
        display_name=body.display_name or "",
        description=body.description or "",
        namespace=body.namespace or "",
        principal=principal,
    )
    return models.experiment(created)


@router.get(
    "/experiments", response_model=models.ListExperimentsResponse, response_model_exclude_none=True
)
def list_experiments(
    platform: PlatformDep, principal: PrincipalDep, query: QueryDep, namespace: str | None = None
) -> models.ListExperimentsResponse:
    page = experiments.list_experiments(
        platform, query, namespace=namespace or None, principal=principal
    )
    return models.ListExperimentsResponse(
        experiments=[models.experiment(e) for e in page.records] or None,
        total_size=page.total_size or None,
        next_page_token=page.next_page_token or None,
    )


@router.get(
    "/experiments/{experiment_id}",
    response_model=models.Experiment,
    response_model_exclude_none=True,
)
def get_experiment(
    experiment_id: str, platform: PlatformDep, principal: PrincipalDep
) -> models.Experiment:
    found = experiments.get_experiment(platform, experiment_id, principal=principal)
    return models.experiment(found)


@router.post("/experiments/{experiment_id}:archive")
def archive_experiment(
    experiment_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    experiments.archive_experiment(platform, experiment_id, principal=principal)
    return {}


@router.post("/experiments/{experiment_id}:unarchive")
def unarchive_experiment(
    experiment_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    experiments.unarchive_experiment(platform, experiment_id, principal=principal)
    return {}


@router.delete("/experiments/{experiment_id}")
def delete_experiment(
    experiment_id: str, platform: PlatformDep, principal: PrincipalDep
) -> dict[str, str]:
    experiments.delete_experiment(platform, experiment_id, principal=principal)
    return {}
