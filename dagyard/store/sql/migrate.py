"""Bringing a metadata database to the newest schema with Alembic.

The revisions live in `dagyard/store/migrations/` (inside the package, so an installed
wheel can migrate). `upgrade(engine)` runs on every open: it checks the stored revision
and does nothing more when it is current. Concurrent openers queue instead of
migrating twice: SQLite through the database file's write lock (BEGIN IMMEDIATE, DDL is
transactional there), PostgreSQL through a transaction-scoped advisory lock, MySQL and
MariaDB through a named lock (GET_LOCK; their DDL commits implicitly).

To write a new revision after changing `schema.py`:

    from alembic import command
    command.revision(alembic_config("sqlite:////tmp/x.db"), "add runs.foo", autogenerate=True)

(after `upgrade` of that database), then edit the generated file and name it like the
first one (`vNNNN_<what>.py`, `revision = "NNNN"`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from dagyard.errors import StoreError
from dagyard.store.sql import database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed number: the key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x646167796172
_MYSQL_LOCK_NAME = "dagyard_schema_migration"
_MYSQL_LOCK_TIMEOUT_SECONDS = 120


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for Dagyard's revisions (and `url`, for the CLI's use)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision of the schema."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise StoreError(f"No schema migrations found in {MIGRATIONS}; reinstall dagyard.")
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The revision a database is at (None: no schema yet)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision, unless it is there already."""
    head = head_revision()
    with engine.connect() as connection:  # the quick check of every open: a plain read
        current = current_revision(connection)
        connection.rollback()
    if current == head:
        return
    if database.is_sqlite(engine):
        engine = database.write_engine(engine)
    with engine.connect() as connection, _migration_lock(connection), connection.begin():
        if engine.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        current = current_revision(connection)  # again: another opener may have migrated
        if current == head:
            return
        if current is not None and current not in _known_revisions():
            raise StoreError(
                f"The metadata database is at schema revision {current!r}, which this "
                "version of dagyard does not know: upgrade dagyard to open it."
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


@contextlib.contextmanager
def _migration_lock(connection: sa.Connection) -> Iterator[None]:
    """MySQL's named lock around a migration (other backends lock inside the transaction)."""
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    got = connection.execute(
        sa.select(sa.func.get_lock(_MYSQL_LOCK_NAME, _MYSQL_LOCK_TIMEOUT_SECONDS))
    ).scalar()
    connection.commit()
    if got != 1:
        raise StoreError(
            f"Another process has been migrating the metadata database for more than "
            f"{_MYSQL_LOCK_TIMEOUT_SECONDS} s; retry, or check that process."
        )
    try:
        yield
    finally:
        connection.execute(sa.select(sa.func.release_lock(_MYSQL_LOCK_NAME)))
        connection.commit()
