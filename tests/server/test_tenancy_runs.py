"""Runs, their tasks, logs and artifacts held to the caller's namespace, through a real
server on loopback with an admin token and real runs on SQLite.

Two namespaces, team-a (an edit and a view token) and team-b (an edit token), and the
admin. team-a's run was executed for real; team-b ran the same pipeline with the same
input, and ran every task anew (one namespace's results are never another's cache); the
admin ran it with another input in no namespace. Another namespace's run, artifact,
experiment or pipeline is answered exactly as a made-up id is; a listing is held to the
token's namespace; a view token reads and changes nothing; no token is 401; the admin
sees and changes everything.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_server import Server, open_platform

from dagyard import dsl, ir
from dagyard.compiler import compile_to_dict
from dagyard.dsl import Dataset, Input, Metrics, Output
from dagyard.service import experiments, pipelines, runs, tenancy
from dagyard.service.platform import Platform
from dagyard.store.records import Role

ADMIN_TOKEN = "admin-token-for-the-run-tenancy-tests"
MADE_UP = "0123456789abcdef0123456789abcdef"


@dsl.component
def write(text: str, out: Output[Dataset], metrics: Output[Metrics]) -> None:
    print(f"writing {text}", flush=True)
    with open(out.path, "w") as f:
        f.write(text)
    metrics.log_metric("length", len(text))


@dsl.component
def count(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return len(f.read())


@dsl.pipeline
def written(text: str = "hello") -> None:
    made = write(text=text)
    count(data=made.outputs["out"])


SPEC = compile_to_dict(written)


@dataclasses.dataclass
class World:
    server: Server
    platform: Platform
    tokens: dict[str, str]
    a_run: str  # team-a's, executed
    b_run: str  # team-b's, the same pipeline run anew: team-a's results are not its cache
    admin_run: str  # the admin's, in no namespace, executed
    a_artifact: str  # a_run's dataset
    admin_artifact: str
    a_experiment: str
    a_pipeline: str
    a_version: str
    shared_pipeline: str
    clients: dict[str | None, httpx.Client] = dataclasses.field(default_factory=dict)

    def as_(self, who: str | None) -> httpx.Client:
        """A client sending the token of `who` ("a-edit", "a-view", "b-edit", "admin"),
        or none."""
        if who not in self.clients:
            headers = {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}
            self.clients[who] = self.server.client(headers=headers)
        return self.clients[who]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _create(client: httpx.Client, **body: Any) -> httpx.Response:
    """POST /runs of `body`, with the test pipeline's spec unless it names a version."""
    pipeline = {} if "pipeline_version_reference" in body else {"pipeline_spec": SPEC}
    return client.post("/runs", json={"display_name": "tenancy", **pipeline, **body})


def _executed(world_platform: Platform, client: httpx.Client, text: str) -> str:
    run_id: str = _ok(_create(client, runtime_config={"parameters": {"text": text}}))["run_id"]
    assert runs.drive_run(world_platform, run_id).state.value == "SUCCEEDED"
    return run_id


def _dataset(platform: Platform, run_id: str) -> str:
    return next(a.artifact_id for a in platform.store.list_artifacts(run_id) if a.name == "out")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    platform = open_platform(tmp_path_factory.mktemp("tenancy-runs") / "home")
    tokens = {"admin": ADMIN_TOKEN}
    for namespace in ("team-a", "team-b"):
        tenancy.create_namespace(platform, namespace)
    tokens["a-edit"] = tenancy.create_token(platform, "team-a", Role.EDIT)[1]
    tokens["a-view"] = tenancy.create_token(platform, "team-a", Role.VIEW)[1]
    tokens["b-edit"] = tenancy.create_token(platform, "team-b", Role.EDIT)[1]
    document = ir.from_dict(SPEC)
    private, version = pipelines.create_pipeline_with_version(
        platform, document, name="private", namespace="team-a"
    )
    shared, _ = pipelines.create_pipeline_with_version(platform, document, name="shared")
    server = Server(platform, token=ADMIN_TOKEN).start()
    world = World(server, platform, tokens, "", "", "", "", "", "", "", "", "")
    try:
        world.a_run = _executed(platform, world.as_("a-edit"), "hello")
        world.b_run = _executed(platform, world.as_("b-edit"), "hello")
        world.admin_run = _executed(platform, world.as_("admin"), "admin's")
        b_tasks = platform.store.list_tasks(world.b_run)
        assert not [t.path for t in b_tasks if t.cache_hit]
        world.a_artifact = _dataset(platform, world.a_run)
        world.admin_artifact = _dataset(platform, world.admin_run)
        a_run = platform.store.get_run(world.a_run)
        assert a_run.experiment_id is not None
        world.a_experiment = a_run.experiment_id
        world.a_pipeline, world.a_version = private.pipeline_id, version.pipeline_version_id
        world.shared_pipeline = shared.pipeline_id
        yield world
    finally:
        for client in world.clients.values():
            client.close()
        server.stop()
        platform.close()


