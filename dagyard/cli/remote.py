"""`dagyard pipelines|experiments ...`: thin shells over `dagyard.Client`, mirroring the
`kfp` command line. The server-side `runs` and `recurring` commands are in
`remote_runs.py` and `remote_recurring.py`; `register` adds them all to the CLI.

Each command parses its options, calls one client method and formats what comes back as
a rich table or as JSON (`shell.py`). Nothing here opens the local store; the local `runs`
commands (resume, retry, why) live in `runs.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dagyard.cli import shell

if TYPE_CHECKING:
    pass

pipelines_app = typer.Typer(help="Pipelines on a Dagyard server.", no_args_is_help=True)
experiments_app = typer.Typer(help="Experiments on a Dagyard server.", no_args_is_help=True)


# -- pipelines --------------------------------------------------------------------


def _pipeline_rows(pipelines: Sequence[Any]) -> list[list[str]]:
    return [[p.pipeline_id, p.display_name, shell.when(p.created_at)] for p in pipelines]


_PIPELINE_COLUMNS = ("pipeline id", "name", "created at")


@pipelines_app.command("list")
def pipelines_list(
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
    page_size: shell.PageSize = 20,
    page_token: shell.PageToken = "",
    sort_by: shell.SortBy = "",
    filter: shell.Filter = None,
) -> None:
    """List pipelines."""
    with shell.connect(endpoint, token) as client:
        found = client.list_pipelines(page_token, page_size, sort_by, filter=filter)
    shell.show(output, found, _PIPELINE_COLUMNS, _pipeline_rows(found.pipelines))
    shell.more(found.next_page_token)


@pipelines_app.command("upload")
def pipelines_upload(
    file: Annotated[Path, typer.Argument(help="A compiled pipeline (.yaml, .zip, .tar.gz).")],
    name: Annotated[str | None, typer.Option("--name", help="The pipeline's name.")] = None,
    description: Annotated[str | None, typer.Option(help="What the pipeline does.")] = None,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Upload a compiled pipeline as a new pipeline."""
    with shell.connect(endpoint, token) as client:
        pipeline = client.upload_pipeline(str(file), name, description)
    shell.show(output, pipeline, _PIPELINE_COLUMNS, _pipeline_rows([pipeline]))


@pipelines_app.command("get")
def pipelines_get(
    pipeline_id: str,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Show one pipeline."""
    with shell.connect(endpoint, token) as client:
        pipeline = client.get_pipeline(pipeline_id)
    shell.show(output, pipeline, _PIPELINE_COLUMNS, _pipeline_rows([pipeline]))


# -- experiments ------------------------------------------------------------------


def _experiment_rows(experiments: Sequence[Any]) -> list[list[str]]:
    return [
        [e.experiment_id, e.display_name, e.storage_state, shell.when(e.created_at)]
        for e in experiments
    ]


_EXPERIMENT_COLUMNS = ("experiment id", "name", "storage", "created at")


@experiments_app.command("list")
def experiments_list(
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
    page_size: shell.PageSize = 20,
    page_token: shell.PageToken = "",
    sort_by: shell.SortBy = "",
    filter: shell.Filter = None,
) -> None:
    """List experiments."""
    with shell.connect(endpoint, token) as client:
        found = client.list_experiments(page_token, page_size, sort_by, filter=filter)
    shell.show(output, found, _EXPERIMENT_COLUMNS, _experiment_rows(found.experiments))
    shell.more(found.next_page_token)


@experiments_app.command("create")
def experiments_create(
    name: str,
    description: Annotated[str | None, typer.Option(help="What the experiment is for.")] = None,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Create an experiment (or show the one already called NAME)."""
    with shell.connect(endpoint, token) as client:
        experiment = client.create_experiment(name, description)
    shell.show(output, experiment, _EXPERIMENT_COLUMNS, _experiment_rows([experiment]))


@experiments_app.command("get")
def experiments_get(
    experiment_id: str,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Show one experiment."""
    with shell.connect(endpoint, token) as client:
        experiment = client.get_experiment(experiment_id)
    shell.show(output, experiment, _EXPERIMENT_COLUMNS, _experiment_rows([experiment]))


pipelines_app.command("delete")(
    shell.action("pipeline", "delete_pipeline", "Deleted", "Delete a pipeline.")
)
experiments_app.command("archive")(
    shell.action("experiment", "archive_experiment", "Archived", "Archive an experiment.")
)
experiments_app.command("delete")(
    shell.action("experiment", "delete_experiment", "Deleted", "Delete an experiment.")
)


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add the server commands to `app` and to its `runs` group."""
    from dagyard.cli import remote_recurring, remote_runs

    app.add_typer(pipelines_app, name="pipelines")
    app.add_typer(experiments_app, name="experiments")
    app.add_typer(remote_recurring.recurring_app, name="recurring")
    for name, command in (
        ("list", remote_runs.runs_list),
        ("get", remote_runs.runs_get),
        ("submit", remote_runs.runs_submit),
        ("watch", remote_runs.runs_watch),
        ("logs", remote_runs.runs_logs),
        ("terminate", remote_runs.runs_terminate),
        ("archive", remote_runs.runs_archive),
        ("delete", remote_runs.runs_delete),
    ):
        runs_app.command(name)(command)
