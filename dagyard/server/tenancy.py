"""/namespaces and /tokens: the admin's API for namespaces and namespace tokens (Dagyard's
own; KFP manages namespaces through Kubernetes profiles). Every call needs the admin
token, or an open server; a namespace token gets 403. A new token is in the answer to its
creation only; a listing shows ids, roles and dates, never tokens. And for any caller:
/whoami, which namespaces it reaches, with what role; /work, each of those namespaces'
pending and running runs and running tasks."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from fastapi import APIRouter

from dagyard.errors import Forbidden
from dagyard.server.models import ApiModel
from dagyard.server.routing import PlatformDep, PrincipalDep
from dagyard.service import tenancy
from dagyard.service.tenancy import Principal
from dagyard.store import records

router = APIRouter(tags=["tenancy"])


class Namespace(ApiModel):
    name: str
    created_at: datetime | None = None


class ListNamespacesResponse(ApiModel):
    namespaces: list[Namespace]


class TokenRequest(ApiModel):
    namespace: str
    role: str
    name: str = ""
    # A lifetime: "12h", "30d", "8w"; none: it does not expire.
    expires_in: str | None = None


class Token(ApiModel):
    token_id: str
    namespace: str
    role: str
    name: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    # Only in the answer to its creation.
    token: str | None = None


class ListTokensResponse(ApiModel):
    tokens: list[Token]


def _admin(principal: Principal) -> None:
    if not principal.admin:
        raise Forbidden("Namespaces and tokens are managed with the admin token only.")


def _token(record: records.ApiToken, token: str | None = None) -> Token:
    return Token(
        token_id=record.token_id,
        namespace=record.namespace,
        role=record.role.value,
        name=record.label,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        token=token,
    )


@router.post("/namespaces", response_model=Namespace)
def create_namespace(body: Namespace, platform: PlatformDep, principal: PrincipalDep) -> Namespace:
    _admin(principal)
    created = tenancy.create_namespace(platform, body.name)
    return Namespace(name=created.name, created_at=created.created_at)


@router.get("/namespaces", response_model=ListNamespacesResponse)
def list_namespaces(platform: PlatformDep, principal: PrincipalDep) -> ListNamespacesResponse:
    _admin(principal)
    found = tenancy.list_namespaces(platform)
    return ListNamespacesResponse(
        namespaces=[Namespace(name=n.name, created_at=n.created_at) for n in found]
    )


@router.delete("/namespaces/{name}")
def delete_namespace(name: str, platform: PlatformDep, principal: PrincipalDep) -> dict[str, str]:
    _admin(principal)
    tenancy.delete_namespace(platform, name)
    return {}


@router.post("/tokens", response_model=Token, response_model_exclude_none=True)
def create_token(body: TokenRequest, platform: PlatformDep, principal: PrincipalDep) -> Token:
    _admin(principal)
    record, token = tenancy.create_token(
        platform, body.namespace, body.role, label=body.name, expires_in=body.expires_in
    )
    return _token(record, token)


@router.get("/tokens", response_model=ListTokensResponse, response_model_exclude_none=True)
def list_tokens(
    platform: PlatformDep, principal: PrincipalDep, namespace: str | None = None
) -> ListTokensResponse:
    _admin(principal)
    return ListTokensResponse(
        tokens=[_token(t) for t in tenancy.list_tokens(platform, namespace or None)]
    )


@router.post("/tokens/{token_id}:revoke", response_model=Token, response_model_exclude_none=True)
def revoke_token(token_id: str, platform: PlatformDep, principal: PrincipalDep) -> Token:
    _admin(principal)
    return _token(tenancy.revoke_token(platform, token_id))


class NamespaceRole(ApiModel):
    name: str
    role: str


class WhoAmI(ApiModel):
    admin: bool
    user: str = ""
    # The namespaces the caller reaches, with its role in each (the admin: every one,
    # "admin").
    namespaces: list[NamespaceRole]


@router.get("/whoami", response_model=WhoAmI)
def who_am_i(platform: PlatformDep, principal: PrincipalDep) -> WhoAmI:
    """Who the caller is and which namespaces it reaches (the UI's namespace switcher)."""
    if principal.admin:
        reached = [
            NamespaceRole(name=n.name, role="admin") for n in tenancy.list_namespaces(platform)
        ]
    else:
        reached = [NamespaceRole(name=n, role=r.value) for n, r in principal.roles]
    return WhoAmI(admin=principal.admin, user=principal.user, namespaces=reached)


class NamespaceWork(ApiModel):
    namespace: str
    runs_running: int
    runs_pending: int
    # Of the pending runs, those held back by the namespace's limit on running runs.
    runs_waiting: int
    tasks_running: int


class WorkResponse(ApiModel):
    namespaces: list[NamespaceWork]


@router.get("/work", response_model=WorkResponse)
def unfinished_work(platform: PlatformDep, principal: PrincipalDep) -> WorkResponse:
    """Each namespace's pending and running work that the caller may see."""
    return WorkResponse(
        namespaces=[
            NamespaceWork(**dataclasses.asdict(w)) for w in tenancy.work(platform, principal)
        ]
    )
