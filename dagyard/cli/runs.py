"""`dagyard run` and `dagyard runs ...`: thin shells over `dagyard.service.runs`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dagyard.cli.up import ExecutorOption, RayAddressOption, settings_for
from dagyard.errors import DagyardError, UsageError
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState

if TYPE_CHECKING:
    from dagyard.service.platform import Platform

runs_app = typer.Typer(help="Resume, retry and inspect runs.", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True)


def _parameters(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"Parameter {pair!r} must look like NAME=VALUE.")
        values[name.strip()] = value
    return values


def run_record(run: Run, tasks: list[Any]) -> dict[str, Any]:
    """The final run record that `--json` prints."""

    def when(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "run_id": run.run_id,
        "display_name": run.display_name,
        "state": str(run.state),
        "error": run.error,
        "outputs": run.outputs,
        "tasks": [
            {
                "path": t.path,
                "name": t.name,
                "kind": str(t.kind),
                "state": str(t.state),
                "attempts": t.attempts,
                "cache_hit": t.cache_hit,
                "start_time": when(t.started_at),
                "end_time": when(t.finished_at),
                "error": t.error,
            }
            for t in tasks
        ],
    }


def _drive(run_id: str, action: Any, *, as_json: bool, platform: Platform | None = None) -> None:
    """Drive the run on `platform` (default: one opened from the environment), then
    close it."""
    from dagyard.cli.progress import ProgressView
    from dagyard.service.platform import Platform

    if platform is None:
        try:
            platform = Platform.open(Settings.from_env())
        except DagyardError as e:
            errors.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(code=2) from e
    try:
        if as_json:
            run = action(platform, run_id)
        else:
            errors.print(f"run {run_id}")
            with ProgressView(platform.store, run_id, errors):
                run = action(platform, run_id)
    except KeyboardInterrupt:
        errors.print(f"[yellow]Run {run_id} canceled.[/]")
        raise typer.Exit(code=130) from None
    except DagyardError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=2) from e
    finally:
        tasks = platform.store.list_tasks(run_id)
        platform.close()
    if as_json:
        console.print_json(json.dumps(run_record(run, tasks), default=str))
    else:
        colour = "green" if run.state == RunState.SUCCEEDED else "red"
        errors.print()
        errors.print(f"Run {run.run_id} [{colour}]{run.state}[/]")
        if run.outputs:
            console.print(json.dumps(run.outputs, default=str))
        if run.error:
            errors.print(run.error, highlight=False, markup=False)
    raise typer.Exit(code=0 if run.state == RunState.SUCCEEDED else 1)


def run_command(
    pipeline: Annotated[Path, typer.Argument(help="Compiled IR (.yaml) or a .py pipeline.")],
    parameter: Annotated[
        list[str] | None, typer.Option("-p", "--parameter", help="NAME=VALUE, repeatable.")
    ] = None,
    function: Annotated[str | None, typer.Option(help="The pipeline, if several.")] = None,
    experiment: Annotated[str, typer.Option(help="Experiment to file the run under.")] = "Default",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every task.")] = False,
    max_cache_staleness: Annotated[
        float | None, typer.Option(help="Reuse cached results at most this many seconds old.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final run record.")] = False,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
) -> None:
    """Run a pipeline from this machine and wait for it; exit 0 only if it succeeded."""
    from dagyard.service import leases, runs
    from dagyard.service.platform import Platform

    # The run is stored already claimed by this process, so that a server's run worker
    # on the same database never starts it before the driver below does.
    owner = leases.new_owner()
    try:
        settings = settings_for(None, None, executor=executor, ray_address=ray_address)
        spec = runs.load_pipeline_spec(pipeline, function)
        # Opened before submitting: an unreachable Ray cluster stores no run.
        platform = Platform.open(settings)
        try:
            run = runs.submit_run(
                platform,
                spec,
                parameters=_parameters(parameter or []),
                experiment=experiment,
                cache_enabled=not no_cache,
                max_cache_staleness_seconds=max_cache_staleness,
                from_text=True,
                lease_owner=owner,
            )
        except BaseException:
            platform.close()
            raise
    except DagyardError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=2) from e
    _drive(
        run.run_id,
        functools.partial(runs.drive_run, owner=owner),
        as_json=as_json,
        platform=platform,
    )


@runs_app.command("resume")
def resume_command(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Continue a run whose process died (not one that another process drives)."""
    from dagyard.service import runs

    _drive(run_id, runs.resume_run, as_json=as_json)


@runs_app.command("retry")
def retry_command(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-run a failed run from the point of failure."""
    from dagyard.service import runs

    _drive(run_id, runs.retry_run, as_json=as_json)


@runs_app.command("why")
def why_command(run_id: str, task: str) -> None:
    """Say why a task was, or was not, served from the cache."""
    from dagyard.service import runs
    from dagyard.service.platform import Platform
    from dagyard.settings import Settings

    platform = Platform.open(Settings.from_env())
    try:
        found = runs.why_cached(platform, run_id, task)
    except DagyardError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=2) from e
    finally:
        platform.close()
    console.print(f"{found.path}: {found.cache_reason or 'no cache decision recorded'}")
    if found.fingerprint:
        console.print(f"fingerprint {found.fingerprint}")
