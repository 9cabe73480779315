"""`dagyard runs list|get|submit|watch|logs|terminate|archive|delete` against a server."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.table import Table

from dagyard.cli import exit_codes, shell
from dagyard.cli.runs import HomeOption, LocalOption, list_local, logs_local
from dagyard.errors import DagyardError

if TYPE_CHECKING:
    from dagyard.client import Client, Run


# -- runs on the server -----------------------------------------------------------


def _run_rows(runs: Sequence[Run]) -> list[list[str]]:
    return [[r.run_id, r.display_name, r.state, shell.when(r.created_at)] for r in runs]


# Fits 80 columns with whole run ids; the experiment is in `-o json` and `runs get`.
_RUN_COLUMNS = ("run id", "name", "state", "created at")
NEWEST_FIRST = "created_at desc"
_LOCAL_HINT = "Runs of this machine's home (`dagyard run`) are read without a server: add --local."


def runs_list(
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
    experiment_id: Annotated[
        str | None, typer.Option("--experiment-id", help="Only this experiment's runs.")
    ] = None,
    page_size: shell.PageSize = 20,
    page_token: shell.PageToken = "",
    sort_by: Annotated[
        str, typer.Option("--sort-by", help=f'Default "{NEWEST_FIRST}": newest first.')
    ] = NEWEST_FIRST,
    filter: shell.Filter = None,
    local: LocalOption = False,
    home: HomeOption = None,
) -> None:
    """List runs, newest first: on the server, or with --local in this machine's home."""
    if local or home is not None:
        from dagyard.service.filters import list_query

        try:
            query = list_query(
                filter=filter or "", sort_by=sort_by, page_size=page_size, page_token=page_token
            )
        except DagyardError as e:
            raise exit_codes.fail(e, shell.errors) from e
        list_local(home, output=output, experiment_id=experiment_id, query=query)
        return
    with shell.connect(endpoint, token, hint=_LOCAL_HINT) as client:
        found = client.list_runs(page_token, page_size, sort_by, experiment_id, filter=filter)
    shell.show(output, found, _RUN_COLUMNS, _run_rows(found.runs))
    shell.more(found.next_page_token)


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
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Show one run and its tasks."""
    with shell.connect(endpoint, token) as client:
        run = client.get_run(run_id)
    shell.show(output, run, _RUN_COLUMNS, _run_rows([run]))
    if output == shell.Output.table:
        if run.tasks:
            shell.console.print(_tasks_table(run))
        if run.error:
            shell.errors.print(run.error, highlight=False, markup=False)


def runs_submit(
    file: Annotated[Path, typer.Argument(help="A compiled pipeline (.yaml).")],
    parameter: Annotated[
        list[str] | None, typer.Option("-p", "--parameter", help="NAME=VALUE, repeatable.")
    ] = None,
    experiment: Annotated[str, typer.Option(help="Experiment to file the run under.")] = "Default",
    name: Annotated[str | None, typer.Option("--name", help="The run's name.")] = None,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Submit a compiled pipeline to the server as a new run (see `runs watch`)."""
    with shell.connect(endpoint, token) as client:
        run = client.create_run_from_pipeline_package(
            str(file), shell.arguments(parameter or []), name, experiment
        ).run_info
    shell.show(output, run, _RUN_COLUMNS, _run_rows([run]))


def runs_watch(
    run_id: str,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
) -> None:
    """Follow a run on the server until it ends; exit 0 only if it succeeded."""
    with shell.connect(endpoint, token) as client:
        try:
            run = _follow(client, run_id, interval, live=output == shell.Output.table)
        except KeyboardInterrupt:
            shell.errors.print(f"[yellow]Stopped watching run {run_id}; it goes on.[/]")
            raise typer.Exit(code=exit_codes.INTERRUPTED) from None
    if output == shell.Output.json:
        typer.echo(json.dumps(shell.plain(run), indent=2))
    else:
        colour = "green" if run.state == "SUCCEEDED" else "red"
        shell.errors.print(f"Run {run.run_id} [{colour}]{run.state}[/]")
        if run.error:
            shell.errors.print(run.error, highlight=False, markup=False)
    succeeded = run.state == "SUCCEEDED"
    raise typer.Exit(code=exit_codes.SUCCESS if succeeded else exit_codes.RUN_NOT_SUCCEEDED)


def _follow(client: Client, run_id: str, interval: float, *, live: bool) -> Run:
    run = client.get_run(run_id)
    if not live:
        while not run.done:
            time.sleep(interval)
            run = client.get_run(run_id)
        return run
    shell.errors.print(f"run {run_id}")
    with Live(_tasks_table(run), console=shell.errors, refresh_per_second=4) as view:
        while not run.done:
            time.sleep(interval)
            run = client.get_run(run_id)
            view.update(_tasks_table(run))
    return run


runs_terminate = shell.action("run", "terminate_run", "Terminating", "Stop a run on the server.")
runs_archive = shell.action(
    "run", "archive_run", "Archived", "Archive a run (its artifacts and logs stay)."
)
runs_delete = shell.action(
    "run", "delete_run", "Deleted", "Delete a run with its artifacts and logs."
)


def runs_logs(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run's id.")],
    task: Annotated[str, typer.Argument(help="The task's name, path or id.")],
    attempt: Annotated[
        int | None, typer.Option(help="Which attempt (1 is the first; default the latest).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing while the task runs.")
    ] = False,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    local: LocalOption = False,
    home: HomeOption = None,
) -> None:
    """Print a task's log (stdout and stderr) from the server, or with --local from this
    machine's home (RUN may then be the start of its id); -f follows it."""
    if local or home is not None:
        logs_local(home, run_id, task, attempt=attempt, follow=follow)
        return
    with shell.connect(endpoint, token, hint=_LOCAL_HINT) as client:
        try:
            for piece in client.iter_logs(run_id, task, attempt=attempt, follow=follow):
                typer.echo(piece, nl=False)
        except KeyboardInterrupt:
            raise typer.Exit(code=exit_codes.INTERRUPTED) from None
