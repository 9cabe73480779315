"""How a `dagyard` command ends: the table of exit codes, and the one way a command
turns an error into a message on stderr and its code.

Only the mapping from an error to a code and its message belongs here; commands decide
when to stop. The table is documented in docs/cli.md; a code, once given, keeps its
meaning.
"""

from __future__ import annotations

from typing import Final

import typer
from rich.console import Console

from dagyard.errors import ApiError, DagyardError, StoreFailure, StoreUnavailable, UserCodeError

SUCCESS: Final = 0
# A run (or the run a command waited for) ended in a state other than SUCCEEDED.
RUN_NOT_SUCCEEDED: Final = 1
# Usage: a wrong option or parameter, a missing file, an unknown or ambiguous id. Click
# gives its own usage errors this code as well.
BAD_INPUT: Final = 2
# The user's pipeline file raised while it was loaded (an import error, an exception in
# a definition); its traceback is shown cut to the user's own frames.
USER_CODE_ERROR: Final = 3
# The server cannot be reached or answers 503, or the metadata database does not answer
# (StoreUnavailable).
UNAVAILABLE: Final = 4
# An error nobody foresaw: a bug in Dagyard, shown with its whole traceback. Also ours,
# shown with their message: a database failure that is not an outage (StoreFailure) and a
# server's 5xx answer other than 503.
INTERNAL_ERROR: Final = 70
# Ctrl-C (SIGINT): 128 + 2, as shells report it.
INTERRUPTED: Final = 130

_errors = Console(stderr=True)


def code_for(error: DagyardError) -> int:
    """The exit code of a command that stops on `error`."""
    if isinstance(error, UserCodeError):
        return USER_CODE_ERROR
    if isinstance(error, ApiError) and (
        error.status == 503 or (error.status == 0 and _is_transport_error(error.__cause__))
    ):
        return UNAVAILABLE
    if isinstance(error, StoreUnavailable):
        return UNAVAILABLE
    if isinstance(error, StoreFailure) or (isinstance(error, ApiError) and error.status >= 500):
        return INTERNAL_ERROR
    return BAD_INPUT


def fail(error: DagyardError, console: Console | None = None) -> typer.Exit:
    """Print `error` on stderr (a user-code error with its trimmed traceback) and return
    the `typer.Exit` to raise: `raise fail(e) from e`."""
    out = console or _errors
    if isinstance(error, UserCodeError):
        out.print(error.traceback, highlight=False, markup=False, end="", soft_wrap=True)
    message = error.message if isinstance(error, ApiError) and error.status == 0 else error
    out.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code_for(error))


def _is_transport_error(cause: BaseException | None) -> bool:
    import httpx

    return isinstance(cause, httpx.TransportError)
