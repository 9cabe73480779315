"""`dagyard pipelines|experiments ...` and the server-side `dagyard runs ...` commands:
thin shells over `dagyard.Client`, mirroring the `kfp` command line.

Each command parses its options, calls one client method and formats what comes back as
a rich table or as JSON. Nothing here opens the local store; the local `runs` commands
(resume, retry, why) live in `runs.py`. Recurring runs are not here: `dagyard.Client`
has no recurring-run methods yet.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from dagyard.errors import ApiError, DagyardError, UsageError

if TYPE_CHECKING:
    from dagyard.client import Client, Run

DEFAULT_ENDPOINT = "http://127.0.0.1:8888"

pipelines_app = typer.Typer(help="Pipelines on a Dagyard server.", no_args_is_help=True)
experiments_app = typer.Typer(help="Experiments on a Dagyard server.", no_args_is_help=True)
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
def _client(endpoint: str, token: str | None) -> Iterator[Client]:
    """A client of `endpoint`; a refusal of the server ends the command with exit code 2."""
    from dagyard.client import Client

    try:
        with Client(host=endpoint, token=token) as client:
            yield client
    except ApiError as e:
        errors.print(f"[bold red]error:[/] {e.message if e.status == 0 else e}", highlight=False)
        raise typer.Exit(code=2) from e
    except DagyardError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=2) from e


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _show(output: Output, value: Any, columns: Sequence[str], rows: list[list[str]]) -> None:
    """`value` as JSON, or `rows` as a table with `columns`."""
    if output == Output.json:
        typer.echo(json.dumps(_plain(value), indent=2))
        return
    table = Table(show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _done(output: Output, message: str, **record: str) -> None:
    if output == Output.json:
        typer.echo(json.dumps(record))
    else:
        console.print(message, highlight=False)


def _more(token: str) -> None:
    if token:
        errors.print(f"more: --page-token {token}", highlight=False)


def _action(noun: str, method: str, verb: str, summary: str) -> Any:
    """A command that calls one client method on one id, e.g. `runs delete RUN_ID`."""
    key = f"{noun}_id"

    def command(
        resource_id: str,
        endpoint: str = DEFAULT_ENDPOINT,
        token: str | None = None,
        output: Output = Output.table,
    ) -> None:
        with _client(endpoint, token) as client:
            getattr(client, method)(resource_id)
        _done(output, f"{verb} {noun} {resource_id}.", **{key: resource_id})

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


# -- pipelines --------------------------------------------------------------------


def _pipeline_rows(pipelines: Sequence[Any]) -> list[list[str]]:
    return [[p.pipeline_id, p.display_name, _when(p.created_at)] for p in pipelines]


_PIPELINE_COLUMNS = ("pipeline id", "name", "created at")


@pipelines_app.command("list")
def pipelines_list(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
    page_size: PageSize = 20,
    page_token: PageToken = "",
    sort_by: SortBy = "",
    filter: Filter = None,
) -> None:
    """List pipelines."""
    with _client(endpoint, token) as client:
        found = client.list_pipelines(page_token, page_size, sort_by, filter=filter)
    _show(output, found, _PIPELINE_COLUMNS, _pipeline_rows(found.pipelines))
    _more(found.next_page_token)


@pipelines_app.command("upload")
def pipelines_upload(
    file: Annotated[Path, typer.Argument(help="A compiled pipeline (.yaml, .zip, .tar.gz).")],
    name: Annotated[str | None, typer.Option("--name", help="The pipeline's name.")] = None,
    description: Annotated[str | None, typer.Option(help="What the pipeline does.")] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Upload a compiled pipeline as a new pipeline."""
    with _client(endpoint, token) as client:
        pipeline = client.upload_pipeline(str(file), name, description)
    _show(output, pipeline, _PIPELINE_COLUMNS, _pipeline_rows([pipeline]))


