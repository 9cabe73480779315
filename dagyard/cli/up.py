"""`dagyard up`: the platform in one process — the REST API (and the UI's files), the
run worker and the recurring-run scheduler — on 127.0.0.1 by default."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from dagyard.errors import DagyardError, UsageError
from dagyard.settings import Settings

errors = Console(stderr=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token(home: Path) -> str | None:
    token = os.environ.get("DAGYARD_AUTH_TOKEN", "").strip()
    if token:
        return token
    path = home / "token"
    return path.read_text().strip() or None if path.exists() else None


def settings_for(
    home: Path | None,
    database_url: str | None,
    *,
    executor: str | None = None,
    ray_address: str | None = None,
) -> Settings:
    """The environment's settings, with the home, database and executor given on the
    command line (a new home also moves the database and artifacts, unless given)."""
    settings = Settings.from_env()
    if home is not None:
        settings = dataclasses.replace(
            settings, home=home.expanduser(), database_url=database_url or "", artifact_root=""
        )
    elif database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    if executor or ray_address:
        settings = dataclasses.replace(
            settings,
            executor=(executor or settings.executor).strip().lower(),
            ray_address=ray_address or settings.ray_address,
        )
    return settings


ExecutorOption = Annotated[
    str | None,
    typer.Option(help="Where tasks run: local (default; DAGYARD_EXECUTOR) or ray."),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(help="The Ray cluster's head, HOST:PORT (DAGYARD_RAY_ADDRESS)."),
]


def up_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8888,
    home: Annotated[Path | None, typer.Option(help="Dagyard home (default ~/.dagyard).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Metadata database URL (default SQLite in the home).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Load the samples and start a run of each.")] = False,
    insecure: Annotated[
        bool, typer.Option(help="Allow a non-loopback address without an API token.")
    ] = False,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
) -> None:
    """Start the platform: API, run worker and scheduler, until Ctrl-C or SIGTERM."""
    import uvicorn

    from dagyard.scheduler import Scheduler
    from dagyard.service.platform import Platform
    from dagyard.service.worker import RunWorker

    try:
        settings = settings_for(home, database_url, executor=executor, ray_address=ray_address)
        token = _token(settings.home)
        if not _loopback(host) and token is None and not insecure:
            raise UsageError(
                f"Refusing to listen on {host} without an API token: anyone who can reach "
                "it could run code here. Set DAGYARD_AUTH_TOKEN (or write a token to "
                f"{settings.home / 'token'}), or pass --insecure."
            )
        platform = Platform.open(settings)
    except DagyardError as e:
        errors.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(code=2) from e
    from dagyard.server.app import create_app

    worker = RunWorker(platform).start()
    scheduler = Scheduler(platform)
    scheduler.start()
    if demo:
        from dagyard.service.demo_data import load_demo

        for run in load_demo(platform):
            errors.print(f"demo run {run.run_id} ({run.display_name}) submitted")
        worker.wake()
    app = create_app(platform, token=token)
    errors.print(
        f"Dagyard on http://{host}:{port}  (home {settings.home}, database "
        f"{settings.database_url.split('@')[-1]})"
    )
    # uvicorn catches SIGINT/SIGTERM, stops accepting and lets requests finish, then
    # raises the signal again with the handler it found: this one turns SIGTERM into a
    # clean exit, so the worker and the stores below are shut down in order.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        worker.stop()
        platform.close()
