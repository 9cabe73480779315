"""Opening a metadata database: URLs, the default location, and errors a user can act on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dagyard.errors import StoreError
from dagyard.store.sql import SqlMetadataStore, default_database_url, open_store
from dagyard.store.sql.database import parse_url


def test_default_url_is_a_sqlite_file_in_the_home(tmp_path: Path) -> None:
    url = default_database_url(tmp_path / "home")
    assert url == f"sqlite:///{tmp_path}/home/dagyard.db"
    store = open_store(url)
    try:
        assert (tmp_path / "home" / "dagyard.db").is_file()
    finally:
        store.close()


def test_sqlite_database_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path}/a/b/dagyard.db")
    store.close()
    connection = sqlite3.connect(tmp_path / "a" / "b" / "dagyard.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_bare_backend_names_get_dagyards_drivers() -> None:
    assert parse_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    mysql = parse_url("mysql://u@h/db")
    assert mysql.drivername == "mysql+pymysql" and mysql.query["charset"] == "utf8mb4"


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    url = "postgresql://dagyard:s3cret@127.0.0.1:1/dagyard"
    with pytest.raises(StoreError, match="server is running") as caught:
        SqlMetadataStore(url)
    message = str(caught.value)
    assert "127.0.0.1:1/dagyard" in message and "s3cret" not in message


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dagyard.db").write_text("not a database" * 100)
    with pytest.raises(StoreError, match="is a SQLite database file"):
        SqlMetadataStore(f"sqlite:///{tmp_path}/dagyard.db")


def test_a_database_from_a_newer_dagyard_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dagyard.db"
    SqlMetadataStore(url).close()
    connection = sqlite3.connect(tmp_path / "dagyard.db")
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    with pytest.raises(StoreError, match=r"revision '9999'.*upgrade dagyard"):
        SqlMetadataStore(url)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("not a url", "is not a database URL"),
        ("sqlite://", "is not a SQLite file"),
        ("oracle+nodriver://h/db", "driver is missing"),
    ],
)
def test_bad_urls_are_store_errors(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        SqlMetadataStore(url)
