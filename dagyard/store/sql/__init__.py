"""The metadata store on SQL databases: SQLite (the default, embedded), PostgreSQL and
MySQL/MariaDB, through SQLAlchemy 2 with Alembic migrations.

    store = open_store(default_database_url(settings.home))   # or a postgresql:// URL

Modules: `store` (the MetadataStore methods), `transactions` (sessions and errors),
`rows` (records <-> rows), `schema` (tables), `columns` (portable column types),
`database` (URLs, engines, SQLite settings), `migrate` (Alembic).
"""

from __future__ import annotations

from dagyard.store.metadata import MetadataStore
from dagyard.store.sql.database import default_database_url
from dagyard.store.sql.store import SqlMetadataStore


def open_store(url: str) -> MetadataStore:
    """The metadata store at `url`, its schema brought up to date. Close it when done."""
    return SqlMetadataStore(url)


__all__ = ["SqlMetadataStore", "default_database_url", "open_store"]
