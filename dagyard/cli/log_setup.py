"""How `dagyard up` and `dagyard worker` log: one level for Dagyard's and uvicorn's
loggers, an optional access log, and lines as text or as JSON objects.

Only logging setup belongs here; what is logged is decided where it happens.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from dagyard.cli import exit_codes
from dagyard.errors import DagyardError


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


LevelOption = Annotated[LogLevel, typer.Option(help="The least severe log lines shown.")]
FormatOption = Annotated[LogFormat, typer.Option(help="text, or json: one JSON object per line.")]


ACCESS_LOGGER = "uvicorn.access"
_OURS = ("dagyard", "uvicorn")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """A record as one JSON object: time (UTC, RFC 3339), level, logger and message; an
    access-log record also gets its client, method, path and status as fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # uvicorn's access records carry (client, method, path, HTTP version, status).
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _, status = args
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: LogLevel, log_format: LogFormat) -> None:
    """Send the records of Dagyard and uvicorn at `level` and above (other libraries':
    warnings and errors, or everything at debug) to stderr, in `log_format`."""
    debugging = level == LogLevel.debug
    formatter: dict[str, Any] = (
        {"()": JsonLines} if log_format == LogFormat.json else {"format": _TEXT}
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"lines": formatter},
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "lines",
                    "stream": "ext://sys.stderr",
                }
            },
            # Other libraries (alembic, httpx...) say only what goes wrong, unless debugging.
            "root": {"handlers": ["stderr"], "level": "DEBUG" if debugging else "WARNING"},
            "loggers": {name: {"level": level.upper()} for name in _OURS},
        }
    )


def show_access_log(on: bool) -> None:
    """Whether requests are logged (at info, whatever the level of the rest). Called after
    uvicorn's own configuration, which sets the access logger's level to the server's."""
    access = logging.getLogger(ACCESS_LOGGER)
    access.setLevel(logging.INFO if on else logging.CRITICAL + 1)


def fail(
    error: DagyardError, log_format: LogFormat, *, logger: str, console: Console
) -> typer.Exit:
    """The error as `exit_codes.fail` prints it, or, with JSON logs, as a JSON log line
    (a log reader then sees every line as JSON)."""
    if log_format == LogFormat.json:
        logging.getLogger(logger).error("%s", error)
        return typer.Exit(code=exit_codes.code_for(error))
    return exit_codes.fail(error, console)
