"""`dagyard secrets` and `dagyard configmaps`: set, list and delete the named values tasks
read through kfp-kubernetes' settings. Shells over `dagyard.service.secrets`; a secret's
values are never printed (its keys are), a config map's are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from dagyard.cli import exit_codes
from dagyard.cli.runs import home_platform
from dagyard.errors import DagyardError
from dagyard.store.records import ValuesKind

if TYPE_CHECKING:
    pass

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True)

HomeOption = Annotated[Path | None, typer.Option(help="Dagyard home (default ~/.dagyard).")]
NamespaceOption = Annotated[
    str, typer.Option(help="The namespace: that of the runs' experiments (default: none).")
]


def values_app(kind: ValuesKind) -> typer.Typer:
    """The command group of one kind of named values."""
    noun = kind.value.replace("_", " ")
    app = typer.Typer(help=f"The {noun}s tasks read (kfp-kubernetes).", no_args_is_help=True)

    @app.command("set")
    def set_command(
        name: Annotated[str, typer.Argument(help="Its name.")],
        pairs: Annotated[list[str], typer.Argument(help="Its values, as KEY=VALUE.")],
        namespace: NamespaceOption = "",
        home: HomeOption = None,
    ) -> None:
        """Create the named values, or replace all of them."""
        from dagyard.service import secrets

        with home_platform(home) as platform:
            try:
                stored = secrets.set_values(
                    platform, kind, name, secrets.parse_pairs(pairs), namespace=namespace
                )
            except DagyardError as e:
                raise exit_codes.fail(e, errors) from e
        console.print(f"{noun} {stored.name}: {', '.join(sorted(stored.data))}")

    @app.command("list")
    def list_command(namespace: NamespaceOption = "", home: HomeOption = None) -> None:
        """Their names and keys (and a config map's values)."""
        from dagyard.service import secrets

        with home_platform(home) as platform:
            try:
                found = secrets.list_values(platform, kind, namespace=namespace)
            except DagyardError as e:
                raise exit_codes.fail(e, errors) from e
        for values in found:
            if kind is ValuesKind.SECRET:
                console.print(f"{values.name}: {', '.join(sorted(values.data))}")
            else:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(values.data.items()))
                console.print(f"{values.name}: {shown}")

    @app.command("delete")
    def delete_command(
        name: Annotated[str, typer.Argument(help="Its name.")],
        namespace: NamespaceOption = "",
        home: HomeOption = None,
    ) -> None:
        """Delete the named values."""
        from dagyard.service import secrets

        with home_platform(home) as platform:
            try:
                secrets.delete_values(platform, kind, name, namespace=namespace)
            except DagyardError as e:
                raise exit_codes.fail(e, errors) from e
        console.print(f"deleted {noun} {name}")

    return app
