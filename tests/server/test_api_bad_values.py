"""Text no database can hold alike, sent to a real server on each backend: a NUL
character or a lone surrogate (JSON's "\\ud800", which `json.loads` accepts) in a name,
a description or a run's parameter is a 400 naming the field, the same on SQLite,
PostgreSQL and MariaDB; nothing is stored, and the server goes on answering."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from api_pipelines import compiled
from api_server import Server

from dagyard import dsl
from dagyard.service.platform import Platform
from dagyard.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "store"))

from store_backends import Backend, server_or_skip

SERVERS = {
    "postgresql": (
        "DAGYARD_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mysql": ("DAGYARD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
NUL = "a\x00b"
SURROGATE = "a\ud800b"
PROBLEMS = {NUL: "contains a NUL character", SURROGATE: "is not valid UTF-8 text"}


@dsl.component
def echo(text: str) -> str:
    return text


@dsl.pipeline(name="greet")
def greet(greeting: str = "hi") -> None:
    echo(text=greeting)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.db),
        pytest.param("mysql", marks=pytest.mark.db),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend."""
    server = None
    if request.param != "sqlite":
        variable, default = SERVERS[request.param]
        server = server_or_skip(os.environ.get(variable, default), variable)
    backend = Backend(request.param, tmp_path / "db", server)
    try:
        yield backend.new_database_url()
    finally:
        backend.close()


@pytest.fixture
def spec(tmp_path: Path) -> dict[str, Any]:
    """The compiled `greet` pipeline's IR, as a run's inline pipeline_spec."""
    loaded: dict[str, Any] = yaml.safe_load(compiled(greet, tmp_path).read_text())
    return loaded


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    platform = Platform.open(
        Settings(container_runtime="off", home=tmp_path / "home", database_url=database_url)
    )
    server = Server(platform).start()
    try:
        with server.client() as client:
            yield client
    finally:
        server.stop()
        platform.close()


def post(api: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    # json.dumps writes the bad characters as \u escapes, as any JSON client would.
    return api.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def assert_refused(answer: httpx.Response, field: str, bad: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == 3  # gRPC INVALID_ARGUMENT
    assert body["message"].startswith(f"{field} {PROBLEMS[bad]}"), body["message"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_bad_text_in_names_and_descriptions_is_400_naming_the_field(
    api: httpx.Client, spec: dict[str, Any], bad: str
) -> None:
    assert_refused(
        post(api, "/experiments", {"display_name": bad}), "experiments.display_name", bad
    )
    assert_refused(
        post(api, "/experiments", {"display_name": "ok", "description": bad}),
        "experiments.description",
        bad,
    )
    assert_refused(post(api, "/pipelines", {"display_name": bad}), "pipelines.name", bad)
    assert_refused(
        post(api, "/runs", {"display_name": bad, "pipeline_spec": spec}), "runs.display_name", bad
    )
    # An id in the body is checked before it is looked up (a lone surrogate there was a
    # 500 and a reset connection; a NUL, a 400 on PostgreSQL only).
    assert_refused(
        post(api, "/runs", {"display_name": "r", "pipeline_spec": spec, "experiment_id": bad}),
        "experiments.experiment_id",
        bad,
    )
    # Nothing was stored, and the server answers as before.
    assert api.get("/healthz").status_code == 200
    experiments = api.get("/experiments").json().get("experiments", [])
    assert {e["display_name"] for e in experiments} <= {"Default"}  # a run's default one
    assert api.get("/runs").json().get("runs", []) == []
    assert post(api, "/experiments", {"display_name": "ok"}).status_code == 200


def test_a_lone_surrogate_in_a_parameter_is_400_naming_it_and_a_nul_is_kept(
    api: httpx.Client, spec: dict[str, Any]
) -> None:
    def submit(greeting: str) -> httpx.Response:
        config = {"parameters": {"greeting": greeting}}
        return post(
            api, "/runs", {"display_name": "r", "pipeline_spec": spec, "runtime_config": config}
        )

    assert_refused(submit(SURROGATE), "runs.runtime_config at parameters.greeting", SURROGATE)
    # Refused before the store, by a message that shows the name escaped (it was a 500
    # and a reset connection, the answer being unencodable).
    unknown = post(
        api,
        "/runs",
        {
            "display_name": "r",
            "pipeline_spec": spec,
            "runtime_config": {"parameters": {SURROGATE: 1}},
        },
    )
    assert unknown.status_code == 400, unknown.text
    assert "Unknown pipeline parameter 'a\\ud800b'" in unknown.json()["message"]
    assert api.get("/runs").json().get("runs", []) == []
    # A NUL is well-formed JSON text: stored escaped, and read back as sent, everywhere.
    created = submit(NUL)
    assert created.status_code == 200, created.text
    back = api.get(f"/runs/{created.json()['run_id']}").json()
    assert back["runtime_config"]["parameters"] == {"greeting": NUL}
