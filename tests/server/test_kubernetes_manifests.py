"""deploy/kubernetes: the manifests and the image the scale-out guide tells users to
apply, checked against the code they configure.

No Kubernetes cluster or Docker engine runs on this machine, so nothing here applies
them; what is checked is that they name what Dagyard and Ray actually read: every
setting in the ConfigMap changes Dagyard's settings, the Ray address is the head Service
KubeRay makes for the RayCluster, the image's Ray is the Ray the tests run against, the
commands and options exist in the CLI, the probe's path is the open health check, and
the Secrets are the ones the guide creates.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import yaml
from api_server import Server, open_platform

from dagyard.cli.main import app as cli
from dagyard.server.routing import PREFIX
from dagyard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "deploy" / "kubernetes"


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    documents = list(yaml.safe_load_all((FOLDER / "dagyard-ray.yaml").read_text()))
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj["kind"] == "RayCluster":
        groups = [obj["spec"]["headGroupSpec"], *obj["spec"]["workerGroupSpecs"]]
        return [c for g in groups for c in g["template"]["spec"]["containers"]]
    return list(obj["spec"]["template"]["spec"]["containers"])


def test_every_setting_in_the_config_map_is_one_dagyard_reads(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    data = objects[("ConfigMap", "dagyard")]["data"]
    full = Settings.from_env(data)
    assert full.executor == "ray"
    for name in [n for n in data if n.startswith("DAGYARD_")]:
        without = {k: v for k, v in data.items() if k != name}
        try:
            changed = Settings.from_env(without) != full
        except Exception:  # a required setting: leaving it out is an error
            changed = True
        assert changed, f"{name} in the ConfigMap is not a setting Dagyard reads"


def test_the_ray_address_is_the_head_service_kuberay_makes(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    (cluster,) = [o for (kind, _), o in objects.items() if kind == "RayCluster"]
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    (gcs,) = [p["containerPort"] for p in head["ports"] if p["name"] == "gcs"]
    address = objects[("ConfigMap", "dagyard")]["data"]["DAGYARD_RAY_ADDRESS"]
    assert address == f"{cluster['metadata']['name']}-head-svc:{gcs}"


def test_every_pod_runs_the_image_built_on_the_tested_ray(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    pods = [o for o in objects.values() if o["kind"] in ("Deployment", "RayCluster")]
    images = {c["image"] for o in pods for c in _containers(o)}
    assert len(images) == 1
    (cluster,) = [o for (kind, _), o in objects.items() if kind == "RayCluster"]
    assert cluster["spec"]["rayVersion"] == version("ray")
    dockerfile = (FOLDER / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases[-1] == f"rayproject/ray:{version('ray')}-py311"


def test_the_commands_are_dagyards_and_the_service_reaches_the_server(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    commands = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    server = _containers(objects[("Deployment", "dagyard")])[0]
    program, name, *args = server["command"]
    assert (program, name) == ("dagyard", "up")
    options = {o for p in commands["up"].params for o in p.opts}
    assert {a for a in args if a.startswith("--")} <= options
    port = int(args[args.index("--port") + 1])
    assert server["ports"] == [{"containerPort": port, "name": "http"}]
    assert objects[("Service", "dagyard")]["spec"]["ports"][0]["targetPort"] == "http"
    worker = _containers(objects[("Deployment", "dagyard-worker")])[0]
    assert worker["command"][:2] == ["dagyard", "worker"] and "worker" in commands


def test_the_readiness_probe_is_the_health_check_open_without_the_token(
    objects: dict[tuple[str, str], dict[str, Any]], tmp_path: Path
) -> None:
    probe = _containers(objects[("Deployment", "dagyard")])[0]["readinessProbe"]["httpGet"]
    assert probe["path"] == f"{PREFIX}/healthz"
    platform = open_platform(tmp_path / "home")
    server = Server(platform, token="secret").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get(probe["path"]).status_code == 200
            assert client.get(f"{PREFIX}/runs").status_code == 401
    finally:
        server.stop()
        platform.close()


def test_the_secrets_are_the_ones_the_guide_creates(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    used = {
        ref["secretRef"]["name"]
        for o in objects.values()
        if o["kind"] in ("Deployment", "RayCluster")
        for c in _containers(o)
        for ref in c.get("envFrom", [])
        if "secretRef" in ref
    }
    guide = (ROOT / "docs" / "scale-out.md").read_text()
    created = set(re.findall(r"kubectl create secret generic (\S+)", guide))
    assert used == created
    assert "kubectl apply -f deploy/kubernetes/dagyard-ray.yaml" in guide
