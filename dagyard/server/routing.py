"""What every router shares: the API prefix, the platform and the principal of a request,
list parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from dagyard.service.filters import list_query
from dagyard.service.platform import Platform
from dagyard.service.tenancy import Principal
from dagyard.store.listing import ListQuery

PREFIX = "/apis/v2beta1"


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _query(
    page_token: str = "",
    page_size: int = 0,
    sort_by: str = "",
    filter: Annotated[str, Query(description="KFP filter JSON (filter.proto)")] = "",
) -> ListQuery:
    return list_query(filter=filter, sort_by=sort_by, page_size=page_size, page_token=page_token)


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


PlatformDep = Annotated[Platform, Depends(_platform)]
# Who the call is (auth.py): what it may see and change.
PrincipalDep = Annotated[Principal, Depends(_principal)]
QueryDep = Annotated[ListQuery, Depends(_query)]