def _run_endpoints(run_id: str) -> list[tuple[str, str]]:
    """(method, path) of every endpoint of one run."""
    return [
        ("GET", f"/runs/{run_id}"),
        ("GET", f"/runs/{run_id}?task_details=false"),
        ("GET", f"/runs/{run_id}/tasks"),
        ("GET", f"/runs/{run_id}/nodes/write/logs"),
        ("GET", f"/runs/{run_id}/nodes/write/artifacts/out:read"),
        ("GET", f"/runs/{run_id}/artifacts"),
        ("POST", f"/runs/{run_id}:terminate"),
        ("POST", f"/runs/{run_id}:retry"),
        ("POST", f"/runs/{run_id}:archive"),
        ("POST", f"/runs/{run_id}:unarchive"),
        ("DELETE", f"/runs/{run_id}"),
    ]


def _artifact_endpoints(artifact_id: str) -> list[tuple[str, str]]:
    return [("GET", f"/artifacts/{artifact_id}"), ("GET", f"/artifacts/{artifact_id}:content")]


def _changes(run_id: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p in _run_endpoints(run_id) if m != "GET"]


def _absent(client: httpx.Client, method: str, path: str, real: str) -> None:
    """`path` (naming id `real`) is answered 404, exactly as with a made-up id."""
    seen = client.request(method, path)
    made_up = client.request(method, path.replace(real, MADE_UP))
    assert seen.status_code == 404, (path, seen.text)
    assert made_up.status_code == 404, (path, made_up.text)
    assert seen.text.replace(real, "ID") == made_up.text.replace(MADE_UP, "ID"), path


def _run_ids(client: httpx.Client, **params: Any) -> set[str]:
    listed = _ok(client.get("/runs", params={"page_size": 100, **params}))
    return {r["run_id"] for r in listed.get("runs", [])}


def test_without_a_token_every_runs_and_artifacts_endpoint_is_401(world: World) -> None:
    everything = [
        ("POST", "/runs"),
        ("GET", "/runs"),
        ("GET", "/artifacts"),
        ("GET", f"/runs:metrics?run_ids={world.a_run}"),
        *_run_endpoints(world.a_run),
        *_artifact_endpoints(world.a_artifact),
    ]
    with world.server.client(headers={"Authorization": "Bearer dgy_made-up"}) as stranger:
        for method, path in everything:
            assert world.as_(None).request(method, path).status_code == 401, path
            assert stranger.request(method, path).status_code == 401, path
    assert world.platform.store.get_run(world.a_run).state.value == "SUCCEEDED"


