"""Opening a metadata database: URLs, engines, and the per-backend connection settings.

Accepted URLs: `sqlite:///path/to/dagyard.db` (the default, see `default_database_url`),
`postgresql://...` (driver psycopg 3) and `mysql://...` or `mariadb://...` (driver
PyMySQL). This module knows backends apart; the store above it does not, apart from
transactions that write on SQLite (see `write_engine`).

SQLite settings, per connection: WAL (readers never wait for the writer), foreign keys on,
a 30 s busy timeout (another with the URL's `timeout` query parameter, in seconds:
`sqlite:////path/dagyard.db?timeout=5`), synchronous=NORMAL (in WAL mode this survives a
killed process; a power cut may lose the last commits but does not corrupt the file).
Transactions that write begin with BEGIN IMMEDIATE: a deferred transaction that reads
and then writes fails at once with "database is locked" when another connection wrote
meanwhile, instead of waiting for the lock.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine

from dagyard.errors import StoreError

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10
_DRIVERS = {
    "postgresql": ("postgresql+psycopg", "psycopg[binary]"),
    "postgres": ("postgresql+psycopg", "psycopg[binary]"),
    "mysql": ("mysql+pymysql", "pymysql"),
    "mariadb": ("mariadb+pymysql", "pymysql"),
}
# Execution option set on the engine whose transactions write (used on SQLite only).
_IMMEDIATE = "dagyard_sqlite_begin_immediate"


def default_database_url(home: Path) -> str:
    """The embedded database of a Dagyard home: `sqlite:///<home>/dagyard.db`."""
    return f"sqlite:///{(home.expanduser().absolute() / 'dagyard.db').as_posix()}"


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for `url`, with Dagyard's driver for a bare backend name."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as error:
        raise StoreError(
            f"{url!r} is not a database URL; use e.g. 'sqlite:////path/to/dagyard.db' "
            "or 'postgresql://user:password@host:5432/dagyard'."
        ) from error
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername][0])
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def safe_url(url: URL) -> str:
    """The URL to show in messages: the password masked."""
    return url.render_as_string(hide_password=True)


def create_engine(url: URL) -> Engine:
    """An engine with Dagyard's settings for the URL's backend (nothing is opened yet)."""
    backend = url.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(url)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        return sa.create_engine(
            url, pool_pre_ping=True, pool_recycle=3600, connect_args=connect_args
        )
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError) as error:
        package = _DRIVERS.get(backend, ("", "the database driver"))[1]
        raise StoreError(
            f"Cannot open {safe_url(url)}: its database driver is missing ({error}). "
            f"Install it with `pip install '{package}'`, or use a sqlite:/// URL."
        ) from error


def write_engine(engine: Engine) -> Engine:
    """The same engine (and pool), for transactions that will write."""
    return engine.execution_options(**{_IMMEDIATE: True})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def foreign_keys_off(connection: sa.Connection) -> Iterator[None]:
    """SQLite's foreign keys not enforced while a migration runs; enter it before the
    migration's transaction begins (SQLite ignores the switch inside one). SQLite alters
    a table by copying it and dropping the old one (Alembic's batch mode), and with the
    keys enforced, dropping `runs` or `tasks` would delete every row that points at them.
    What the copies hold is checked before the caller commits. Other databases: nothing."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def check_foreign_keys(connection: sa.Connection) -> None:
    """On SQLite, a StoreError if a row points at one that does not exist (after a
    migration that ran with `foreign_keys_off`)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(
            f"A migration left {len(broken)} rows pointing at rows that do not exist "
            f"(first: {tuple(broken[0])}); nothing of it was kept."
        )


def connection_error(url: URL, error: Exception) -> StoreError:
    """A StoreError for a database that cannot be reached or opened, saying what to do."""
    cause = getattr(error, "orig", None) or error
    if url.get_backend_name() == "sqlite":
        fix = (
            f"Check that {url.database} is a SQLite database file in a folder you can write, "
            "or point the URL at another file."
        )
    else:
        fix = (
            "Check that the database server is running and reachable from here, that the "
            "user, password and database in the URL are right, and that the database exists."
        )
    return StoreError(f"Cannot use the metadata database {safe_url(url)}: {cause}. {fix}")


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StoreError(
            f"{safe_url(url)} is not a SQLite file: the store is shared by threads and "
            "processes, so it needs one, e.g. 'sqlite:////tmp/dagyard/dagyard.db'."
        )
    path = Path(database).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise connection_error(url, error) from error
    timeout = _busy_timeout(url)
    engine = sa.create_engine(
        url.set(database=str(path)).difference_update_query(["timeout"]),
        connect_args={"timeout": timeout, "check_same_thread": False},
    )
    event.listen(engine, "connect", functools.partial(_on_sqlite_connect, timeout=timeout))
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _busy_timeout(url: URL) -> float:
    """How long a SQLite connection waits for a lock: the URL's `timeout` (seconds)."""
    text = url.query.get("timeout")
    if text is None:
        return SQLITE_BUSY_TIMEOUT_SECONDS
    try:
        timeout = float(text if isinstance(text, str) else text[-1])
    except ValueError:
        timeout = -1.0
    if not timeout >= 0:  # also NaN
        raise StoreError(
            f"The SQLite URL's timeout={text!r} is not a number of seconds; give e.g. "
            "'?timeout=5', or leave it out for the default of "
            f"{SQLITE_BUSY_TIMEOUT_SECONDS:g} s."
        )
    return timeout


def _on_sqlite_connect(
    dbapi_connection: sqlite3.Connection, _record: object, *, timeout: float
) -> None:
    # Transactions are begun by _on_sqlite_begin, not implicitly by the driver (whose
    # implicit BEGIN is deferred and skips DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            _switch_to_wal(cursor, timeout)
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor, timeout: float) -> None:
    """Put a new database file in WAL mode (it stays so). Openers racing on a new file may
    find it locked by another doing the same or migrating, and SQLite may say so at once
    instead of waiting: try again until one of them has switched it, within the busy
    timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return
        time.sleep(0.01)  # a back-off between tries of a lock, not a wait for a result


def _on_sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    # On the driver's connection: run through SQLAlchemy, this cost as much as a write.
    try:
        connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as error:  # e.g. locked past the busy timeout: as SQLAlchemy says it
        raise sa.exc.DBAPIError.instance(statement, (), error, sqlite3.Error) from error
