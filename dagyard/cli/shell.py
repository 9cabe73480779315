"""What the server commands share: the client of an endpoint, the common options, and
output as a rich table or as JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dagyard.cli import exit_codes
from dagyard.errors import DagyardError, UsageError

if TYPE_CHECKING:
    from dagyard.client import Client

DEFAULT_ENDPOINT = "http://127.0.0.1:8888"

console = Console(soft_wrap=True)
errors = Console(stderr=True)


class Output(StrEnum):
    table = "table"
    json = "json"


Endpoint = Annotated[
    str,
    typer.Option(
        "--endpoint", envvar="DAGYARD_ENDPOINT", help="The server's URL.", show_default=True
    ),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="DAGYARD_AUTH_TOKEN", help="The server's API token."),
]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table or json.")]
PageSize = Annotated[int, typer.Option("--page-size", help="How many to list.")]
PageToken = Annotated[str, typer.Option("--page-token", help="Where a listing goes on.")]
SortBy = Annotated[str, typer.Option("--sort-by", help='e.g. "created_at desc".')]
Filter = Annotated[str | None, typer.Option("--filter", help="KFP's filter JSON.")]


@contextmanager
def connect(endpoint: str, token: str | None, *, hint: str = "") -> Iterator[Client]:
    """A client of `endpoint`; a refusal of the server ends the command with exit code 2,
    a server that cannot be reached with 4 (`exit_codes`), followed by `hint` if any."""
    from dagyard.client import Client

    try:
        with Client(host=endpoint, token=token) as client:
            yield client
    except DagyardError as e:
        ending = exit_codes.fail(e, errors)
        if hint and ending.exit_code == exit_codes.UNAVAILABLE:
            errors.print(hint, highlight=False, soft_wrap=True)
        raise ending from e


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def show(output: Output, value: Any, columns: Sequence[str], rows: list[list[str]]) -> None:
    """`value` as JSON, or `rows` as a table with `columns`."""
    if output == Output.json:
        typer.echo(json.dumps(plain(value), indent=2))
        return
    table = Table(show_edge=False)
    for index, column in enumerate(columns):
        # Ids (the first column) and times ("created at") are never broken, so that an
        # id can be copied whole; the other columns fold to fit the terminal.
        whole = index == 0 or column.endswith(" at")
        table.add_column(column, overflow="fold", no_wrap=whole)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def done(output: Output, message: str, **record: str) -> None:
    if output == Output.json:
        typer.echo(json.dumps(record))
    else:
        console.print(message, highlight=False)


def more(token: str) -> None:
    if token:
        errors.print(f"more: --page-token {token}", highlight=False)


def action(noun: str, method: str, verb: str, summary: str) -> Any:
    """A command that calls one client method on one id, e.g. `runs delete RUN_ID`."""
    key = f"{noun}_id"

    def command(
        resource_id: str,
        endpoint: str = DEFAULT_ENDPOINT,
        token: str | None = None,
        output: Output = Output.table,
    ) -> None:
        with connect(endpoint, token) as client:
            getattr(client, method)(resource_id)
        done(output, f"{verb} {noun} {resource_id}.", **{key: resource_id})

    command.__doc__ = summary
    # Real objects, not strings: typer reads them and this module defers annotations.
    command.__annotations__ = {
        "resource_id": Annotated[str, typer.Argument(metavar=key.upper())],
        "endpoint": Endpoint,
        "token": Token,
        "output": OutputOption,
        "return": None,
    }
    return command


def arguments(pairs: list[str]) -> dict[str, Any]:
    """NAME=VALUE pairs; a VALUE that reads as JSON (4, true, [1]) is sent as that."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"Parameter {pair!r} must look like NAME=VALUE.")
        try:
            values[name.strip()] = json.loads(text)
        except ValueError:
            values[name.strip()] = text
    return values
