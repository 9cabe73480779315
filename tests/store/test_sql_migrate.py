"""The schema check every open makes without Alembic (`migrate.file_head_revision`,
`migrate.current_revision`) says what Alembic says, on every supported database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from store_backends import Backend

from dagyard.store.sql import SqlMetadataStore, migrate

pytestmark = pytest.mark.db


def test_the_revision_files_name_alembics_head() -> None:
    assert migrate.file_head_revision() == migrate.head_revision()


@pytest.mark.parametrize("name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_the_stored_revision_is_read_as_alembic_reads_it(
    name: str, request: pytest.FixtureRequest
) -> None:
    backend: Backend = request.getfixturevalue(name)
    url = backend.new_database_url()
    database = sa.make_url(url).database
    if url.startswith("sqlite") and database:  # its folder is made by the store otherwise
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:  # a fresh database: no version table yet
            assert migrate.current_revision(connection) is None
            assert MigrationContext.configure(connection).get_current_revision() is None
        SqlMetadataStore(url).close()  # migrates it
        with engine.connect() as connection:
            ours = migrate.current_revision(connection)
            assert ours == MigrationContext.configure(connection).get_current_revision()
            assert ours == migrate.head_revision()
    finally:
        engine.dispose()
