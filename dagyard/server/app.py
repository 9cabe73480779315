"""The FastAPI app factory: routers, KFP-style JSON errors, the API token and the UI.

Errors are KFP's JSON, `{"error", "code", "message"}` with a gRPC code, mapped here
once from the error's `status` (`dagyard.errors` draws the split): the caller's fault
is a 4xx whose message names the problem; ours is a 5xx whose message says what to do
but shows nothing of the server (no database URL, password or path: those go to the
server's log). An unavailable store answers 503 with Retry-After. Nothing a client
sends becomes a 500, and anything unexpected still answers in the same shape, without a
traceback.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from dagyard.errors import DagyardError, RunError
from dagyard.server import artifacts, experiments, health, pipelines, recurring, runs, ui
from dagyard.server.routing import PREFIX
from dagyard.service.pipelines import MAX_PACKAGE_BYTES
from dagyard.service.platform import Platform

log = logging.getLogger(__name__)

# gRPC codes, as KFP puts them in `code`.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
FAILED_PRECONDITION = 9
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16
_HTTP_CODES = {
    400: INVALID_ARGUMENT,
    401: UNAUTHENTICATED,
    404: NOT_FOUND,
    409: ALREADY_EXISTS,
    413: INVALID_ARGUMENT,
    500: INTERNAL,
    503: UNAVAILABLE,
}
# How long a client should wait before retrying after a 503.
RETRY_AFTER_SECONDS = 5
# What a client reads of an error of ours; the whole message goes to the log.
_UNAVAILABLE_MESSAGE = (
    "The metadata database does not answer (it is unreachable, or busy past its lock "
    "timeout); nothing was changed. Retry in a few seconds; if this persists, the "
    "server's log says why."
)


def create_app(
    platform: Platform, *, token: str | None = None, ui_folder: Path = ui.UI_DIST
) -> FastAPI:
    """The REST API over `platform`, and the web UI built in `ui_folder`. With a
    `token`, every API call but healthz needs `Authorization: Bearer <token>`."""
    app = FastAPI(
        title="Dagyard",
        description="Kubeflow Pipelines v2beta1 REST API",
        version="2beta1",
    )
    app.state.platform = platform
    for module in (health, pipelines, experiments, runs, recurring, artifacts):
        app.include_router(module.router, prefix=PREFIX)
    _add_errors(app)
    _add_upload_limit(app)
    if token:
        _add_token_check(app, token)
    ui.add_ui(app, ui_folder)
    return app


def error_response(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": message, "code": code, "message": message}
    )


def _add_errors(app: FastAPI) -> None:
    async def dagyard_error(_request: Request, error: Exception) -> Response:
        status = error.status if isinstance(error, DagyardError) else 500
        if status < 500:
            code = _HTTP_CODES.get(status, INVALID_ARGUMENT)
            if isinstance(error, RunError):
                code = FAILED_PRECONDITION
            return error_response(status, code, str(error))
        if status == 503:
            log.warning("API request refused, store unavailable: %s", error)
            response = error_response(503, UNAVAILABLE, _UNAVAILABLE_MESSAGE)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        log.error("API request failed: %s", error, exc_info=error)
        return _internal_error(status, error)

    async def invalid_request(_request: Request, error: Exception) -> Response:
        problems = []
        for problem in getattr(error, "errors", list)():
            where = ".".join(str(part) for part in problem.get("loc", ()))
            problems.append(f"{where}: {problem.get('msg', 'invalid')}")
        message = "Invalid request: " + ("; ".join(problems) or str(error))
        return error_response(400, INVALID_ARGUMENT, message)

    async def http_error(request: Request, error: Exception) -> Response:
        status = getattr(error, "status_code", 400)
        if status == 404 and (page := ui.page_for(request)) is not None:
            return page
        detail = getattr(error, "detail", "") or "error"
        return error_response(status, _HTTP_CODES.get(status, INVALID_ARGUMENT), str(detail))

    async def unexpected(_request: Request, error: Exception) -> Response:
        log.exception("Unexpected error in the API", exc_info=error)
        return _internal_error(500, error)

    app.add_exception_handler(DagyardError, dagyard_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _internal_error(status: int, error: Exception) -> Response:
    """The answer to an error of ours: its kind, nothing of its message (the log has it)."""
    message = f"Internal error ({type(error).__name__}); the server's log says why."
    return error_response(status, _HTTP_CODES.get(status, INTERNAL), message)


def _add_upload_limit(app: FastAPI) -> None:
    # Refuse an oversize upload by its length, before the multipart parser spools it.
    limit = MAX_PACKAGE_BYTES + 64 * 1024

    @app.middleware("http")
    async def check_length(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length", "")
        if request.method == "POST" and length.isdigit() and int(length) > limit:
            return error_response(
                413,
                INVALID_ARGUMENT,
                f"The request is {int(length)} bytes, more than the {MAX_PACKAGE_BYTES} "
                "a pipeline package may have; upload the compiled pipeline YAML alone.",
            )
        return await call_next(request)


def _add_token_check(app: FastAPI, token: str) -> None:
    expected = f"Bearer {token}".encode()
    open_paths = {f"{PREFIX}/healthz"}

    @app.middleware("http")
    async def check_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith("/apis/") and path not in open_paths:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return error_response(
                    401,
                    UNAUTHENTICATED,
                    "Missing or wrong API token; send 'Authorization: Bearer <token>' "
                    "(the token is DAGYARD_AUTH_TOKEN of the server).",
                )
        return await call_next(request)
