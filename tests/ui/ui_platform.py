"""A running `dagyard up` for the UI tests, started and stopped by them or by the
fixtures of conftest.py (test modules import from here, never from conftest)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from dagyard.compiler import compile_to_dict
from dagyard.server.ui import UI_DIST


def missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; `make test` prepares it.")
    pytest.skip(what)


class Platform:
    """A running `dagyard up`: its URL and home."""

    def __init__(self, url: str, home: Path, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.home = home
        self.process = process
        self.api = httpx.Client(base_url=f"{url}/apis/v2beta1", timeout=30)

    def wait_for(self, check: object, what: str, seconds: float = 120) -> object:
        deadline = time.monotonic() + seconds
        while True:
            result = check()  # type: ignore[operator]
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting until {what}")
            time.sleep(0.1)


def start_platform(
    home: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None
) -> Platform:
    """`dagyard up` with `args` on `port` (default: a free one) over `home`, once it
    answers healthz."""
    if not (UI_DIST / "index.html").is_file():
        missing(f"The web UI is not built in {UI_DIST}")
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    command = [
        str(Path(sys.executable).with_name("dagyard")),
        "up",
        *args,
        "--port",
        str(port),
        "--home",
        str(home),
    ]
    with (home / "server.log").open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/apis/v2beta1/healthz", timeout=1).status_code == 200:
                return Platform(url, home, process)
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((home / "server.log").read_text())
        time.sleep(0.05)


def stop_platform(platform: Platform) -> None:
    platform.api.close()
    platform.process.terminate()
    platform.process.wait(30)


def submit_run(
    platform: Platform,
    pipeline: Any,
    run_name: str,
    experiment_id: str | None = None,
    *,
    cache: bool = True,
    **parameters: Any,
) -> str:
    """Submit a run of `pipeline` through the API; its id, without waiting."""
    body: dict[str, Any] = {
        "display_name": run_name,
        "pipeline_spec": compile_to_dict(pipeline),
        "runtime_config": {"parameters": parameters},
        "cache_enabled": cache,
    }
    if experiment_id:
        body["experiment_id"] = experiment_id
    response = platform.api.post("/runs", json=body)
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def run_state(platform: Platform, run_id: str) -> str:
    state: str = platform.api.get(f"/runs/{run_id}").json()["state"]
    return state


def wait_state(platform: Platform, run_id: str, state: str, seconds: float = 120) -> None:
    platform.wait_for(lambda: run_state(platform, run_id) == state, f"{run_id} is {state}", seconds)
