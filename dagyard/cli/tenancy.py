"""`dagyard namespaces` and `dagyard tokens`: the home's namespaces and the tokens that
reach them. Shells over `dagyard.service.tenancy`, on the home's database. A new token is
printed once, alone on the last line of stdout (so `$(dagyard tokens create ...)` holds
it); nothing can print it again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from dagyard.cli import exit_codes
from dagyard.cli.runs import home_platform
from dagyard.errors import DagyardError

if TYPE_CHECKING:
    pass

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, highlight=False)

HomeOption = Annotated[Path | None, typer.Option(help="Dagyard home (default ~/.dagyard).")]

namespaces_app = typer.Typer(help="Namespaces: each team's own runs.", no_args_is_help=True)
tokens_app = typer.Typer(help="Namespace tokens (edit or view).", no_args_is_help=True)


@namespaces_app.command("create")
def create_namespace(
    name: Annotated[str, typer.Argument(help="Its name (a Kubernetes namespace's rules).")],
    home: HomeOption = None,
) -> None:
    """Create a namespace."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            tenancy.create_namespace(platform, name)
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    console.print(f"created namespace {name}")


@namespaces_app.command("list")
def list_namespaces(home: HomeOption = None) -> None:
    """The namespaces, with how many working tokens each has."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            found = tenancy.list_namespaces(platform)
            tokens = tenancy.list_tokens(platform)
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    for namespace in found:
        working = sum(1 for t in tokens if t.namespace == namespace.name and t.revoked_at is None)
        console.print(f"{namespace.name}  ({working} token{'s' if working != 1 else ''})")


@namespaces_app.command("delete")
def delete_namespace(
    name: Annotated[str, typer.Argument(help="Its name.")], home: HomeOption = None
) -> None:
    """Delete a namespace and its tokens (refused while it holds pipelines, experiments or
    recurring runs)."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            tenancy.delete_namespace(platform, name)
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    console.print(f"deleted namespace {name}")


@tokens_app.command("create")
def create_token(
    namespace: Annotated[str, typer.Option("--namespace", help="The namespace it reaches.")],
    role: Annotated[str, typer.Option("--role", help="edit (read and change) or view.")],
    name: Annotated[str, typer.Option("--name", help="A label to tell it by.")] = "",
    expires: Annotated[
        str | None, typer.Option("--expires", help="Its lifetime: 12h, 30d, 8w (default: none).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Make a token; it is printed once, on the last line."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            record, token = tenancy.create_token(
                platform, namespace, role, label=name, expires_in=expires
            )
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    until = f", expires {record.expires_at:%Y-%m-%d %H:%M} UTC" if record.expires_at else ""
    errors.print(
        f"token {record.token_id} ({record.role.value} in {record.namespace}{until}); it is "
        "shown once, below: keep it now."
    )
    typer.echo(token)


@tokens_app.command("list")
def list_tokens(
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Only this namespace's.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """The tokens (never the tokens themselves: their ids, roles and dates)."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            found = tenancy.list_tokens(platform, namespace)
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    for token in found:
        state = (
            f"revoked {token.revoked_at:%Y-%m-%d %H:%M}"
            if token.revoked_at
            else f"expires {token.expires_at:%Y-%m-%d %H:%M}"
            if token.expires_at
            else "no expiry"
        )
        label = f"  {token.label}" if token.label else ""
        console.print(
            f"{token.token_id}  {token.namespace}  {token.role.value}  "
            f"created {token.created_at:%Y-%m-%d %H:%M}  {state}{label}"
        )


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="Its id (`dagyard tokens list`).")],
    home: HomeOption = None,
) -> None:
    """Revoke a token: a server stops taking it within two seconds."""
    from dagyard.service import tenancy

    with home_platform(home) as platform:
        try:
            tenancy.revoke_token(platform, token_id)
        except DagyardError as e:
            raise exit_codes.fail(e, errors) from e
    console.print(f"revoked token {token_id}")
