"""Entry point of the `dagyard` command. Each command parses its arguments, calls one
function, and formats the result; no logic lives here."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dagyard.cli import exit_codes
from dagyard.errors import DagyardError
from dagyard.store.records import RunState

if TYPE_CHECKING:
    from dagyard.demo import DemoSummary


class _Command(typer.Typer):
    """The `dagyard` command: an error nobody foresaw ends it with its own exit code,
    distinct from a run that failed."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception:
            traceback.print_exc()
            errors.print(
                "[bold red]error:[/] this is a bug in Dagyard; please report it with the "
                "traceback above.",
                highlight=False,
            )
            sys.exit(exit_codes.INTERNAL_ERROR)


app = _Command(
    name="dagyard",
    help="Dagyard: Kubeflow-Pipelines-compatible ML pipelines that run anywhere.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from dagyard.version import __version__

        typer.echo(f"dagyard {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Dagyard's version and exit.",
        ),
    ] = False,
) -> None:
    """Dagyard: Kubeflow-Pipelines-compatible ML pipelines that run anywhere."""


def _fail(error: DagyardError) -> typer.Exit:
    return exit_codes.fail(error, errors)


@app.command("compile")
def compile_command(
    file: Annotated[Path, typer.Argument(help="A .py file that defines a pipeline.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the IR YAML.")],
    function: Annotated[
        str | None, typer.Option("--function", help="The pipeline to compile, if several.")
    ] = None,
) -> None:
    """Compile a pipeline to Kubeflow Pipelines IR (PipelineSpec YAML)."""
    from dagyard.compiler import Compiler
    from dagyard.compiler.pipeline_file import load_pipeline

    try:
        pipeline = load_pipeline(file, function)
        Compiler().compile(pipeline, output)
    except DagyardError as e:
        raise _fail(e) from e
    console.print(f"Wrote [bold]{output}[/] ({pipeline.name}).", highlight=False)


@app.command("demo")
def demo_command() -> None:
    """Run the breast-cancer sample pipeline here, with a live view, and show its results."""
    from dagyard.cli.progress import ProgressView
    from dagyard.demo import submit_demo, summarize
    from dagyard.service import runs
    from dagyard.service.platform import Platform
    from dagyard.settings import Settings

    try:
        platform = Platform.open(Settings.from_env())
    except DagyardError as e:
        raise _fail(e) from e
    try:
        run = submit_demo(platform)
        errors.print(
            f"run {run.run_id} of the breast-cancer sample (the first run builds its Python "
            "environment: scikit-learn and pandas from PyPI)"
        )
        with ProgressView(platform, run.run_id, errors):
            runs.drive_run(platform, run.run_id)
        summary = summarize(platform, run.run_id)
    except KeyboardInterrupt:
        errors.print("[yellow]Demo canceled.[/]")
        raise typer.Exit(code=exit_codes.INTERRUPTED) from None
    except DagyardError as e:
        raise _fail(e) from e
    finally:
        platform.close()
    _print_demo(summary)
    raise typer.Exit(code=_run_code(summary.run.state))


def _run_code(state: RunState) -> int:
    succeeded = state == RunState.SUCCEEDED
    return exit_codes.SUCCESS if succeeded else exit_codes.RUN_NOT_SUCCEEDED


