"""The notebooks in examples/, executed as a user runs them: on a real Jupyter kernel
(ipykernel, driven by nbclient), against a real `dagyard up` child process on loopback,
with a home of their own. A cell that raises fails the test with the cell and its
traceback. Each notebook checks its own results in its last cells, so a notebook that
runs but shows the wrong thing fails too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`dagyard up` on a free port with a fresh home; yields the notebook's environment."""
    home = tmp_path / "home"
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DAGYARD_HOME": str(home), "DAGYARD_ENDPOINT": endpoint}
    # `!dagyard ...` in a cell finds this environment's command, as in an activated venv.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("DAGYARD_AUTH_TOKEN", None)
    env.pop("KF_PIPELINES_ENDPOINT", None)
    log = (tmp_path / "up.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "dagyard.cli", "up", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dagyard up exited: {(tmp_path / 'up.log').read_text()}")
            try:
                if httpx.get(f"{endpoint}/apis/v2beta1/healthz", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("dagyard up did not answer within 60 s")
            time.sleep(0.1)
        yield env
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_every_example_is_a_notebook() -> None:
    assert {path.name for path in NOTEBOOKS} >= {
        "quickstart.ipynb",
        "migrating-from-kfp.ipynb",
        "recurring-runs.ipynb",
    }


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_without_error_on_a_real_kernel(
    notebook: Path, platform: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    shutil.copytree(EXAMPLES, folder)
    document = nbformat.read(folder / notebook.name, as_version=4)
    client = NotebookClient(
        document,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=platform)
    # The runs the notebook made render as HTML in the notebook (`_repr_html_`).
    html = [
        output["data"]["text/html"]
        for cell in document.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "data" in output and "text/html" in output["data"]
    ]
    assert html, f"{notebook.name} showed no run, task or pipeline as HTML"