def test_team_a_edit_token_creates_reads_stops_archives_and_deletes_its_runs(
    world: World,
) -> None:
    member = world.as_("a-edit")
    made = _ok(_create(member))
    run_id = made["run_id"]
    default = world.platform.store.get_experiment(made["experiment_id"])
    assert (default.display_name, default.namespace) == ("Default", "team-a")
    in_experiment = _ok(_create(member, experiment_id=world.a_experiment))
    assert in_experiment["experiment_id"] == world.a_experiment
    referenced = _ok(_create(member, pipeline_version_reference={"pipeline_id": world.a_pipeline}))
    assert referenced["pipeline_version_reference"]["pipeline_version_id"] == world.a_version
    _ok(_create(member, pipeline_version_reference={"pipeline_id": world.shared_pipeline}))

    mine = {run_id, in_experiment["run_id"], referenced["run_id"], world.a_run}
    assert mine <= _run_ids(member)
    assert _run_ids(member) == _run_ids(member, namespace="team-a")
    assert world.a_run in _run_ids(member, experiment_id=world.a_experiment)
    assert _ok(member.get(f"/runs/{run_id}"))["state"] == "PENDING"
    assert _ok(member.get(f"/runs/{run_id}", params={"task_details": "false"}))["run_id"] == run_id
    _ok(member.get(f"/runs/{run_id}/tasks"))

    _ok(member.post(f"/runs/{run_id}:terminate"))
    assert _ok(member.get(f"/runs/{run_id}"))["state"] == "CANCELED"
    _ok(member.post(f"/runs/{run_id}:retry"))
    assert _ok(member.get(f"/runs/{run_id}"))["state"] == "PENDING"
    _ok(member.post(f"/runs/{run_id}:terminate"))
    _ok(member.post(f"/runs/{run_id}:archive"))
    assert _ok(member.get(f"/runs/{run_id}"))["storage_state"] == "ARCHIVED"
    _ok(member.post(f"/runs/{run_id}:unarchive"))
    assert _ok(member.get(f"/runs/{run_id}"))["storage_state"] == "AVAILABLE"
    _ok(member.delete(f"/runs/{run_id}"))
    assert member.get(f"/runs/{run_id}").status_code == 404

    # The executed run: its log, its artifacts, their bytes, its metrics.
    log = _ok(member.get(f"/runs/{world.a_run}/nodes/write/logs"))
    assert "writing hello" in log["text"]
    read = _ok(member.get(f"/runs/{world.a_run}/nodes/write/artifacts/out:read"))
    assert base64.b64decode(read["data"]) == b"hello"
    own = _ok(member.get(f"/runs/{world.a_run}/artifacts"))["artifacts"]
    assert {a["name"] for a in own} == {"out", "metrics"}
    listed = _ok(member.get("/artifacts", params={"page_size": 100}))["artifacts"]
    assert world.a_artifact in {a["artifact_id"] for a in listed}
    assert {a["run_id"] for a in listed} == {world.a_run}
    alone = _ok(member.get(f"/artifacts/{world.a_artifact}"))
    assert {c["run_id"] for c in alone["consumers"]} == {world.a_run}
    assert member.get(f"/artifacts/{world.a_artifact}:content").content == b"hello"
    metrics = member.get(
        "/runs:metrics", params={"run_ids": [world.a_run, world.b_run, world.admin_run]}
    )
    assert _ok(metrics) == {"metrics": {world.a_run: {"write/length": 5}}}


def test_another_namespace_is_told_a_run_or_artifact_does_not_exist(world: World) -> None:
    outsider = world.as_("b-edit")
    for method, path in _run_endpoints(world.a_run):
        _absent(outsider, method, path, world.a_run)
    for method, path in _artifact_endpoints(world.a_artifact):
        _absent(outsider, method, path, world.a_artifact)
    # The admin's runs (no namespace) are as absent to a namespace token.
    for method, path in [
        *_run_endpoints(world.admin_run),
        *_artifact_endpoints(world.admin_artifact),
    ]:
        real = world.admin_run if world.admin_run in path else world.admin_artifact
        _absent(world.as_("a-edit"), method, path, real)
    assert world.platform.store.get_run(world.a_run).state.value == "SUCCEEDED"

    # Creating a run in another namespace's experiment, or from its pipeline.
    for key, real in [
        ("experiment_id", world.a_experiment),
        ("pipeline_id", world.a_pipeline),
        ("pipeline_version_id", world.a_version),
    ]:
        seen, made_up = (
            _create(outsider, **{key: value})
            if key == "experiment_id"
            else _create(outsider, pipeline_version_reference={key: value})
            for value in (real, MADE_UP)
        )
        assert seen.status_code == made_up.status_code == 404, seen.text
        assert seen.text.replace(real, "ID") == made_up.text.replace(MADE_UP, "ID")
    shared = {"pipeline_version_reference": {"pipeline_id": world.shared_pipeline}}
    made = _ok(_create(outsider, **shared))["pipeline_version_reference"]
    assert made["pipeline_id"] == world.shared_pipeline


def test_another_namespace_lists_none_of_team_a_s_runs_artifacts_or_logs(world: World) -> None:
    outsider = world.as_("b-edit")
    listed = _run_ids(outsider)
    assert world.b_run in listed
    assert not listed & {world.a_run, world.admin_run}
    assert _run_ids(outsider, namespace="team-b") == listed
    refused = outsider.get("/runs", params={"namespace": "team-a"})
    assert refused.status_code == 403 and "team-a" in refused.json()["message"]
    assert outsider.get("/runs", params={"namespace": ""}).status_code == 200
    on_experiment = outsider.get("/runs", params={"experiment_id": world.a_experiment})
    made_up = outsider.get("/runs", params={"experiment_id": MADE_UP})
    assert on_experiment.status_code == made_up.status_code == 404
    assert on_experiment.text.replace(world.a_experiment, "ID") == made_up.text.replace(
        MADE_UP, "ID"
    )

    # team-b ran the same pipeline on the same input: its own outputs, none of team-a's.
    everything = _ok(outsider.get("/artifacts", params={"page_size": 100}))["artifacts"]
    assert {a["run_id"] for a in everything} == {world.b_run}
    of_a = _ok(outsider.get("/artifacts", params={"run_id": world.a_run}))
    assert of_a == _ok(outsider.get("/artifacts", params={"run_id": MADE_UP})) == {}
    own = _ok(outsider.get(f"/runs/{world.b_run}/artifacts"))["artifacts"]
    assert world.a_artifact not in {a["artifact_id"] for a in own}
    log = _ok(outsider.get(f"/runs/{world.b_run}/nodes/write/logs"))
    assert "writing hello" in log["text"] and "cached_from_node_id" not in log
    metrics = outsider.get("/runs:metrics", params={"run_ids": [world.a_run, world.b_run]})
    assert _ok(metrics) == {"metrics": {world.b_run: {"write/length": 5}}}


