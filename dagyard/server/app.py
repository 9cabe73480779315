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

import logging
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from dagyard.errors import DagyardError, RunError
from dagyard.server import (
    artifacts,
    auth,
    experiments,
    health,
    pipelines,
    recurring,
    runs,
    tenancy,
    ui,
)
from dagyard.server.edge import AllowedHosts, BodyLimit, HostCheck
from dagyard.server.responses import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INTERNAL,
    INVALID_ARGUMENT,
    NOT_FOUND,
    PERMISSION_DENIED,
    UNAUTHENTICATED,
    UNAVAILABLE,
    error_response,
)
from dagyard.server.routing import PREFIX
from dagyard.service.pipelines import MAX_PACKAGE_BYTES
from dagyard.service.platform import Platform

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: INVALID_ARGUMENT,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    409: ALREADY_EXISTS,
    413: INVALID_ARGUMENT,
    500: INTERNAL,
    503: UNAVAILABLE,
}
# Answers smaller than this are sent as they are (gzip would save next to nothing); those
# the auth middleware passes on as a stream are compressed whatever their size.
GZIP_MINIMUM_BYTES = 1024
# How long a client should wait before retrying after a 503.
RETRY_AFTER_SECONDS = 5
# The most a request body may have: a pipeline package and its form's framing.
MAX_BODY_BYTES = MAX_PACKAGE_BYTES + 64 * 1024
_TOO_LARGE_MESSAGE = (
    f"The request body has more than {MAX_BODY_BYTES} bytes (a pipeline package may have "
    f"{MAX_PACKAGE_BYTES}); upload the compiled pipeline YAML alone."
)
# What a client reads of an error of ours; the whole message goes to the log.
_UNAVAILABLE_MESSAGE = (
    "The metadata database does not answer ({reason}); nothing was changed. Retry in a "
    "few seconds; if this persists, the server's log says why."
)
_UNAVAILABLE_REASON = "it is unreachable, or busy past its lock timeout"


def create_app(
    platform: Platform,
    *,
    token: str | None = None,
    ui_folder: Path = ui.UI_DIST,
    allowed_hosts: Sequence[str] = (),
    user_header: auth.UserHeader | None = None,
) -> FastAPI:
    """The REST API over `platform`, and the web UI built in `ui_folder`. With an admin
    `token`, or once the home has namespace tokens, every API call but healthz needs
    `Authorization: Bearer <token>` (`auth.py`); `user_header`: an authenticating
    proxy's user header, and the namespaces of each user it names. Requests
    must name a loopback host or one of `allowed_hosts` (see `edge.AllowedHosts`), and
    writes from a browser page of another origin are refused."""
    app = FastAPI(
        title="Dagyard",
        description="Kubeflow Pipelines v2beta1 REST API",
        version="2beta1",
    )
    app.state.platform = platform
    for module in (health, pipelines, experiments, runs, recurring, artifacts, tenancy):
        app.include_router(module.router, prefix=PREFIX)
    _add_errors(app)
    auth.add_auth(app, platform, token, user_header)
    # Answers (the API's JSON, the UI's files) gzipped for clients that accept it: a big
    # run's task list shrinks about ten times. Streamed answers (a log followed) are
    # flushed chunk by chunk, so nothing waits for the end.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    # Added last, so outermost: a foreign Host is refused before anything else, and an
    # oversize body before a multipart parser spools it.
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, message=_TOO_LARGE_MESSAGE)
    app.add_middleware(HostCheck, allowed=AllowedHosts(allowed_hosts))
    ui.add_ui(app, ui_folder)
    return app


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
            reason = getattr(error, "reason", "") or _UNAVAILABLE_REASON
            response = error_response(503, UNAVAILABLE, _UNAVAILABLE_MESSAGE.format(reason=reason))
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
