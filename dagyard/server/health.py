"""GET /healthz: answers at once, without touching the database (kfp.Client calls it
when it starts)."""

from __future__ import annotations

from fastapi import APIRouter

from dagyard.server.models import Healthz

router = APIRouter(tags=["healthz"])


@router.get("/healthz", response_model=Healthz)
def healthz() -> Healthz:
    return Healthz(multi_user=False, pipeline_store="database")
