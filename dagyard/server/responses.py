"""KFP's error JSON, `{"error", "code", "message"}` with a gRPC code: the one shape of
every answer that refuses a request, whether a route, an error handler or the edge
(`dagyard.server.edge`) gives it. Which error gets which status is decided in app.py."""

from __future__ import annotations

from fastapi.responses import JSONResponse

# gRPC codes, as KFP puts them in `code`.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
FAILED_PRECONDITION = 9
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16


def error_response(status: int, code: int, message: str) -> JSONResponse:
    """An answer with HTTP `status`, gRPC `code` and `message` in KFP's error shape.

    A message may quote what a request sent, and JSON bodies can carry lone surrogates,
    which no answer can encode: those are shown escaped (`\\ud800`), so that refusing a
    request can never fail in turn."""
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return JSONResponse(
        status_code=status, content={"error": message, "code": code, "message": message}
    )
