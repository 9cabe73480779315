"""Dagyard as a user installs it: the built wheel in a fresh virtual environment.

`uv build` makes the sdist and, from it, the wheel (as an installer building from the
sdist would); the wheel goes into a new virtual environment with no extras and none of
the development tools (no kfp, no pytest). There, `dagyard compile` compiles and
`dagyard run` runs a Dagyard pipeline, `dagyard run` runs a pipeline compiled by the real
kfp 2.17.0 (whose `pip install kfp==2.17.0` line makes Dagyard build a task environment,
with the uv that came as a dependency), and `dagyard up` serves the built web UI and the
API.

The wheel and the environment are made once per test session (once for all xdist
workers, under a file lock in their shared temporary folder); uv's own download cache
is reused, so after the first time this costs seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uv

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "tests" / "pipelines"
UI_DIST = "dagyard/server/ui_dist"
# Test tools and optional features, none of which a plain install may bring.
NOT_INSTALLED = {"kfp", "pytest", "ray", "s3fs", "psycopg", "pymysql", "moto", "playwright"}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    bin: Path  # the clean environment's bin folder

    def env(self, home: Path) -> dict[str, str]:
        """The environment of a user who activated the clean venv, with their own home."""
        development = str(Path(sys.executable).parent)
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != development]
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env.update(PATH=os.pathsep.join([str(self.bin), *path]), DAGYARD_HOME=str(home))
        env["VIRTUAL_ENV"] = str(self.bin.parent)
        return env

    def dagyard(self, *args: str, home: Path, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(self.bin / "dagyard"), *args],
            env=self.env(home),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, (
            f"`dagyard {' '.join(args)}` exited with {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout


def _shared_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent  # the same for every worker


def _build_and_install(folder: Path) -> Installed:
    uv_bin = uv.find_uv_bin()
    dist = folder / "dist"
    subprocess.run(
        [uv_bin, "build", "--quiet", "--out-dir", str(dist), str(ROOT)],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
    )
    (wheel,) = dist.glob("dagyard-*.whl")
    (sdist,) = dist.glob("dagyard-*.tar.gz")
    venv = folder / "venv"
    subprocess.run([uv_bin, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv_bin, "pip", "install", "--quiet", "--python", python, str(wheel)], check=True
    )
    return Installed(wheel, sdist, venv / "bin")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Installed:
    folder = _shared_folder(tmp_path_factory, worker_id) / "dagyard-installed-wheel"
    folder.mkdir(exist_ok=True)
    with open(folder / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        done = folder / "installed.json"
        if done.is_file():
            record = json.loads(done.read_text())
            return Installed(Path(record["wheel"]), Path(record["sdist"]), Path(record["bin"]))
        result = _build_and_install(folder)
        done.write_text(
            json.dumps(
                {"wheel": str(result.wheel), "sdist": str(result.sdist), "bin": str(result.bin)}
            )
        )
        return result


def test_the_environment_has_no_extras_and_no_test_tools(installed: Installed) -> None:
    listing = subprocess.run(
        [
            uv.find_uv_bin(),
            "pip",
            "list",
            "--format",
            "json",
            "--python",
            str(installed.bin / "python"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {item["name"].lower() for item in json.loads(listing)}
    assert "dagyard" in names and "uv" in names
    assert not names & NOT_INSTALLED


def test_wheel_and_sdist_carry_the_built_ui(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        in_wheel = set(wheel.namelist())
    assert f"{UI_DIST}/index.html" in in_wheel
    assert any(re.fullmatch(rf"{UI_DIST}/assets/index-[\w-]+\.js", n) for n in in_wheel)
    with tarfile.open(installed.sdist) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert f"{UI_DIST}/index.html" in in_sdist  # so a wheel built from it needs no Node
    assert {"hatch_build.py", "ui/package.json", "ui/package-lock.json"} <= in_sdist
    assert not any(name.startswith("ui/node_modules") for name in in_sdist)


def test_dagyard_compiles_and_runs_a_dagyard_pipeline(installed: Installed, tmp_path: Path) -> None:
    source = str(PIPELINES / "dy_artifacts.py")
    out = installed.dagyard("run", "--json", source, home=tmp_path)
    assert _final_state(out) == "SUCCEEDED"
    compiled = tmp_path / "dy_artifacts.yaml"
    installed.dagyard("compile", source, "-o", str(compiled), home=tmp_path)
    assert "artifacts-pipeline" in compiled.read_text()


def test_dagyard_run_runs_a_kfp_compiled_pipeline_in_an_environment_uv_builds(
    installed: Installed, tmp_path: Path
) -> None:
    compiled = tmp_path / "kfp_artifacts.yaml"
    compile_with_kfp = (
        "import runpy, sys\nfrom kfp import compiler\n"
        "compiler.Compiler().compile(runpy.run_path(sys.argv[1])['pipeline'], sys.argv[2])"
    )
    source = PIPELINES / "kfp_artifacts.py"
    subprocess.run([sys.executable, "-c", compile_with_kfp, str(source), str(compiled)], check=True)
    assert "kfp==2.17.0" in compiled.read_text()

    out = installed.dagyard("run", "--json", str(compiled), home=tmp_path)
    assert _final_state(out) == "SUCCEEDED"
    # The clean environment has no kfp: the tasks ran in one built for kfp==2.17.0, by uv.
    (marker,) = tmp_path.glob("envs/*/dagyard-environment.json")
    record = json.loads(marker.read_text())
    assert "kfp==2.17.0" in record["requirements"] and record["installer"] == "uv"


def test_dagyard_up_serves_the_built_ui_and_the_api(installed: Installed, tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _server(installed, tmp_path, port) as server:
        _wait_until_healthy(base, server, tmp_path / "server.log")
        page = _get(f"{base}/").decode()
        assert "make ui" not in page  # the page shown when the UI was not built
        scripts = re.findall(r'<script[^>]+src="(/assets/index-[\w-]+\.js)"', page)
        assert scripts, page[:500]
        script = _get(base + scripts[0])
        with zipfile.ZipFile(installed.wheel) as wheel:
            assert script == wheel.read(UI_DIST + scripts[0])
        health = json.loads(_get(f"{base}/apis/v2beta1/healthz"))
        assert isinstance(health, dict)
    assert server.returncode == 0, (tmp_path / "server.log").read_text()[-2000:]


def _final_state(out: str) -> str:
    start = out.rfind("\n{") + 1  # the run record is the last thing printed
    record = json.loads(out[start:])
    state: str = record["state"]
    return state


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(installed: Installed, home: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`dagyard up` from the clean environment, stopped with SIGTERM on leaving."""
    command = [str(installed.bin / "dagyard"), "up", "--host", "127.0.0.1", "--port", str(port)]
    with open(home / "server.log", "ab") as log:  # the child keeps its own copy of the fd
        process = subprocess.Popen(
            command, env=installed.env(home), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"`dagyard up` exited early:\n{log.read_text()[-2000:]}"
        try:
            _get(f"{base}/apis/v2beta1/healthz")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)  # polling for the port to open, not waiting for time to pass
    raise AssertionError(f"`dagyard up` did not answer in 60 s:\n{log.read_text()[-2000:]}")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body
