"""Behind an authenticating proxy: the user named in a header reaches the namespaces of
the user mapping, with its roles, through a real server; the header is believed only
from loopback and the proxies named, and `dagyard up` refuses a header mode that anyone
could use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import Server, open_platform

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.errors import UsageError
from dagyard.server.auth import UserHeader
from dagyard.service import tenancy
from dagyard.service.platform import Platform
from dagyard.settings import Settings

HEADER = "kubeflow-userid"


@dsl.component
def step() -> int:
    return 1


@dsl.pipeline
def one_step() -> None:
    step()


USERS = {
    "alice@example.com": {"team-a": "edit", "team-b": "view"},
    "bob@example.com": {"team-b": "edit"},
}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path / "home")
    try:
        yield opened
    finally:
        opened.close()


def _users(tmp_path: Path) -> dict[str, tenancy.Principal]:
    path = tmp_path / "users.json"
    path.write_text(json.dumps(USERS))
    return tenancy.load_users(path)


def _as(user: str) -> dict[str, str]:
    return {HEADER: user}


def test_a_named_user_reaches_its_namespaces_with_its_roles(
    platform: Platform, tmp_path: Path
) -> None:
    server = Server(platform, user_header=UserHeader(HEADER, _users(tmp_path))).start()
    try:
        with server.client(headers=_as("alice@example.com")) as alice:
            assert alice.get("/whoami").json() == {
                "admin": False,
                "user": "alice@example.com",
                "namespaces": [
                    {"name": "team-a", "role": "edit"},
                    {"name": "team-b", "role": "view"},
                ],
            }
            several = alice.get("/experiments")
            assert several.status_code == 400 and "name one" in several.json()["message"]
            made = alice.post("/experiments", json={"display_name": "e", "namespace": "team-a"})
            assert made.status_code == 200, made.text
            viewing = alice.post("/experiments", json={"display_name": "e", "namespace": "team-b"})
            assert viewing.status_code == 403
            assert (
                "User 'alice@example.com' may only view namespace 'team-b'"
                in (viewing.json()["message"])
            )
            elsewhere = alice.post("/experiments", json={"display_name": "e", "namespace": "c"})
            assert elsewhere.status_code == 403
            listed = alice.get("/experiments", params={"namespace": "team-a"}).json()
            assert [e["display_name"] for e in listed["experiments"]] == ["e"]
            assert alice.get("/experiments", params={"namespace": "team-c"}).status_code == 403
            spec = {"display_name": "r", "pipeline_spec": compile_to_dict(one_step)}
            unnamed = alice.post("/runs", json=spec)
            assert unnamed.status_code == 400 and "name one" in unnamed.json()["message"]
            named = alice.post("/runs", json=spec, params={"namespace": "team-a"})
            assert named.status_code == 200, named.text
            default = platform.store.get_experiment(named.json()["experiment_id"])
            assert (default.display_name, default.namespace) == ("Default", "team-a")
            refused = alice.post("/runs", json=spec, params={"namespace": "team-b"})
            assert refused.status_code == 403
        with server.client(headers=_as("bob@example.com")) as bob:
            assert bob.get("/experiments").json() == {}  # his only namespace: team-b's
            hidden = bob.get(f"/experiments/{made.json()['experiment_id']}")
            assert hidden.status_code == 404
        with server.client(headers=_as("mallory@example.com")) as stranger:
            refused = stranger.get("/experiments")
            assert refused.status_code == 403
            assert "DAGYARD_USER_NAMESPACES" in refused.json()["message"]
        with server.client() as nobody:
            assert nobody.get("/experiments").status_code == 401
            assert nobody.get("/healthz").status_code == 200
    finally:
        server.stop()


def _outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it picks a route
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("trusted", [False, True])
def test_the_header_is_believed_only_from_the_proxies_named(
    platform: Platform, tmp_path: Path, trusted: bool
) -> None:
    """The server on an outward address: the client (this machine, from that address) is
    a named proxy or not."""
    address = _outward_address()
    if address is None:
        pytest.skip("needs an address of this machine other than loopback")
    header = UserHeader(
        HEADER, _users(tmp_path), trusted=frozenset({address} if trusted else set())
    )
    server = Server(platform, host=address, user_header=header, allowed_hosts=[address]).start()
    try:
        with server.client(headers=_as("bob@example.com")) as bob:
            answer = bob.get("/experiments")
        assert answer.status_code == (200 if trusted else 401), answer.text
    finally:
        server.stop()


def test_dagyard_up_refuses_a_header_anyone_could_set(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    env = {
        **os.environ,
        "DAGYARD_HOME": str(tmp_path / "home"),
        "DAGYARD_USER_HEADER": HEADER,
        "DAGYARD_USER_NAMESPACES": str(users),
    }
    env.pop("DAGYARD_TRUSTED_PROXIES", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagyard")), "up", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "needs DAGYARD_TRUSTED_PROXIES" in " ".join(done.stderr.split())


def test_the_user_mapping_and_its_settings_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs DAGYARD_USER_NAMESPACES"):
        Settings.from_env({"DAGYARD_HOME": str(tmp_path), "DAGYARD_USER_HEADER": HEADER})
    path = tmp_path / "users.json"
    for text, said in (
        ("[1]", "an object of users"),
        ('{"a": {"team-a": "owner"}}', "a role is edit or view"),
        ('{"a": {"Team A": "edit"}}', "cannot be a namespace name"),
        ('{"a": {}}', "needs an object of namespaces"),
        ("{", "is not JSON"),
    ):
        path.write_text(text)
        with pytest.raises(UsageError, match=said):
            tenancy.load_users(path)
    with pytest.raises(UsageError, match="Cannot read"):
        tenancy.load_users(tmp_path / "missing.json")
