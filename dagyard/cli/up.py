"""`dagyard up`: the platform in one process — the REST API (and the UI's files), the
run worker and the recurring-run scheduler — on 127.0.0.1 by default."""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from dagyard.cli import log_setup
from dagyard.cli.log_setup import LogFormat, LogLevel
from dagyard.errors import DagyardError, UsageError
from dagyard.settings import Settings

if TYPE_CHECKING:
    from dagyard.server.auth import UserHeader

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


# A token shorter than this is guessable; `dagyard up` warns about it.
MIN_TOKEN_LENGTH = 16
_NEW_TOKEN = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _token(home: Path, log: logging.Logger) -> str | None:
    """The API token, from DAGYARD_AUTH_TOKEN or else `<home>/token`; a weak one (short,
    or in a file others may read) is used, with a warning saying how to fix it."""
    token = os.environ.get("DAGYARD_AUTH_TOKEN", "").strip()
    where = "DAGYARD_AUTH_TOKEN"
    if not token:
        path = home / "token"
        if not path.exists():
            return None
        token = path.read_text().strip()
        where = str(path)
        if token and path.stat().st_mode & 0o077:
            log.warning(
                "The API token file %s can be read by other users of this machine; "
                "make it yours alone: chmod 600 %s",
                path,
                path,
            )
    if token and len(token) < MIN_TOKEN_LENGTH:
        log.warning(
            "The API token in %s has %d characters, easy to guess; use at least %d, "
            "for example the output of: %s",
            where,
            len(token),
            MIN_TOKEN_LENGTH,
            _NEW_TOKEN,
        )
    return token or None


def _user_header(settings: Settings, host: str) -> UserHeader | None:
    """The proxy's user header as the settings give it (None: off). Refused on an
    address other than loopback unless the proxies it is believed from are named: anyone
    who reaches the port could otherwise name any user."""
    if not settings.user_header:
        return None
    from dagyard.server.auth import UserHeader
    from dagyard.service.tenancy import load_users

    if not _loopback(host) and not settings.trusted_proxies:
        raise UsageError(
            f"DAGYARD_USER_HEADER on {host} needs DAGYARD_TRUSTED_PROXIES, the addresses of "
            "the proxies that set it: a client reaching the port directly could otherwise "
            "name any user."
        )
    assert settings.user_namespaces is not None  # Settings checks it
    return UserHeader(
        header=settings.user_header,
        users=load_users(settings.user_namespaces),
        trusted=frozenset(settings.trusted_proxies),
    )


def allowed_hosts(*, host: str, configured: Sequence[str]) -> list[str]:
    """The hosts the API may be reached under, besides the loopback names: those
    configured, and the address it listens on. Listening on every interface (0.0.0.0 or
    ::) with none configured, any host: the names it is reached under cannot be known
    here, and such a server needs a token (or --insecure)."""
    hosts = list(configured)
    if _wildcard(host) and not hosts:
        return ["*"]
    if not _loopback(host):
        hosts.append(host)
    return hosts


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


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


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, handed to uvicorn as it is: a port taken by
    another process is found here, and none can take it between a check and the bind."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as e:
        raise UsageError(
            f"Cannot listen on {host!r}: {e.strerror}. Give an address of this machine "
            "with --host, e.g. --host 127.0.0.1."
        ) from e
    listener = socket.socket(family, kind, proto)
    # As uvicorn does: a port held only by closed connections (TIME_WAIT) can be reused.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as e:
        listener.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is in use; pick another with --port, "
                f"e.g. --port {_free_port_after(family, address, port)}"
            ) from e
        if e.errno == errno.EACCES:
            raise UsageError(
                f"port {port} on {host} needs privileges to listen on; pick one above "
                "1023 with --port, e.g. --port 8888"
            ) from e
        raise UsageError(
            f"Cannot listen on {host} port {port}: {e.strerror}. Check --host and --port."
        ) from e
    return listener


def _free_port_after(family: int, address: tuple[Any, ...], port: int) -> int:
    """The first port after `port` that can be bound now (`port + 1` if none of the next
    few can): a suggestion only."""
    for candidate in range(port + 1, min(port + 20, 65535) + 1):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address[0], candidate, *address[2:]))
            except OSError:
                continue
            return candidate
    return port + 1


def up_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8888,
    home: Annotated[Path | None, typer.Option(help="Dagyard home (default ~/.dagyard).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Metadata database URL (default SQLite in the home).")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Load the samples and start a run of each.")] = False,
    insecure: Annotated[
        bool, typer.Option(help="Allow a non-loopback address without an API token.")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            help="A host name (or address, *.domain, *) the API may be reached under "
            "besides localhost; repeat for several (DAGYARD_ALLOWED_HOSTS).",
        ),
    ] = None,
    executor: ExecutorOption = None,
    ray_address: RayAddressOption = None,
    log_level: log_setup.LevelOption = LogLevel.info,
    log_format: log_setup.FormatOption = LogFormat.text,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (the UI polls: many lines).")
    ] = False,
) -> None:
    """Start the platform: API, run worker and scheduler, until Ctrl-C or SIGTERM."""
    import uvicorn

    from dagyard.service.platform import Platform
    from dagyard.service.recurring import scheduler_for
    from dagyard.service.worker import RunWorker

    log_setup.configure(log_level, log_format)
    log = logging.getLogger("dagyard.up")
    try:
        settings = settings_for(home, database_url, executor=executor, ray_address=ray_address)
        token = _token(settings.home, log)
        user_header = _user_header(settings, host)
        if not _loopback(host) and token is None and user_header is None and not insecure:
            raise UsageError(
                f"Refusing to listen on {host} without an API token: anyone who can reach "
                "it could run code here. Set DAGYARD_AUTH_TOKEN (or write a token to "
                f"{settings.home / 'token'}), or pass --insecure."
            )
        listener = _listen(host, port)
    except DagyardError as e:
        raise _fail(e, log_format) from e
    try:
        platform = Platform.open(settings)
    except DagyardError as e:
        listener.close()
        raise _fail(e, log_format) from e
    from dagyard.server.app import create_app

    worker = RunWorker(platform).start()
    scheduler = scheduler_for(platform)
    scheduler.start()
    if demo:
        from dagyard.service.demo_data import load_demo

        for run in load_demo(platform):
            log.info("demo run %s (%s) submitted", run.run_id, run.display_name)
        worker.wake()
    hosts = allowed_hosts(host=host, configured=[*settings.allowed_hosts, *(allowed_host or [])])
    if "*" in hosts:
        log.info("Accepting any Host header; name the server's hosts with --allowed-host")
    app = create_app(platform, token=token, allowed_hosts=hosts, user_header=user_header)
    log.info(
        "Dagyard on http://%s:%d  (home %s, database %s)",
        host,
        listener.getsockname()[1],
        settings.home,
        settings.database_url.split("@")[-1],
    )
    # uvicorn logs through the loggers configured above (log_config=None).
    config = uvicorn.Config(app, log_config=None, log_level=log_level.value, access_log=access_log)
    log_setup.show_access_log(access_log)
    # uvicorn catches SIGINT/SIGTERM, stops accepting and lets requests finish, then
    # raises the signal again with the handler it found: this one turns SIGTERM into a
    # clean exit, so the worker and the stores below are shut down in order.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        scheduler.stop()
        worker.stop()
        platform.close()


def _fail(error: DagyardError, log_format: LogFormat) -> typer.Exit:
    return log_setup.fail(error, log_format, logger="dagyard.up", console=errors)
