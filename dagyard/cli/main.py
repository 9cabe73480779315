"""Entry point of the `dagyard` command. Each command parses its arguments, calls one
function, and formats the result; no logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dagyard.errors import DagyardError

app = typer.Typer(
    name="dagyard",
    help="Dagyard: Kubeflow-Pipelines-compatible ML pipelines that run anywhere.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True)


def _fail(error: DagyardError) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
    return typer.Exit(code=2)


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
    """Compile the sample pipeline, validate it, and run one of its tasks."""
    from dagyard.demo import run_demo
    from dagyard.settings import Settings

    try:
        result = run_demo(Settings.from_env())
    except DagyardError as e:
        raise _fail(e) from e
    console.print(f"Compiled the sample pipeline to [bold]{result.ir_path}[/]")
    console.print(
        f"  {result.tasks} tasks, {result.components} components, "
        f"{result.executors} executors, {result.ir_bytes:,} bytes; valid IR."
    )
    console.print(
        f"Ran task [bold]{result.task_name}[/]{result.task_inputs} in a child process "
        f"through its compiled command: Output = [bold green]{result.task_output}[/]"
    )


def _register_runs() -> None:
    from dagyard.cli.runs import run_command, runs_app

    app.command("run")(run_command)
    app.add_typer(runs_app, name="runs")


_register_runs()


@app.command("version")
def version_command() -> None:
    """Print Dagyard's version."""
    from dagyard import __version__

    console.print(__version__)
