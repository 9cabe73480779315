"""Bringing a metadata database to the newest schema with Alembic.

The revisions live in `dagyard/store/migrations/` (inside the package, so an installed
wheel can migrate). `upgrade(engine)` runs on every open: it checks the stored revision
and does nothing more when it is current. That check imports no Alembic (which costs a
command such as `dagyard run` more than the rest of the store): the newest revision is
read from the revision files' `revision` and `down_revision` lines, the stored one from
Alembic's version table with one SELECT; Alembic is imported only to migrate, or when the
files do not make one plain chain. Concurrent openers queue instead of
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
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dagyard.errors import StoreError
from dagyard.store.sql import database

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Alembic's own table of the stored revision (its default name, which env.py keeps).
VERSION_TABLE = "alembic_version"
# A revision file's `revision: str = "0006"` and `down_revision: str | None = "0005"`.
_REVISION_LINE = re.compile(
    r"""^(?P<key>revision|down_revision)\s*(?::[^=\n]*)?=\s*(?P<value>None|"[^"\n]*"|'[^'\n]*')\s*$""",
    re.MULTILINE,
)
# Any fixed number: the key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x646167796172
_MYSQL_LOCK_NAME = "dagyard_schema_migration"
_MYSQL_LOCK_TIMEOUT_SECONDS = 120


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for Dagyard's revisions (and `url`, for the CLI's use)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision of the schema."""
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise StoreError(f"No schema migrations found in {MIGRATIONS}; reinstall dagyard.")
    return head


@functools.cache
def file_head_revision() -> str | None:
    """The newest revision as the revision files say it, without Alembic: the one no other
    names as its `down_revision` when they make one plain chain; else None (ask Alembic)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m["key"]: m["value"] for m in _REVISION_LINE.finditer(path.read_text())}
        if "revision" not in found or "down_revision" not in found:
            return None
        down = found["down_revision"]
        revisions[found["revision"][1:-1]] = None if down == "None" else down[1:-1]
    downs = set(revisions.values())
    heads = [revision for revision in revisions if revision not in downs]
    roots = [revision for revision, down in revisions.items() if down is None]
    if len(heads) != 1 or len(roots) != 1 or len(downs) != len(revisions):
        return None  # branches or merges: Alembic knows
    return heads[0]


def current_revision(connection: sa.Connection) -> str | None:
    """The revision a database is at (None: no schema yet)."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    table = sa.table(VERSION_TABLE, sa.column("version_num"))
    found = connection.execute(sa.select(table.c.version_num)).scalars().all()
    if len(found) > 1:  # several heads stored: not one of ours
        raise StoreError(
            f"The metadata database is at several schema revisions at once ({found}); "
            "it was migrated by something other than dagyard."
        )
    return found[0] if found else None


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision, unless it is there already."""
    head = file_head_revision() or head_revision()
    with engine.connect() as connection:  # the quick check of every open: a plain read
        current = current_revision(connection)
        connection.rollback()
    if current == head:
        return
    head = head_revision()  # migrating: Alembic's word counts
    if database.is_sqlite(engine):
        engine = database.write_engine(engine)
    with (
        engine.connect() as connection,
        _migration_lock(connection),
        database.foreign_keys_off(connection),
        connection.begin(),
    ):
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
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        database.check_foreign_keys(connection)


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