@pipelines_app.command("get")
def pipelines_get(
    pipeline_id: str,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one pipeline."""
    with _client(endpoint, token) as client:
        pipeline = client.get_pipeline(pipeline_id)
    _show(output, pipeline, _PIPELINE_COLUMNS, _pipeline_rows([pipeline]))


# -- experiments ------------------------------------------------------------------


def _experiment_rows(experiments: Sequence[Any]) -> list[list[str]]:
    return [
        [e.experiment_id, e.display_name, e.storage_state, _when(e.created_at)] for e in experiments
    ]


_EXPERIMENT_COLUMNS = ("experiment id", "name", "storage", "created at")


@experiments_app.command("list")
def experiments_list(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
    page_size: PageSize = 20,
    page_token: PageToken = "",
    sort_by: SortBy = "",
    filter: Filter = None,
) -> None:
    """List experiments."""
    with _client(endpoint, token) as client:
        found = client.list_experiments(page_token, page_size, sort_by, filter=filter)
    _show(output, found, _EXPERIMENT_COLUMNS, _experiment_rows(found.experiments))
    _more(found.next_page_token)


@experiments_app.command("create")
def experiments_create(
    name: str,
    description: Annotated[str | None, typer.Option(help="What the experiment is for.")] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Create an experiment (or show the one already called NAME)."""
    with _client(endpoint, token) as client:
        experiment = client.create_experiment(name, description)
    _show(output, experiment, _EXPERIMENT_COLUMNS, _experiment_rows([experiment]))


@experiments_app.command("get")
def experiments_get(
    experiment_id: str,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one experiment."""
    with _client(endpoint, token) as client:
        experiment = client.get_experiment(experiment_id)
    _show(output, experiment, _EXPERIMENT_COLUMNS, _experiment_rows([experiment]))


# -- runs on the server -----------------------------------------------------------


def _run_rows(runs: Sequence[Run]) -> list[list[str]]:
    return [[r.run_id, r.display_name, r.state, r.experiment_id, _when(r.created_at)] for r in runs]


_RUN_COLUMNS = ("run id", "name", "state", "experiment id", "created at")


def runs_list(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
    experiment_id: Annotated[
        str | None, typer.Option("--experiment-id", help="Only this experiment's runs.")
    ] = None,
    page_size: PageSize = 20,
    page_token: PageToken = "",
    sort_by: SortBy = "",
    filter: Filter = None,
) -> None:
    """List runs on the server."""
    with _client(endpoint, token) as client:
        found = client.list_runs(page_token, page_size, sort_by, experiment_id, filter=filter)
    _show(output, found, _RUN_COLUMNS, _run_rows(found.runs))
    _more(found.next_page_token)


def _tasks_table(run: Run) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("task", "state", "time"):
        table.add_column(column)
    for task in sorted(run.tasks, key=lambda t: (t.start_time is None, str(t.start_time))):
        took = ""
        if task.start_time and task.end_time:
            took = f"{(task.end_time - task.start_time).total_seconds():.1f}s"
        table.add_row(task.display_name, task.state, took)
    return table


def runs_get(
    run_id: str,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Show one run and its tasks."""
    with _client(endpoint, token) as client:
        run = client.get_run(run_id)
    _show(output, run, _RUN_COLUMNS, _run_rows([run]))
    if output == Output.table:
        if run.tasks:
            console.print(_tasks_table(run))
        if run.error:
            errors.print(run.error, highlight=False, markup=False)


def _arguments(pairs: list[str]) -> dict[str, Any]:
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


def runs_submit(
    file: Annotated[Path, typer.Argument(help="A compiled pipeline (.yaml).")],
    parameter: Annotated[
        list[str] | None, typer.Option("-p", "--parameter", help="NAME=VALUE, repeatable.")
    ] = None,
    experiment: Annotated[str, typer.Option(help="Experiment to file the run under.")] = "Default",
    name: Annotated[str | None, typer.Option("--name", help="The run's name.")] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
) -> None:
    """Submit a compiled pipeline to the server as a new run (see `runs watch`)."""
    with _client(endpoint, token) as client:
        run = client.create_run_from_pipeline_package(
            str(file), _arguments(parameter or []), name, experiment
        )
    _show(output, run, _RUN_COLUMNS, _run_rows([run]))


def runs_watch(
    run_id: str,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    token: Token = None,
    output: OutputOption = Output.table,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
) -> None:
    """Follow a run on the server until it ends; exit 0 only if it succeeded."""
    with _client(endpoint, token) as client:
        try:
            run = _follow(client, run_id, interval, live=output == Output.table)
        except KeyboardInterrupt:
            errors.print(f"[yellow]Stopped watching run {run_id}; it goes on.[/]")
            raise typer.Exit(code=130) from None
    if output == Output.json:
        typer.echo(json.dumps(_plain(run), indent=2))
    else:
        colour = "green" if run.state == "SUCCEEDED" else "red"
        errors.print(f"Run {run.run_id} [{colour}]{run.state}[/]")
        if run.error:
            errors.print(run.error, highlight=False, markup=False)
    raise typer.Exit(code=0 if run.state == "SUCCEEDED" else 1)


def _follow(client: Client, run_id: str, interval: float, *, live: bool) -> Run:
    run = client.get_run(run_id)
    if not live:
        while not run.done:
            time.sleep(interval)
            run = client.get_run(run_id)
        return run
    errors.print(f"run {run_id}")
    with Live(_tasks_table(run), console=errors, refresh_per_second=4) as view:
        while not run.done:
            time.sleep(interval)
            run = client.get_run(run_id)
            view.update(_tasks_table(run))
    return run


pipelines_app.command("delete")(
    _action("pipeline", "delete_pipeline", "Deleted", "Delete a pipeline.")
)
experiments_app.command("archive")(
    _action("experiment", "archive_experiment", "Archived", "Archive an experiment.")
)
experiments_app.command("delete")(
    _action("experiment", "delete_experiment", "Deleted", "Delete an experiment.")
)
runs_terminate = _action("run", "terminate_run", "Terminating", "Stop a run on the server.")
runs_archive = _action(
    "run", "archive_run", "Archived", "Archive a run (its artifacts and logs stay)."
)
runs_delete = _action("run", "delete_run", "Deleted", "Delete a run with its artifacts and logs.")


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add the server commands to `app` and to its `runs` group."""
    app.add_typer(pipelines_app, name="pipelines")
    app.add_typer(experiments_app, name="experiments")
    for name, command in (
        ("list", runs_list),
        ("get", runs_get),
        ("submit", runs_submit),
        ("watch", runs_watch),
        ("terminate", runs_terminate),
        ("archive", runs_archive),
        ("delete", runs_delete),
    ):
        runs_app.command(name)(command)
