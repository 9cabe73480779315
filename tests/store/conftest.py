"""Database backends for the metadata store tests: SQLite (a temporary file), PostgreSQL
and MariaDB/MySQL (the servers at DAGYARD_TEST_POSTGRES_URL / DAGYARD_TEST_MYSQL_URL,
default: the local ones). Each test session creates its own uniquely named databases on
the servers and drops them at the end. A server that cannot be reached skips its tests,
except in CI (CI=true), where it fails them: CI must test every backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# The contract's assertions live outside test_*.py modules; show their values too.
pytest.register_assert_rewrite("metadata_contract", "listing_contract")

from store_backends import Backend, server_or_skip  # noqa: E402

POSTGRES_URL = os.environ.get(
    "DAGYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MYSQL_URL = os.environ.get("DAGYARD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend("sqlite", tmp_path_factory.mktemp("sqlite"), None)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def postgres_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = server_or_skip(POSTGRES_URL, "DAGYARD_TEST_POSTGRES_URL")
    backend = Backend("postgresql", tmp_path_factory.mktemp("pg"), server)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def mysql_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = server_or_skip(MYSQL_URL, "DAGYARD_TEST_MYSQL_URL")
    backend = Backend("mysql", tmp_path_factory.mktemp("mysql"), server)
    yield backend
    backend.close()
