"""Database backends for the metadata store tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dagyard.store.sql import SqlMetadataStore
from dagyard.store.sql.schema import Base

POSTGRES_URL = os.environ.get(
    "DAGYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Backend:
    """One database server (or SQLite): fresh databases on demand, and one shared,
    migrated database whose store the contract tests reuse (emptied before each test)."""

    def __init__(self, name: str, tmp: Path, server: sa.URL | None) -> None:
        self.name = name
        self._tmp = tmp
        self._server = server
        self._databases: list[str] = []
        self._store: SqlMetadataStore | None = None
        self._cleaner: sa.Engine | None = None
        #: The URL of the shared database (once `shared_store` made it).
        self.shared_url = ""

    def new_database_url(self) -> str:
        """The URL of a new, empty database."""
        name = f"dagyard_test_{uuid.uuid4().hex[:12]}"
        if self._server is None:
            return f"sqlite:///{self._tmp / name / 'dagyard.db'}"
        if self._server.get_backend_name() == "postgresql":
            self._admin(f'CREATE DATABASE "{name}"')
        else:
            self._admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self._databases.append(name)
        return self._server.set(database=name).render_as_string(hide_password=False)

    def shared_store(self) -> SqlMetadataStore:
        """The session's store, with every table emptied."""
        if self._store is None:
            self.shared_url = self.new_database_url()
            self._store = SqlMetadataStore(self.shared_url)
            self._cleaner = sa.create_engine(self.shared_url)
        assert self._cleaner is not None
        with self._cleaner.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._cleaner is not None:
            self._cleaner.dispose()
        for name in self._databases:
            if self._server is not None and self._server.get_backend_name() == "postgresql":
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                self._admin(f"DROP DATABASE IF EXISTS `{name}`")

    def _admin(self, statement: str) -> None:
        assert self._server is not None
        engine = sa.create_engine(self._server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(statement)
        finally:
            engine.dispose()


def server_or_skip(url: str, variable: str) -> sa.URL:
    server = sa.make_url(url)
    engine = sa.create_engine(server, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as error:
        reason = (
            f"{server.render_as_string(hide_password=True)} is unreachable ({error.orig}); "
            f"start the server or point {variable} at one"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason} (CI=true: every backend must be tested)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return server


@contextlib.contextmanager
def new_postgres_database(tmp: Path) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server, dropped when the block
    ends; the test is skipped if the server is unreachable (failed in CI)."""
    backend = Backend("postgresql", tmp, server_or_skip(POSTGRES_URL, "DAGYARD_TEST_POSTGRES_URL"))
    try:
        yield backend.new_database_url()
    finally:
        backend.close()
