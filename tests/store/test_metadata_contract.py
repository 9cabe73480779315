"""The metadata store contract (metadata_contract.py) on every supported database."""

from __future__ import annotations

import pytest
from metadata_contract import MetadataStoreContract
from store_backends import Backend

pytestmark = pytest.mark.db


class TestSqlite(MetadataStoreContract):
    @pytest.fixture
    def backend(self, sqlite_backend: Backend) -> Backend:
        return sqlite_backend


class TestPostgres(MetadataStoreContract):
    @pytest.fixture
    def backend(self, postgres_backend: Backend) -> Backend:
        return postgres_backend


class TestMySQL(MetadataStoreContract):
    """MariaDB locally; the same code serves MySQL."""

    @pytest.fixture
    def backend(self, mysql_backend: Backend) -> Backend:
        return mysql_backend
