"""Who an API call is: the admin token, a namespace token, or nobody, through a real
server on loopback; and namespaces and tokens themselves, through the admin's API, the
service and `dagyard namespaces` / `dagyard tokens` on a home.

What each kind of token may reach in each endpoint family is tested beside the routers
(test_tenancy_runs.py, test_tenancy_resources.py); here: when a token is needed at all,
which tokens are taken (expired and revoked ones not), that only a digest is stored,
and that the admin alone manages namespaces and tokens.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_server import Server, open_platform

from dagyard.errors import NotFound, RunError, UsageError
from dagyard.service import experiments, tenancy
from dagyard.service.platform import Platform
from dagyard.store.records import Role

ADMIN_TOKEN = "admin-token-for-the-tenancy-tests"
DAGYARD = Path(sys.executable).with_name("dagyard")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path / "home")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def open_server(platform: Platform) -> Iterator[Server]:
    """A server with no admin token."""
    server = Server(platform).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def admin_server(platform: Platform) -> Iterator[Server]:
    server = Server(platform, token=ADMIN_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait_until_status(server: Server, headers: dict[str, str], status: int) -> None:
    """Until GET /experiments answers `status` (the server reads tokens anew at most every
    two seconds); fails after ten."""
    deadline = time.monotonic() + 10
    with server.client(headers=headers) as client:
        while (answer := client.get("/experiments").status_code) != status:
            assert time.monotonic() < deadline, f"still {answer}, not {status}"
            time.sleep(0.05)


def test_a_server_without_tokens_is_open_until_a_namespace_token_exists(
    platform: Platform, open_server: Server
) -> None:
    with open_server.client() as client:
        assert client.get("/experiments").status_code == 200
    tenancy.create_namespace(platform, "team-a")
    _, token = tenancy.create_token(platform, "team-a", Role.EDIT)

    _wait_until_status(open_server, {}, 401)
    with open_server.client() as client:
        refused = client.get("/runs")
        assert refused.status_code == 401
        assert refused.json()["code"] == 16  # UNAUTHENTICATED
        assert "dagyard tokens create" in refused.json()["message"]
        assert client.get("/healthz").status_code == 200
    with open_server.client(headers=_bearer(token)) as client:
        assert client.get("/experiments").status_code == 200


def test_revoked_and_expired_tokens_are_refused(platform: Platform, open_server: Server) -> None:
    tenancy.create_namespace(platform, "team-a")
    kept, kept_token = tenancy.create_token(platform, "team-a", Role.VIEW)
    revoked, revoked_token = tenancy.create_token(platform, "team-a", Role.EDIT)
    _, expired_token = tenancy.create_token(
        platform, "team-a", Role.EDIT, expires_in="1h", now=datetime.now(UTC) - timedelta(hours=2)
    )
    _wait_until_status(open_server, _bearer(revoked_token), 200)

    tenancy.revoke_token(platform, revoked.token_id)

    _wait_until_status(open_server, _bearer(revoked_token), 401)
    _wait_until_status(open_server, _bearer(expired_token), 401)
    _wait_until_status(open_server, _bearer(kept_token), 200)
    _wait_until_status(open_server, _bearer("dgy_made-up"), 401)
    by_id = {t.token_id: t for t in platform.store.list_tokens("team-a")}
    assert by_id[revoked.token_id].revoked_at is not None
    assert by_id[kept.token_id].revoked_at is None


def test_the_admin_token_reaches_everything_and_alone_manages_tenancy(
    admin_server: Server,
) -> None:
    with admin_server.client() as client:
        assert client.get("/experiments").status_code == 401
    with admin_server.client(headers=_bearer(ADMIN_TOKEN)) as admin:
        assert admin.post("/namespaces", json={"name": "team-a"}).status_code == 200
        assert admin.post("/namespaces", json={"name": "team-a"}).status_code == 409
        bad = admin.post("/namespaces", json={"name": "Team_A"})
        assert bad.status_code == 400 and "Kubernetes" in bad.json()["message"]
        made = admin.post("/tokens", json={"namespace": "team-a", "role": "edit", "name": "ci"})
        assert made.status_code == 200
        token = made.json()["token"]
        assert token.startswith(tenancy.TOKEN_PREFIX)
        listed = admin.get("/tokens").json()["tokens"]
        assert [(t["namespace"], t["role"], t["name"]) for t in listed] == [
            ("team-a", "edit", "ci")
        ]
        assert "token" not in listed[0]
        assert [n["name"] for n in admin.get("/namespaces").json()["namespaces"]] == ["team-a"]
        assert admin.get("/whoami").json() == {
            "admin": True,
            "user": "",
            "namespaces": [{"name": "team-a", "role": "admin"}],
        }
    with admin_server.client(headers=_bearer(token)) as member:
        assert member.get("/experiments").status_code == 200
        assert member.get("/whoami").json() == {
            "admin": False,
            "user": "",
            "namespaces": [{"name": "team-a", "role": "edit"}],
        }
        idle = {"runs_running": 0, "runs_pending": 0, "runs_waiting": 0, "tasks_running": 0}
        assert member.get("/work").json() == {"namespaces": [{"namespace": "team-a", **idle}]}
        refused = member.get("/namespaces")
        assert refused.status_code == 403
        assert refused.json()["code"] == 7  # PERMISSION_DENIED
        assert member.post("/tokens", json={"namespace": "team-a", "role": "edit"}).status_code == (
            403
        )
    with admin_server.client(headers=_bearer(ADMIN_TOKEN)) as admin:
        token_id = listed[0]["token_id"]
        revoked = admin.post(f"/tokens/{token_id}:revoke")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert admin.delete("/namespaces/team-a").status_code == 200
        assert admin.get("/tokens").json()["tokens"] == []


def test_only_a_digest_of_a_token_is_stored(platform: Platform, tmp_path: Path) -> None:
    tenancy.create_namespace(platform, "team-a")
    _, token = tenancy.create_token(platform, "team-a", Role.EDIT, label="ci")
    database = tmp_path / "home" / "dagyard.db"
    with sqlite3.connect(database) as connection:
        dumped = "\n".join(connection.iterdump())
    assert token not in dumped
    assert token[len(tenancy.TOKEN_PREFIX) :] not in dumped
    assert tenancy.digest(token) in dumped


def test_namespaces_and_tokens_refuse_what_they_cannot_honour(platform: Platform) -> None:
    with pytest.raises(UsageError, match="cannot be a namespace name"):
        tenancy.create_namespace(platform, "-team")
    with pytest.raises(NotFound, match="dagyard namespaces create team-b"):
        tenancy.create_token(platform, "team-b", Role.EDIT)
    tenancy.create_namespace(platform, "team-a")
    with pytest.raises(UsageError, match="edit or view"):
        tenancy.create_token(platform, "team-a", "owner")
    with pytest.raises(UsageError, match="12h, 30d or 8w"):
        tenancy.create_token(platform, "team-a", Role.EDIT, expires_in="a while")
    experiments.create_experiment(platform, display_name="e", namespace="team-a")
    with pytest.raises(RunError, match="still holds experiments"):
        tenancy.delete_namespace(platform, "team-a")


def test_the_commands_print_a_new_token_once_on_the_last_line(tmp_path: Path) -> None:
    env = {**os.environ, "DAGYARD_HOME": str(tmp_path / "home")}

    def dagyard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DAGYARD), *args], env=env, capture_output=True, text=True, check=False
        )

    assert dagyard("namespaces", "create", "team-a").returncode == 0
    made = dagyard("tokens", "create", "--namespace", "team-a", "--role", "view", "--name", "ro")
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    assert token.startswith(tenancy.TOKEN_PREFIX) and made.stdout == token + "\n"
    listed = dagyard("tokens", "list")
    assert "team-a  view" in listed.stdout and " ro" in listed.stdout
    assert token not in listed.stdout
    token_id = listed.stdout.split()[0]
    assert dagyard("tokens", "revoke", token_id).returncode == 0
    assert "revoked" in dagyard("tokens", "list").stdout
    assert dagyard("namespaces", "list").stdout == "team-a  (0 tokens)\n"
    missing = dagyard("tokens", "create", "--namespace", "nope", "--role", "edit")
    assert missing.returncode == 2 and "dagyard namespaces create nope" in missing.stderr
