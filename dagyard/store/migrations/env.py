"""Alembic's environment for the metadata schema (run by `alembic.command.*`).

`dagyard.store.sql.migrate.upgrade` passes an open connection in
`config.attributes["connection"]` and owns its transaction and locks. Used from the
Alembic API without one (e.g. `command.revision(..., autogenerate=True)`), this opens
`sqlalchemy.url` of the configuration. Offline mode writes the SQL instead.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from dagyard.store.sql import database
from dagyard.store.sql.schema import Base

_OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    # SQLite alters tables by copying them; batch mode does that for later revisions.
    "render_as_batch": True,
    "compare_type": True,
}


def _run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = database.parse_url(config.get_main_option("sqlalchemy.url") or "")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = database.create_engine(url)
    try:
        with engine.connect() as own_connection, database.foreign_keys_off(own_connection):
            context.configure(connection=own_connection, **_OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
                database.check_foreign_keys(own_connection)
    finally:
        engine.dispose()


_run()
