"""How the client reaches a server: the address and token from the environment, TLS,
kfp's credentials objects, and a server's error answer turned into an `ApiError`.

Only connection plumbing belongs here; the REST calls themselves are `client.py`'s.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from types import SimpleNamespace
from typing import Any

import httpx

from dagyard.errors import ApiError, UsageError


class CredentialsAuth(httpx.Auth):
    """kfp's TokenCredentialsBase: its hook writes a fresh token into a configuration's
    `api_key` before each request, and the request carries it as a bearer token."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        config = SimpleNamespace(api_key={}, api_key_prefix={})
        self._credentials.refresh_api_key_hook(config)
        token = config.api_key.get("authorization")
        if token:
            prefix = config.api_key_prefix.get("authorization", "Bearer")
            request.headers["Authorization"] = f"{prefix} {token}"
        yield request


def api_error(response: httpx.Response) -> ApiError:
    """The server's `{error, code, message}` as an ApiError; any other body as its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message" in body or "error" in body):
        message = str(body.get("message") or body.get("error"))
        code = body.get("code")
        return ApiError(
            message, status=response.status_code, code=code if isinstance(code, int) else 0
        )
    text = response.text.strip() or response.reason_phrase
    return ApiError(
        f"{response.request.method} {response.request.url}: {text}", status=response.status_code
    )


def first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def base_url(host: str) -> str:
    host = host.strip().rstrip("/")
    return host if "://" in host else f"http://{host}"


def ssl_context(ca_file: str) -> Any:
    import ssl

    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise UsageError(
            f"Cannot load the CA certificate ssl_ca_cert={ca_file!r}: {error}; give a PEM file."
        ) from error
