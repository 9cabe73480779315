"""Who an API call is: the admin token, a namespace token, or (with neither kind of
token set up) anybody. Sets `request.state.principal` (a `tenancy.Principal`) for the
routers, or answers 401.

The admin token is the server's (`create_app(token=...)`); namespace tokens are the
home's (`dagyard tokens create`). Behind an authenticating proxy, a user named in a
header (`UserHeader`, off unless configured) reaches the namespaces of the user mapping.
With none of these, the API is open, as a server on loopback for one person is; once
any exists, every call but healthz needs a token or a named user. Whether any namespace token
exists, and what a token is, are read from the store at most every `CACHE_SECONDS`, so
a revoked token stops working within that time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import ipaddress
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dagyard.server.responses import PERMISSION_DENIED, UNAUTHENTICATED, error_response
from dagyard.server.routing import PREFIX
from dagyard.service import tenancy
from dagyard.service.platform import Platform
from dagyard.service.tenancy import ADMIN, Principal

CACHE_SECONDS = 2.0
_MISSING = (
    "Missing or wrong API token; send 'Authorization: Bearer <token>' (the server's "
    "DAGYARD_AUTH_TOKEN, or a namespace token from `dagyard tokens create`)."
)


class _Tokens:
    """What the store says of tokens, kept for `CACHE_SECONDS`."""

    def __init__(self, platform: Platform, clock: Callable[[], float] = time.monotonic) -> None:
        self._platform = platform
        self._clock = clock
        self._lock = threading.Lock()
        self._any: tuple[float, bool] | None = None
        self._known: dict[str, tuple[float, Principal | None]] = {}

    def any(self) -> bool:
        now = self._clock()
        with self._lock:
            if self._any is not None and now - self._any[0] < CACHE_SECONDS:
                return self._any[1]
        found = self._platform.store.has_tokens()
        with self._lock:
            self._any = (now, found)
        return found

    def principal(self, token: str) -> Principal | None:
        now = self._clock()
        with self._lock:
            known = self._known.get(token)
            if known is not None and now - known[0] < CACHE_SECONDS:
                return known[1]
        found = tenancy.authenticate(self._platform, token)
        with self._lock:
            if len(self._known) > 10_000:  # a flood of wrong tokens: forget, do not grow
                self._known.clear()
            self._known[token] = (now, found)
        return found


@dataclasses.dataclass(frozen=True)
class UserHeader:
    """An authenticating proxy in front of the server names the user in `header`; the
    header is believed only from loopback peers and the `trusted` addresses, and each
    user reaches the namespaces `users` gives it (`tenancy.load_users`)."""

    header: str
    users: dict[str, Principal]
    trusted: frozenset[str] = frozenset()

    def principal(self, request: Request) -> Principal | Literal[False] | None:
        """The named user's principal; None when no user is named here (no header, or a
        peer that is not trusted to name one); False for a user with no namespace."""
        named = request.headers.get(self.header, "").strip()
        peer = request.client.host if request.client else ""
        if not named or not (_loopback(peer) or peer in self.trusted):
            return None
        return self.users.get(named, False)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def add_auth(
    app: FastAPI,
    platform: Platform,
    admin_token: str | None,
    user_header: UserHeader | None = None,
) -> None:
    # The header's bytes, compared with the admin token's: a client may send a non-ASCII
    # token as UTF-8 (httpx, given bytes) or as Latin-1 (http.client, urllib3).
    expected: list[bytes] = []
    if admin_token:
        expected.append(f"Bearer {admin_token}".encode())
        if not admin_token.isascii():
            with contextlib.suppress(UnicodeEncodeError):
                expected.append(f"Bearer {admin_token}".encode("latin-1"))
    open_paths = {f"{PREFIX}/healthz"}
    tokens = _Tokens(platform)

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        request.state.principal = ADMIN
        if not path.startswith("/apis/") or path in open_paths:
            return await call_next(request)
        # Starlette decodes header bytes as Latin-1: encoding back gives them as sent.
        given = request.headers.get("authorization", "").encode("latin-1")
        if expected and any([hmac.compare_digest(given, each) for each in expected]):
            return await call_next(request)
        bearer = given.decode("latin-1").removeprefix("Bearer ").strip()
        principal = None
        if bearer.startswith(tenancy.TOKEN_PREFIX):
            principal = await run_in_threadpool(tokens.principal, bearer)
        if principal is not None:
            request.state.principal = principal
            return await call_next(request)
        if user_header is not None:
            named = user_header.principal(request)
            if named is False:
                who = request.headers.get(user_header.header, "").strip()
                return error_response(
                    403,
                    PERMISSION_DENIED,
                    f"User {who!r} reaches no namespace here; ask an administrator to add "
                    "it to the user namespaces file (DAGYARD_USER_NAMESPACES).",
                )
            if named is not None:
                request.state.principal = named
                return await call_next(request)
            return error_response(401, UNAUTHENTICATED, _MISSING)
        if expected:
            return error_response(401, UNAUTHENTICATED, _MISSING)
        someone_has_a_token: bool = await run_in_threadpool(tokens.any)
        if someone_has_a_token:
            return error_response(401, UNAUTHENTICATED, _MISSING)
        return await call_next(request)  # no token of any kind: an open server