def _print_demo(summary: DemoSummary) -> None:
    run = summary.run
    took = ""
    if run.created_at and run.finished_at:
        took = f" in {(run.finished_at - run.created_at).total_seconds():.1f} s"
    colour = "green" if run.state == RunState.SUCCEEDED else "red"
    console.print(
        f"\nRun {run.run_id} [{colour}]{run.state}[/]{took}: {len(summary.tasks)} tasks, "
        f"{summary.cached} from the cache."
    )
    if run.error:
        errors.print(run.error, highlight=False, markup=False)
    if summary.metrics:
        console.print(
            "Metrics: " + ", ".join(f"{k} [bold]{v}[/]" for k, v in summary.metrics.items())
        )
    names, rows = summary.confusion_matrix
    if names:
        width = max(len(n) for n in names) + 2
        console.print("Confusion matrix (rows: actual, columns: predicted):")
        console.print(" " * width + "".join(n.rjust(width) for n in names), highlight=False)
        for name, row in zip(names, rows, strict=True):
            cells = "".join(str(v).rjust(width) for v in row)
            console.print(name.ljust(width) + cells, highlight=False)
    console.print("Where everything is:")
    places = {
        "pipeline IR": str(summary.ir_path),
        "database": summary.database_url,
        "artifacts": summary.run_root,
        "report": summary.artifacts["report"].uri if "report" in summary.artifacts else "",
        "environments": str(summary.environments),
    }
    for label, where in places.items():
        if where:
            console.print(f"  {label:<13} {where}", highlight=False)
    if summary.logs:
        console.print("  logs")
        width = max(len(task) for task in summary.logs) + 2
        for task, log in summary.logs.items():
            console.print(f"    {task:<{width}}{log}", highlight=False)
    console.print(
        "Run it again and unchanged tasks come from the cache; to see why a task was or "
        f"was not cached: `dagyard runs why {run.run_id} train-model`.",
        highlight=False,
    )


def _register_runs() -> None:
    from dagyard.cli import remote
    from dagyard.cli.runs import run_command, runs_app
    from dagyard.cli.tenancy import namespaces_app, tokens_app
    from dagyard.cli.up import up_command
    from dagyard.cli.values import values_app
    from dagyard.cli.worker import worker_command
    from dagyard.store.records import ValuesKind

    app.command("run")(run_command)
    app.add_typer(runs_app, name="runs")
    app.command("up")(up_command)
    app.command("worker")(worker_command)
    app.add_typer(values_app(ValuesKind.SECRET), name="secrets")
    app.add_typer(values_app(ValuesKind.CONFIG_MAP), name="configmaps")
    app.add_typer(namespaces_app, name="namespaces")
    app.add_typer(tokens_app, name="tokens")
    remote.register(app, runs_app)


_register_runs()


@app.command("doctor")
def doctor_command(
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Also start a container of this image (pulled if missing; Docker needs one).",
        ),
    ] = None,
) -> None:
    """Say where tasks run here: the container runtimes found, the one chosen, and whether
    a container starts. Exits 1 when the chosen runtime cannot run a container."""
    from dagyard.errors import ExecutorError
    from dagyard.executors import containers
    from dagyard.settings import Settings

    try:
        settings = Settings.from_env()
    except DagyardError as e:
        raise _fail(e) from e
    console.print(
        f"DAGYARD_CONTAINER_RUNTIME={settings.container_runtime}  "
        f"DAGYARD_TASK_ISOLATION={settings.task_isolation}",
        highlight=False,
    )
    found = containers.candidates()
    if not found:
        console.print("no podman or docker is installed", highlight=False)
    for path, runtime, reason in found:
        said = f"answers: {runtime.describe()}" if runtime else f"does not answer: {reason}"
        console.print(f"{path}: {said}", highlight=False)
    try:
        chosen = containers.find_runtime(settings.container_runtime)
    except ExecutorError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=exit_codes.RUN_NOT_SUCCEEDED) from e
    if chosen is None:
        lightweight = (
            "fail (image isolation needs a runtime)"
            if settings.task_isolation == "image"
            else "run on this machine's Python"
        )
        warned = "" if settings.container_runtime.lower() == "off" else " (with a warning)"
        console.print(
            f"no container runtime in use: container components run on this machine{warned}; "
            f"lightweight components {lightweight}",
            highlight=False,
        )
        raise typer.Exit(code=1 if settings.task_isolation == "image" else 0)
    console.print(
        f"chosen: {chosen.describe()}, with {' '.join(chosen.run_options)}", highlight=False
    )
    try:
        took = containers.try_container(chosen, image)
    except ExecutorError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=exit_codes.RUN_NOT_SUCCEEDED) from e
    where = f"of {image}" if image else "of this machine's programs"
    console.print(f"a test container {where} started and ended in {took:.2f} s", highlight=False)


@app.command("version")
def version_command() -> None:
    """Print Dagyard's version."""
    from dagyard.version import __version__

    console.print(__version__)
