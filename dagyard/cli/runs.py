"""`dagyard run` and `dagyard runs ...`: thin shells over `dagyard.service.runs`."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dagyard.cli import exit_codes
from dagyard.cli.up import ExecutorOption, RayAddressOption, settings_for
from dagyard.errors import DagyardError, StoreUnavailable, UsageError
from dagyard.store.records import Run, RunState

if TYPE_CHECKING:
    from dagyard.cli.shell import Output
    from dagyard.service.platform import Platform
    from dagyard.store.listing import ListQuery

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


def open_platform(home: Path | None = None) -> Platform:
    """The platform of `home` (default: the environment's, DAGYARD_HOME), or the command
    ends with the error's exit code."""
    from dagyard.service.platform import Platform

    try:
        return Platform.open(settings_for(home, None))
    except DagyardError as e:
        raise exit_codes.fail(e, errors) from e


@contextlib.contextmanager
def home_platform(home: Path | None = None) -> Iterator[Platform]:
    """`open_platform` for one command, closed at its end."""
    platform = open_platform(home)
    try:
        yield platform
    finally:
        platform.close()


def _drive(
    run_id: str,
    action: Any,
    *,
    as_json: bool,
    follow: bool = False,
    platform: Platform | None = None,
) -> None:
    """Drive the run on `platform` (default: one opened from the environment) with a
    view of its progress, print how it ended, and close the platform."""
    from dagyard.cli.progress import ProgressView, print_summary

    platform = platform or open_platform()
    try:
        if not as_json:
            errors.print(f"run {run_id}")
        # With --json, stdout holds the record only: followed output goes to stderr.
        view = ProgressView(
            platform, run_id, errors, follow=follow, output=errors if as_json else console
        )
        before = platform.store.get_run(run_id)
        try:
            with view:
                run = action(platform, run_id)
        except KeyboardInterrupt:
            errors.print(f"[yellow]Run {run_id} canceled.[/]")
            raise typer.Exit(code=exit_codes.INTERRUPTED) from None
        except StoreUnavailable as e:
            raise exit_codes.fail(StoreUnavailable(left_unfinished(run_id)), errors) from e
        except DagyardError as e:
            run = _ended_by(platform, before, e)
        tasks = platform.store.list_tasks(run_id)
        if as_json:
            console.print_json(json.dumps(run_record(run, tasks), default=str))
        else:
            print_summary(platform, run, tasks, errors)
            if run.outputs:
                console.print(json.dumps(run.outputs, default=str))
    finally:
        platform.close()
    succeeded = run.state == RunState.SUCCEEDED
    raise typer.Exit(code=exit_codes.SUCCESS if succeeded else exit_codes.RUN_NOT_SUCCEEDED)


def _ended_by(platform: Platform, before: Run, error: DagyardError) -> Run:
    """The run that `error` ended while it was driven (the engine records such a run
    FAILED, its unfinished tasks closed): it is shown and exits as any failed run does,
    with the error on stderr. An error that left the run unfinished, or came before
    anything was driven (the run as it was `before`), ends the command with the error's
    own code."""
    try:
        run = platform.store.get_run(before.run_id)
    except DagyardError:
        raise exit_codes.fail(error, errors) from error
    untouched = (run.state, run.finished_at) == (before.state, before.finished_at)
    if not run.state.terminal or untouched:
        raise exit_codes.fail(error, errors) from error
    errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    return run


def left_unfinished(run_id: str) -> str:
    """What `dagyard run`, `runs resume` and `runs retry` say of a run they leave
    unfinished because a store stopped answering. It names no URL: the warnings logged
    meanwhile say which store, and why."""
    return (
        f"Run {run_id} is left unfinished: the metadata database (or the artifact store) "
        "did not answer for too long. Nothing of the run was canceled, and the tasks "
        "that finished are kept. Once the store answers again, continue the run with "
        f"`dagyard runs resume {run_id}`."
    )


JsonOption = Annotated[bool, typer.Option("--json", help="Print the final run record.")]
FollowOption = Annotated[
    bool,
    typer.Option(
        "--follow", "-f", help="Print each task's output as it comes, prefixed with its path."
    ),
]


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
    as_json: JsonOption = False,
    follow: FollowOption = False,
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
        raise exit_codes.fail(e, errors) from e
    _drive(
        run.run_id,
        functools.partial(runs.drive_run, owner=owner),
        as_json=as_json,
        follow=follow,
        platform=platform,
    )


RunRef = Annotated[
    str, typer.Argument(metavar="RUN", help="The run's id, or enough of its start to be unique.")
]


def _resolved(platform: Platform, ref: str) -> str:
    from dagyard.service import runs

    try:
        return runs.resolve_run_id(platform, ref)
    except DagyardError as e:
        platform.close()
        raise exit_codes.fail(e, errors) from e


def _drive_stored(run_ref: str, action_name: str, *, as_json: bool, follow: bool) -> None:
    """Drive the home's run `run_ref` with `dagyard.service.runs.<action_name>`."""
    from dagyard.service import runs

    platform = open_platform()
    run_id = _resolved(platform, run_ref)
    _drive(run_id, getattr(runs, action_name), as_json=as_json, follow=follow, platform=platform)


@runs_app.command("resume")
def resume_command(
    run_id: RunRef, as_json: JsonOption = False, follow: FollowOption = False
) -> None:
    """Continue a run whose process died (not one that another process drives)."""
    _drive_stored(run_id, "resume_run", as_json=as_json, follow=follow)


@runs_app.command("retry")
def retry_command(
    run_id: RunRef, as_json: JsonOption = False, follow: FollowOption = False
) -> None:
    """Re-run a failed run from the point of failure."""
    _drive_stored(run_id, "retry_run", as_json=as_json, follow=follow)


@runs_app.command("why")
def why_command(run_id: RunRef, task: str) -> None:
    """Say why a task was, or was not, served from the cache."""
    from dagyard.service import runs

    platform = open_platform()
    try:
        found = runs.why_cached(platform, _resolved(platform, run_id), task)
    except DagyardError as e:
        raise exit_codes.fail(e, errors) from e
    finally:
        platform.close()
    console.print(f"{found.path}: {found.cache_reason or 'no cache decision recorded'}")
    if found.fingerprint:
        console.print(f"fingerprint {found.fingerprint}")


# -- reading the home's runs, without a server (`runs list|logs --local`) -----------

LocalOption = Annotated[
    bool,
    typer.Option(
        "--local", help="Read this machine's home (DAGYARD_HOME) instead of asking a server."
    ),
]
HomeOption = Annotated[
    Path | None,
    typer.Option(help="Read this Dagyard home instead of asking a server (implies --local)."),
]
# Shown run ids start this long, and grow where two listed runs share the start.
SHORT_ID = 8


def short_ids(run_ids: list[str]) -> dict[str, str]:
    """Each id cut to the shortest start (at least SHORT_ID characters) that no other id
    of `run_ids` shares."""
    shown = {}
    for run_id in run_ids:
        length = SHORT_ID
        while any(o != run_id and o[:length] == run_id[:length] for o in run_ids):
            length += 1
        shown[run_id] = run_id[:length]
    return shown


def list_local(
    home: Path | None,
    *,
    output: Output,
    experiment_id: str | None,
    query: ListQuery,
) -> None:
    """`runs list --local`: the home's runs, newest first unless sorted otherwise."""
    from dagyard.cli.shell import more, show, when
    from dagyard.service import runs

    platform = open_platform(home)
    try:
        page = runs.list_runs(platform, query, experiment_id=experiment_id)
    except DagyardError as e:
        raise exit_codes.fail(e, errors) from e
    finally:
        platform.close()
    shown = short_ids([r.run_id for r in page.records])
    rows = []
    for r in page.records:
        took = ""
        if r.created_at and r.finished_at:
            took = f"{(r.finished_at - r.created_at).total_seconds():.1f}s"
        rows.append([shown[r.run_id], r.display_name, str(r.state), when(r.created_at), took])
    # The records without their pipeline specs, which `runs get` shows.
    listed = [
        {
            "run_id": r.run_id,
            "display_name": r.display_name,
            "state": r.state,
            "experiment_id": r.experiment_id,
            "created_at": r.created_at,
            "finished_at": r.finished_at,
            "error": r.error,
        }
        for r in page.records
    ]
    value = {"runs": listed, "total_size": page.total_size, "next_page_token": page.next_page_token}
    show(output, value, ("run", "name", "state", "created at", "took"), rows)
    more(page.next_page_token)


def logs_local(
    home: Path | None,
    run_ref: str,
    task: str,
    *,
    attempt: int | None,
    follow: bool,
    poll_seconds: float = 0.5,
) -> None:
    """`runs logs --local`: a task's log read from the home, as the server's route reads
    it; with `follow`, until the task ends (waiting for it to start)."""
    import time

    from dagyard.errors import NotFound
    from dagyard.service import logs, runs

    platform = open_platform(home)
    try:
        run_id = runs.resolve_run_id(platform, run_ref)
        offset = 0
        while True:
            try:
                chunk = logs.read_log(platform, run_id, task, attempt=attempt, offset=offset)
            except NotFound:
                # Following a task that does not exist yet: wait while the run goes on.
                if not follow or platform.store.get_run(run_id).state.terminal:
                    raise
                time.sleep(poll_seconds)
                continue
            if chunk.text:
                typer.echo(chunk.text, nl=False)
            offset = chunk.next_offset
            if chunk.complete or (not follow and offset >= chunk.size):
                return
            if offset >= chunk.size:
                time.sleep(poll_seconds)
    except DagyardError as e:
        raise exit_codes.fail(e, errors) from e
    except KeyboardInterrupt:
        raise typer.Exit(code=exit_codes.INTERRUPTED) from None
    finally:
        platform.close()