def test_a_view_token_reads_its_namespace_s_runs_but_changes_nothing(world: World) -> None:
    viewer = world.as_("a-view")
    assert world.a_run in _run_ids(viewer)
    assert _ok(viewer.get(f"/runs/{world.a_run}"))["state"] == "SUCCEEDED"
    assert "writing hello" in _ok(viewer.get(f"/runs/{world.a_run}/nodes/write/logs"))["text"]
    assert viewer.get(f"/artifacts/{world.a_artifact}:content").content == b"hello"

    for refused in [
        _create(viewer),
        _create(viewer, experiment_id=world.a_experiment),
        *(viewer.request(method, path) for method, path in _changes(world.a_run)),
    ]:
        assert refused.status_code == 403, refused.text
        assert "view token" in refused.json()["message"]
    run = world.platform.store.get_run(world.a_run)
    assert (run.state.value, run.storage_state.value) == ("SUCCEEDED", "AVAILABLE")


def test_the_admin_sees_and_changes_the_runs_of_every_namespace(world: World) -> None:
    admin = world.as_("admin")
    assert {world.a_run, world.b_run, world.admin_run} <= _run_ids(admin)
    assert world.a_run in _run_ids(admin, namespace="team-a")
    assert not _run_ids(admin, namespace="team-a") & {world.b_run, world.admin_run}
    listed = _ok(admin.get("/artifacts", params={"page_size": 100}))["artifacts"]
    assert {world.a_artifact, world.admin_artifact} <= {a["artifact_id"] for a in listed}
    of_team_a = _ok(admin.get("/artifacts", params={"page_size": 100, "namespace": "team-a"}))
    assert {a["run_id"] for a in of_team_a["artifacts"]} == {world.a_run}
    alone = _ok(admin.get(f"/artifacts/{world.a_artifact}"))
    assert {c["run_id"] for c in alone["consumers"]} == {world.a_run}
    of_b = _ok(admin.get(f"/runs/{world.b_run}/artifacts"))["artifacts"]
    assert world.a_artifact not in {a["artifact_id"] for a in of_b}
    log = _ok(admin.get(f"/runs/{world.b_run}/nodes/write/logs"))
    assert "writing hello" in log["text"]
    _ok(admin.post(f"/runs/{world.a_run}:archive"))
    _ok(admin.post(f"/runs/{world.a_run}:unarchive"))
    assert world.platform.store.get_run(world.a_run).storage_state.value == "AVAILABLE"


def test_a_run_whose_experiment_was_deleted_is_the_admin_s(world: World) -> None:
    admin, member = world.as_("admin"), world.as_("a-edit")
    experiment = experiments.create_experiment(
        world.platform, display_name="short-lived", namespace="team-a"
    )
    run_id = _ok(_create(admin, experiment_id=experiment.experiment_id))["run_id"]
    _ok(member.get(f"/runs/{run_id}"))
    experiments.delete_experiment(world.platform, experiment.experiment_id)
    _absent(member, "GET", f"/runs/{run_id}", run_id)
    assert run_id not in _run_ids(member)
    _ok(admin.get(f"/runs/{run_id}"))


def test_a_namespace_s_own_results_are_its_cache(world: World) -> None:
    """The same pipeline on the same input again in team-a: every task from the cache,
    from team-a's own run (team-b's identical run is not a candidate)."""
    run_id = _executed(world.platform, world.as_("a-edit"), "hello")
    try:
        tasks = world.platform.store.list_tasks(run_id)
        assert {t.path for t in tasks if t.cache_hit} == {"write", "count"}
        own = {t.task_id for t in world.platform.store.list_tasks(world.a_run)}
        assert {t.cached_from_task_id for t in tasks if t.cache_hit} <= own
    finally:
        _ok(world.as_("admin").delete(f"/runs/{run_id}"))
