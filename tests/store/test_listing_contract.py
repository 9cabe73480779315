"""The listing contract (listing_contract.py) on every supported database."""

from __future__ import annotations

import pytest
from listing_contract import ListingContract
from store_backends import Backend

pytestmark = pytest.mark.db


class TestSqliteListing(ListingContract):
    @pytest.fixture
    def backend(self, sqlite_backend: Backend) -> Backend:
        return sqlite_backend


class TestPostgresListing(ListingContract):
    @pytest.fixture
    def backend(self, postgres_backend: Backend) -> Backend:
        return postgres_backend


class TestMySQLListing(ListingContract):
    @pytest.fixture
    def backend(self, mysql_backend: Backend) -> Backend:
        return mysql_backend
