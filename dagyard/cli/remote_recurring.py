"""`dagyard recurring create|list|get|enable|disable|delete` against a server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dagyard.cli import shell
from dagyard.errors import UsageError

if TYPE_CHECKING:
    from dagyard.client import RecurringRun

recurring_app = typer.Typer(
    help="Recurring runs (cron or interval triggers) on a Dagyard server.", no_args_is_help=True
)


# -- recurring runs ---------------------------------------------------------------


def _trigger(recurring: RecurringRun) -> str:
    if recurring.cron is not None:
        return f"cron {recurring.cron} ({recurring.timezone})"
    return f"every {recurring.interval_second} s"


def _recurring_rows(found: Sequence[RecurringRun]) -> list[list[str]]:
    return [
        [
            r.recurring_run_id,
            r.display_name,
            r.status,
            _trigger(r),
            r.experiment_id,
            shell.when(r.created_at),
        ]
        for r in found
    ]


_RECURRING_COLUMNS = (
    "recurring run id",
    "name",
    "status",
    "trigger",
    "experiment id",
    "created at",
)


def _exactly_one(**flags: object) -> None:
    """UsageError unless exactly one of the options (named by their keyword) is given."""
    if sum(value is not None for value in flags.values()) != 1:
        names = " or ".join(f"--{name.replace('_', '-')}" for name in flags)
        raise UsageError(f"Give exactly one of {names}.")


@recurring_app.command("create")
def recurring_create(
    job_name: Annotated[str, typer.Option("--job-name", help="The recurring run's name.")],
    experiment_id: Annotated[
        str | None, typer.Option("--experiment-id", help="The experiment to file runs under.")
    ] = None,
    experiment_name: Annotated[
        str | None,
        typer.Option("--experiment-name", help="Or its name (created if there is none)."),
    ] = None,
    cron_expression: Annotated[
        str | None,
        typer.Option("--cron-expression", help='e.g. "0 0 9 * * MON-FRI" (seconds first).'),
    ] = None,
    interval_second: Annotated[
        int | None, typer.Option("--interval-second", help="Or seconds between runs.")
    ] = None,
    start_time: Annotated[
        str | None, typer.Option("--start-time", help="RFC 3339; no runs before it.")
    ] = None,
    end_time: Annotated[
        str | None, typer.Option("--end-time", help="RFC 3339; no runs after it.")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", "--time-zone", help="IANA zone of the cron fields [UTC]."),
    ] = None,
    max_concurrency: Annotated[
        int, typer.Option("--max-concurrency", help="Runs at once, 1 to 10.")
    ] = 1,
    no_catchup: Annotated[
        bool, typer.Option("--no-catchup", help="After a pause, run only the latest due time.")
    ] = False,
    enabled: Annotated[
        bool, typer.Option("--enabled/--disabled", help="Start scheduling at once.")
    ] = True,
    pipeline_package_path: Annotated[
        Path | None, typer.Option("--pipeline-package-path", help="A compiled pipeline (.yaml).")
    ] = None,
    pipeline_id: Annotated[
        str | None, typer.Option("--pipeline-id", help="Or an uploaded pipeline (its latest).")
    ] = None,
    version_id: Annotated[
        str | None, typer.Option("--version-id", help="Or a version of an uploaded pipeline.")
    ] = None,
    parameter: Annotated[
        list[str] | None, typer.Option("-p", "--parameter", help="NAME=VALUE, repeatable.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the recurring run is for.")] = None,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Create a recurring run of a compiled pipeline or an uploaded one."""
    with shell.connect(endpoint, token) as client:
        _exactly_one(experiment_id=experiment_id, experiment_name=experiment_name)
        _exactly_one(cron_expression=cron_expression, interval_second=interval_second)
        if (pipeline_package_path is None) == (pipeline_id is None and version_id is None):
            raise UsageError(
                "Give either --pipeline-package-path, or --pipeline-id and/or --version-id "
                "of an uploaded pipeline."
            )
        if experiment_name is not None:
            experiment_id = client.create_experiment(experiment_name).experiment_id
        recurring = client.create_recurring_run(
            experiment_id or "",
            job_name,
            description=description,
            start_time=start_time,
            end_time=end_time,
            interval_second=interval_second,
            cron_expression=cron_expression,
            max_concurrency=max_concurrency,
            no_catchup=no_catchup or None,
            params=shell.arguments(parameter or []),
            pipeline_package_path=pipeline_package_path,
            pipeline_id=pipeline_id,
            version_id=version_id,
            enabled=enabled,
            timezone=timezone,
        )
    shell.show(output, recurring, _RECURRING_COLUMNS, _recurring_rows([recurring]))


@recurring_app.command("list")
def recurring_list(
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
    experiment_id: Annotated[
        str | None, typer.Option("--experiment-id", help="Only this experiment's.")
    ] = None,
    page_size: shell.PageSize = 20,
    page_token: shell.PageToken = "",
    sort_by: shell.SortBy = "",
    filter: shell.Filter = None,
) -> None:
    """List recurring runs."""
    with shell.connect(endpoint, token) as client:
        found = client.list_recurring_runs(
            page_token, page_size, sort_by, experiment_id, filter=filter
        )
    shell.show(output, found, _RECURRING_COLUMNS, _recurring_rows(found.recurring_runs))
    shell.more(found.next_page_token)


@recurring_app.command("get")
def recurring_get(
    recurring_run_id: str,
    endpoint: shell.Endpoint = shell.DEFAULT_ENDPOINT,
    token: shell.Token = None,
    output: shell.OutputOption = shell.Output.table,
) -> None:
    """Show one recurring run."""
    with shell.connect(endpoint, token) as client:
        recurring = client.get_recurring_run(recurring_run_id)
    shell.show(output, recurring, _RECURRING_COLUMNS, _recurring_rows([recurring]))
    if output == shell.Output.table and recurring.error:
        shell.errors.print(recurring.error, highlight=False, markup=False)


recurring_app.command("enable")(
    shell.action(
        "recurring_run",
        "enable_recurring_run",
        "Enabled",
        "Schedule a recurring run again, from now on (missed due times are skipped).",
    )
)
recurring_app.command("disable")(
    shell.action(
        "recurring_run",
        "disable_recurring_run",
        "Disabled",
        "Stop scheduling a recurring run; runs it created go on.",
    )
)
recurring_app.command("delete")(
    shell.action(
        "recurring_run",
        "delete_recurring_run",
        "Deleted",
        "Delete a recurring run; the runs it created are kept.",
    )
)
