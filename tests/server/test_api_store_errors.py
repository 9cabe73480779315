"""Store errors through the REST API, by whose fault they are: a database that stops
answering is 503 with Retry-After, a value the database cannot hold is 400 naming it, a
fault of ours is 500; no answer shows the database URL or the server's home."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from api_server import Server
from tcp_proxy import TcpProxy

from dagyard.service.platform import Platform
from dagyard.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))

from store_backends import new_postgres_database


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty PostgreSQL database."""
    with new_postgres_database(tmp_path / "pg") as url:
        yield url


def assert_shows_nothing_of_the_server(body: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in body, f"{secret!r} leaked to the client: {body}"


@pytest.mark.db
def test_a_database_that_stops_answering_is_503_with_retry_after(
    postgres_url: str, tmp_path: Path
) -> None:
    url = sa.make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    home = tmp_path / "home"
    platform = Platform.open(Settings(container_runtime="off", home=home, database_url=proxied))
    server = Server(platform).start()
    try:
        with server.client() as api:
            assert api.get("/experiments").status_code == 200
            proxy.cut()
            answers = [
                api.get("/experiments"),
                api.post("/experiments", json={"display_name": "after the outage"}),
            ]
    finally:
        proxy.cut()
        server.stop()
        platform.close()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["Retry-After"]) > 0
        body = answer.json()
        assert body["code"] == 14  # gRPC UNAVAILABLE
        assert "does not answer" in body["message"] and "Retry" in body["message"]
        assert_shows_nothing_of_the_server(
            answer.text, str(url.database), str(proxy.port), str(tmp_path), "postgres"
        )


def test_a_value_the_database_cannot_hold_is_400_naming_it(
    platform: Platform, api: httpx.Client, tmp_path: Path
) -> None:
    answer = api.post("/experiments", json={"display_name": "x" * 300})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == 3  # gRPC INVALID_ARGUMENT
    assert "display_name is 300 characters long" in answer.json()["message"]
    assert_shows_nothing_of_the_server(answer.text, str(tmp_path), "sqlite")
    assert "experiments" not in api.get("/experiments").json()


def test_a_fault_of_ours_is_500_without_its_message(
    platform: Platform, api: httpx.Client, tmp_path: Path
) -> None:
    # A real fault: the schema the store expects is gone from under the running server.
    database = Path(sa.make_url(platform.settings.database_url).database or "")
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE recurring_runs")
    answer = api.get("/recurringruns")
    assert answer.status_code == 500, answer.text
    assert answer.json()["code"] == 13  # gRPC INTERNAL
    assert answer.json()["message"].startswith("Internal error (StoreFailure)")
    assert_shows_nothing_of_the_server(answer.text, str(tmp_path), "sqlite", "recurring_runs")
