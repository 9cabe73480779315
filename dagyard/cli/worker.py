"""`dagyard worker`: an orchestrator without the API — the run worker and the
recurring-run scheduler — for extra machines that share a server's database."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from dagyard.cli import log_setup
from dagyard.cli.log_setup import LogFormat, LogLevel
from dagyard.cli.up import ExecutorOption, RayAddressOption, settings_for
from dagyard.errors import DagyardError

errors = Console(stderr=True)


def worker_command(
    home: Annotated[Path | None, typer.Option(help="Dagyard home (default ~/.dagyard).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Metadata database URL (default SQLite in the home).")
    ] = None,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
    log_level: log_setup.LevelOption = LogLevel.info,
    log_format: log_setup.FormatOption = LogFormat.text,
) -> None:
    """Execute the database's runs and recurring runs here, until Ctrl-C or SIGTERM."""
    from dagyard.service.platform import Platform
    from dagyard.service.recurring import scheduler_for
    from dagyard.service.worker import RunWorker

    log_setup.configure(log_level, log_format)
    try:
        settings = settings_for(home, database_url, executor=executor, ray_address=ray_address)
        platform = Platform.open(settings)
    except DagyardError as e:
        raise log_setup.fail(e, log_format, logger="dagyard.worker", console=errors) from e
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker = RunWorker(platform).start()
    scheduler = scheduler_for(platform)
    scheduler.start()
    logging.getLogger("dagyard.worker").info(
        "Dagyard worker %s (home %s, database %s, leases of %g s)",
        worker.owner,
        settings.home,
        settings.database_url.split("@")[-1],
        settings.lease_seconds,
    )
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        scheduler.stop()
        worker.stop()
        platform.close()
