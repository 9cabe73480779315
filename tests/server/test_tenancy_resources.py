"""Namespace tokens over HTTP on pipelines, their versions, experiments and recurring runs:
each token reaches its own namespace's, reads the shared pipelines (changed by the admin
only), is told another namespace's do not exist (404, the very answer an unknown id
gets), may not list another namespace (403), and a view token changes nothing (403).
The admin token sees and changes everything. A real server on SQLite, with the real
kfp.Client too."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kfp
import pytest
import yaml
from api_pipelines import compiled, sum_and_write
from api_server import Server
from kfp_server_api.exceptions import ApiException

import dagyard
from dagyard.errors import ApiError
from dagyard.service import tenancy
from dagyard.service.platform import Platform

ADMIN_TOKEN = "the-admin-token-of-this-server"
UNKNOWN = "0123456789abcdef0123456789abcdef"  # an id nothing has
HOURLY = {"periodic_schedule": {"interval_second": 3600}}


@dataclasses.dataclass
class Tenants:
    server: Server
    admin: httpx.Client
    a_edit: httpx.Client
    a_view: httpx.Client
    b_edit: httpx.Client
    tokens: dict[str, str]


def _never_unauthenticated(response: httpx.Response) -> None:
    # Every client here holds a working token: a 401 means authentication broke.
    assert response.status_code != 401, response.request.url


@pytest.fixture
def tenants(platform: Platform) -> Iterator[Tenants]:
    tenancy.create_namespace(platform, "team-a")
    tenancy.create_namespace(platform, "team-b")
    tokens = {
        "a_edit": tenancy.create_token(platform, "team-a", "edit")[1],
        "a_view": tenancy.create_token(platform, "team-a", "view")[1],
        "b_edit": tenancy.create_token(platform, "team-b", "edit")[1],
        "admin": ADMIN_TOKEN,
    }
    server = Server(platform, token=ADMIN_TOKEN).start()
    clients = {
        who: server.client(
            headers={"Authorization": f"Bearer {token}"},
            event_hooks={"response": [_never_unauthenticated]},
        )
        for who, token in tokens.items()
    }
    yield Tenants(server=server, tokens=tokens, **clients)
    for client in clients.values():
        client.close()
    server.stop()


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return compiled(sum_and_write, tmp_path)


@pytest.fixture
def spec(package: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(package.read_bytes())
    return loaded


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.request.url, response.text)
    body: dict[str, Any] = response.json()
    return body


def forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, (response.request.url, response.text)
    assert response.json()["code"] == 7


def hidden(
    client: httpx.Client,
    method: str,
    path: str,
    real: str,
    body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """`method path` (with `body`) about another namespace's `real` id answers exactly
    what the same request about an id nothing has answers: 404, and a body that tells
    nothing."""
    seen = client.request(method, path, json=body, **kwargs)
    made_up = None if body is None else json.loads(json.dumps(body).replace(real, UNKNOWN))
    unknown = client.request(method, path.replace(real, UNKNOWN), json=made_up, **kwargs)
    assert unknown.status_code == 404, unknown.text
    assert seen.status_code == 404, (path, seen.text)
    assert seen.text.replace(real, UNKNOWN) == unknown.text


def upload(client: httpx.Client, package: Path, name: str, **params: str) -> httpx.Response:
    with package.open("rb") as f:
        return client.post(
            "/pipelines/upload",
            params={"name": name, **params},
            files={"uploadfile": ("p.yaml", f)},
        )


def upload_version(client: httpx.Client, package: Path, pipeline_id: str) -> httpx.Response:
    with package.open("rb") as f:
        return client.post(
            "/pipelines/upload_version",
            params={"pipelineid": pipeline_id},
            files={"uploadfile": ("p.yaml", f)},
        )


def pipeline_names(client: httpx.Client, **params: str) -> set[str]:
    return {p["name"] for p in ok(client.get("/pipelines", params=params)).get("pipelines", [])}


def experiment_names(client: httpx.Client, **params: str) -> set[str]:
    found = ok(client.get("/experiments", params=params)).get("experiments", [])
    return {e["display_name"] for e in found}


def recurring_names(client: httpx.Client, **params: str) -> set[str]:
    found = ok(client.get("/recurringruns", params=params)).get("recurringRuns", [])
    return {r["display_name"] for r in found}


def test_pipelines_and_versions_are_held_to_their_namespace(
    tenants: Tenants, package: Path
) -> None:
    a, view, b, admin = tenants.a_edit, tenants.a_view, tenants.b_edit, tenants.admin
    made = ok(upload(a, package, "sums"))  # no namespace named: the token's
    assert made["namespace"] == "team-a"
    pid = made["pipeline_id"]
    version = ok(upload_version(a, package, pid))
    vid = version["pipeline_version_id"]
    ok(upload(b, package, "b-sums"))

    # Team-a's tokens read it, by id, by name and through its versions.
    for reader in (a, view):
        assert ok(reader.get(f"/pipelines/{pid}"))["name"] == "sums"
        assert ok(reader.get("/pipelines/names/sums"))["pipeline_id"] == pid
        by_name = reader.get("/pipelines/names/sums", params={"namespace": "team-a"})
        assert ok(by_name)["pipeline_id"] == pid
        assert len(ok(reader.get(f"/pipelines/{pid}/versions"))["pipeline_versions"]) == 2
        assert ok(reader.get(f"/pipelines/{pid}/versions/{vid}"))["pipeline_id"] == pid
        assert pipeline_names(reader) == pipeline_names(reader, namespace="team-a") == {"sums"}
        forbidden(reader.get("/pipelines", params={"namespace": "team-b"}))

    # Team-b's token finds no trace of it.
    assert pipeline_names(b) == {"b-sums"}
    forbidden(b.get("/pipelines", params={"namespace": "team-a"}))
    hidden(b, "GET", f"/pipelines/{pid}", pid)
    hidden(b, "GET", f"/pipelines/{pid}/versions", pid)
    hidden(b, "GET", f"/pipelines/{pid}/versions/{vid}", vid)
    hidden(b, "PATCH", f"/pipelines/{pid}", pid, {"description": "mine now"})
    hidden(b, "PATCH", f"/pipelines/{pid}/versions/{vid}", vid, {"description": "x"})
    hidden(b, "DELETE", f"/pipelines/{pid}/versions/{vid}", vid)
    hidden(b, "DELETE", f"/pipelines/{pid}", pid)
    with package.open("rb") as f:
        files = {"uploadfile": ("p.yaml", f.read())}
    hidden(b, "POST", f"/pipelines/upload_version?pipelineid={pid}", pid, files=files)
    hidden(b, "GET", "/pipelines/names/sums?namespace=team-a", "sums")
    assert b.get("/pipelines/names/sums").status_code == 404
    forbidden(upload(b, package, "intruder", namespace="team-a"))

    # The view token changes nothing.
    forbidden(upload(view, package, "viewed"))
    forbidden(view.post("/pipelines", json={"name": "viewed"}))
    forbidden(upload_version(view, package, pid))
    forbidden(view.patch(f"/pipelines/{pid}", json={"description": "x"}))
    forbidden(view.patch(f"/pipelines/{pid}/versions/{vid}", json={"description": "x"}))
    forbidden(view.delete(f"/pipelines/{pid}/versions/{vid}"))
    forbidden(view.delete(f"/pipelines/{pid}"))

    # The edit token may not put a pipeline in another namespace, nor make a shared one
    # by asking for no namespace.
    forbidden(upload(a, package, "elsewhere", namespace="team-b"))
    forbidden(a.post("/pipelines", json={"name": "elsewhere", "namespace": "team-b"}))
    assert ok(a.post("/pipelines", json={"name": "empty"}))["namespace"] == "team-a"

    # The admin sees every namespace's.
    assert pipeline_names(admin) == {"sums", "b-sums", "empty"}
    assert pipeline_names(admin, namespace="team-a") == {"sums", "empty"}
    assert ok(admin.get(f"/pipelines/{pid}"))["pipeline_id"] == pid

    # Team-a's edit token changes and deletes its own.
    assert ok(a.patch(f"/pipelines/{pid}", json={"description": "d"}))["description"] == "d"
    patched = ok(a.patch(f"/pipelines/{pid}/versions/{vid}", json={"description": "v"}))
    assert patched["description"] == "v"
    ok(a.delete(f"/pipelines/{pid}/versions/{vid}"))
    ok(a.delete(f"/pipelines/{pid}"))
    assert a.get(f"/pipelines/{pid}").status_code == 404
    assert pipeline_names(admin) == {"b-sums", "empty"}


def test_shared_pipelines_are_read_by_every_token_and_changed_by_the_admin_only(
    tenants: Tenants, package: Path
) -> None:
    a, view, b, admin = tenants.a_edit, tenants.a_view, tenants.b_edit, tenants.admin
    shared = ok(upload(admin, package, "shared"))
    assert shared.get("namespace", "") == ""
    sid = shared["pipeline_id"]
    vid = ok(admin.get(f"/pipelines/{sid}/versions"))["pipeline_versions"][0]["pipeline_version_id"]
    ok(upload(a, package, "a-own"))
    ok(upload(b, package, "b-own"))

    for reader in (a, view, b):
        assert ok(reader.get(f"/pipelines/{sid}"))["name"] == "shared"
        assert ok(reader.get("/pipelines/names/shared"))["pipeline_id"] == sid
        assert ok(reader.get(f"/pipelines/{sid}/versions/{vid}"))["pipeline_id"] == sid
        assert ok(reader.get(f"/pipelines/{sid}/versions"))["total_size"] == 1
        forbidden(reader.patch(f"/pipelines/{sid}", json={"description": "x"}))
        forbidden(reader.patch(f"/pipelines/{sid}/versions/{vid}", json={"description": "x"}))
        forbidden(upload_version(reader, package, sid))
        forbidden(reader.delete(f"/pipelines/{sid}/versions/{vid}"))
        forbidden(reader.delete(f"/pipelines/{sid}"))
    assert pipeline_names(a) == pipeline_names(view) == {"shared", "a-own"}
    assert pipeline_names(b) == {"shared", "b-own"}
    assert pipeline_names(admin) == {"shared", "a-own", "b-own"}
    assert pipeline_names(admin, namespace="team-a") == {"a-own"}  # the admin's as before

    # A token's listing of its own and the shared pipelines pages as one listing.
    first = ok(a.get("/pipelines", params={"page_size": 1, "sort_by": "name"}))
    assert first["total_size"] == 2 and [p["name"] for p in first["pipelines"]] == ["a-own"]
    rest = ok(
        a.get(
            "/pipelines",
            params={"page_size": 1, "sort_by": "name", "page_token": first["next_page_token"]},
        )
    )
    assert [p["name"] for p in rest["pipelines"]] == ["shared"] and "next_page_token" not in rest

    # By name, a token's own pipeline comes before a shared one of the same name.
    own = ok(upload(a, package, "shared"))
    assert ok(a.get("/pipelines/names/shared"))["pipeline_id"] == own["pipeline_id"]
    assert ok(b.get("/pipelines/names/shared"))["pipeline_id"] == sid

    # Only the admin changes it.
    ok(upload_version(admin, package, sid))
    ok(admin.patch(f"/pipelines/{sid}", json={"description": "by the admin"}))
    ok(admin.delete(f"/pipelines/{sid}"))
    assert b.get(f"/pipelines/{sid}").status_code == 404


def test_experiments_are_held_to_their_namespace(tenants: Tenants) -> None:
    a, view, b, admin = tenants.a_edit, tenants.a_view, tenants.b_edit, tenants.admin
    made = ok(a.post("/experiments", json={"display_name": "training"}))
    assert made["namespace"] == "team-a"
    eid = made["experiment_id"]
    named = ok(a.post("/experiments", json={"display_name": "tuning", "namespace": "team-a"}))
    assert named["namespace"] == "team-a"
    forbidden(a.post("/experiments", json={"display_name": "x", "namespace": "team-b"}))
    ok(b.post("/experiments", json={"display_name": "b-training"}))
    admins = ok(admin.post("/experiments", json={"display_name": "the-admins"}))
    assert admins.get("namespace", "") == ""

    for reader in (a, view):
        assert ok(reader.get(f"/experiments/{eid}"))["display_name"] == "training"
        assert experiment_names(reader) == {"training", "tuning"}
        assert experiment_names(reader, namespace="team-a") == {"training", "tuning"}
        forbidden(reader.get("/experiments", params={"namespace": "team-b"}))
        # The admin's experiments (no namespace) are no token's.
        hidden(reader, "GET", f"/experiments/{admins['experiment_id']}", admins["experiment_id"])

    assert experiment_names(b) == {"b-training"}
    forbidden(b.get("/experiments", params={"namespace": "team-a"}))
    hidden(b, "GET", f"/experiments/{eid}", eid)
    hidden(b, "POST", f"/experiments/{eid}:archive", eid)
    hidden(b, "POST", f"/experiments/{eid}:unarchive", eid)
    hidden(b, "DELETE", f"/experiments/{eid}", eid)

    forbidden(view.post("/experiments", json={"display_name": "viewed"}))
    forbidden(view.post(f"/experiments/{eid}:archive"))
    forbidden(view.post(f"/experiments/{eid}:unarchive"))
    forbidden(view.delete(f"/experiments/{eid}"))

    assert experiment_names(admin) == {"training", "tuning", "b-training", "the-admins"}
    assert ok(admin.get(f"/experiments/{eid}"))["experiment_id"] == eid

    ok(a.post(f"/experiments/{eid}:archive"))
    assert ok(a.get(f"/experiments/{eid}"))["storage_state"] == "ARCHIVED"
    ok(a.post(f"/experiments/{eid}:unarchive"))
    assert ok(a.get(f"/experiments/{eid}"))["storage_state"] == "AVAILABLE"
    ok(a.delete(f"/experiments/{eid}"))
    assert a.get(f"/experiments/{eid}").status_code == 404
    assert experiment_names(admin) == {"tuning", "b-training", "the-admins"}


def test_recurring_runs_are_held_to_their_experiments_namespace(
    tenants: Tenants, package: Path, spec: dict[str, Any]
) -> None:
    a, view, b, admin = tenants.a_edit, tenants.a_view, tenants.b_edit, tenants.admin
    eid = ok(a.post("/experiments", json={"display_name": "nightly"}))["experiment_id"]
    body = {"pipeline_spec": spec, "runtime_config": {"parameters": {"a": 1}}, "trigger": HOURLY}
    made = ok(a.post("/recurringruns", json={**body, "display_name": "r", "experiment_id": eid}))
    assert made["namespace"] == "team-a"
    rid = made["recurring_run_id"]
    # No experiment named: the Default experiment of the token's namespace.
    defaulted = ok(a.post("/recurringruns", json={**body, "display_name": "d"}))
    assert defaulted["namespace"] == "team-a"
    default = ok(a.get(f"/experiments/{defaulted['experiment_id']}"))
    assert (default["display_name"], default["namespace"]) == ("Default", "team-a")
    forbidden(a.post("/recurringruns", json={**body, "display_name": "x", "namespace": "team-b"}))

    # From a stored version: its own namespace's and a shared one, never another's.
    own = ok(upload(a, package, "a-sums"))["pipeline_id"]
    shared = ok(upload(admin, package, "shared"))["pipeline_id"]
    b_pipeline = ok(upload(b, package, "b-sums"))["pipeline_id"]
    by_reference = {k: v for k, v in body.items() if k != "pipeline_spec"}
    for name, pipeline_id in (("own", own), ("shared", shared)):
        reference = {"pipeline_id": pipeline_id}
        ok(
            a.post(
                "/recurringruns",
                json={
                    **by_reference,
                    "display_name": name,
                    "pipeline_version_reference": reference,
                },
            )
        )
    b_version = ok(b.get(f"/pipelines/{b_pipeline}/versions"))["pipeline_versions"][0]
    b_vid = b_version["pipeline_version_id"]
    stolen = {"pipeline_version_reference": {"pipeline_version_id": b_vid}}
    hidden(a, "POST", "/recurringruns", b_vid, {**by_reference, **stolen, "display_name": "s"})

    for reader in (a, view):
        assert ok(reader.get(f"/recurringruns/{rid}"))["display_name"] == "r"
        assert recurring_names(reader) == {"r", "d", "own", "shared"}
        assert recurring_names(reader, namespace="team-a") == {"r", "d", "own", "shared"}
        forbidden(reader.get("/recurringruns", params={"namespace": "team-b"}))

    assert recurring_names(b) == set()
    forbidden(b.get("/recurringruns", params={"namespace": "team-a"}))
    hidden(b, "GET", f"/recurringruns/{rid}", rid)
    hidden(b, "POST", f"/recurringruns/{rid}:disable", rid)
    hidden(b, "POST", f"/recurringruns/{rid}:enable", rid)
    hidden(b, "DELETE", f"/recurringruns/{rid}", rid)
    in_a = {**body, "display_name": "b-in-a", "experiment_id": eid}
    hidden(b, "POST", "/recurringruns", eid, in_a)

    forbidden(view.post("/recurringruns", json={**body, "display_name": "v", "experiment_id": eid}))
    forbidden(view.post("/recurringruns", json={**body, "display_name": "v"}))
    forbidden(view.post(f"/recurringruns/{rid}:disable"))
    forbidden(view.post(f"/recurringruns/{rid}:enable"))
    forbidden(view.delete(f"/recurringruns/{rid}"))
    assert ok(a.get(f"/recurringruns/{rid}"))["status"] == "ENABLED"

    assert recurring_names(admin) == {"r", "d", "own", "shared"}
    assert ok(admin.get(f"/recurringruns/{rid}"))["recurring_run_id"] == rid

    ok(a.post(f"/recurringruns/{rid}:disable"))
    assert ok(a.get(f"/recurringruns/{rid}"))["status"] == "DISABLED"
    ok(a.post(f"/recurringruns/{rid}:enable"))
    assert ok(a.get(f"/recurringruns/{rid}"))["status"] == "ENABLED"
    ok(a.delete(f"/recurringruns/{rid}"))
    assert a.get(f"/recurringruns/{rid}").status_code == 404
    assert recurring_names(admin) == {"d", "own", "shared"}


@pytest.mark.kfp
@pytest.mark.filterwarnings("ignore:This client only works with Kubeflow:FutureWarning")
def test_kfp_client_with_a_namespace_token_sees_its_namespace(
    tenants: Tenants, package: Path
) -> None:
    url = tenants.server.url
    ok(upload(tenants.admin, package, "shared"))
    ok(upload(tenants.b_edit, package, "b-sums"))
    b_experiment = ok(tenants.b_edit.post("/experiments", json={"display_name": "b-exp"}))
    ok(tenants.admin.post("/experiments", json={"display_name": "admins"}))

    client = kfp.Client(host=url, existing_token=tenants.tokens["a_edit"], namespace="team-a")
    experiment = client.create_experiment("a-exp")
    assert experiment.namespace == "team-a"
    listed = client.list_experiments()
    assert [e.display_name for e in listed.experiments] == ["a-exp"]
    pipeline = client.upload_pipeline(str(package), pipeline_name="a-sums")
    assert pipeline.namespace == "team-a"
    names = {p.display_name: p.namespace for p in client.list_pipelines().pipelines}
    assert names == {"a-sums": "team-a", "shared": None}
    with pytest.raises(ApiException) as refused:
        client.get_experiment(experiment_id=b_experiment["experiment_id"])
    assert refused.value.status == 404

    other = kfp.Client(host=url, existing_token=tenants.tokens["b_edit"], namespace="team-b")
    with pytest.raises(ApiException) as hidden_from_b:
        other.get_experiment(experiment_id=experiment.experiment_id)
    assert hidden_from_b.value.status == 404
    assert "No experiment with id" in json.loads(hidden_from_b.value.body)["message"]
    assert [e.display_name for e in other.list_experiments().experiments] == ["b-exp"]


@pytest.mark.kfp
@pytest.mark.filterwarnings("ignore:This client only works with Kubeflow:FutureWarning")
def test_kfp_set_user_namespace_and_dagyards_client_with_namespace_tokens(
    tenants: Tenants, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kfp's set_user_namespace (a context file in the user's home) is the namespace the
    client then creates and lists in; dagyard.Client with a namespace token is held to
    its namespace as kfp.Client is."""
    monkeypatch.setenv("HOME", str(tmp_path))  # kfp keeps the namespace under ~/.config/kfp
    url = tenants.server.url
    client = kfp.Client(host=url, existing_token=tenants.tokens["a_edit"])
    client.set_user_namespace("team-a")
    assert client.get_user_namespace() == "team-a"
    experiment = client.create_experiment("from-context")
    assert experiment.namespace == "team-a"
    run = client.create_run_from_pipeline_package(
        str(package), arguments={"a": 1}, experiment_name="from-context"
    )
    listed = client.list_runs(namespace="team-a").runs
    assert run.run_id in {r.run_id for r in listed}

    with dagyard.Client(host=url, token=tenants.tokens["b_edit"]) as ours:
        seen = ours.list_experiments().experiments or []
        assert "from-context" not in {e.display_name for e in seen}
        with pytest.raises(ApiError) as hidden:
            ours.get_run(run.run_id)
    assert hidden.value.status == 404
