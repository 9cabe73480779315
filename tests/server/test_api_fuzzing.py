"""Property-based requests over the served OpenAPI document (schemathesis): whatever a
client sends, the API never answers with a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from api_server import Server

pytestmark = pytest.mark.slow


def test_no_request_gets_a_server_error(server: Server, tmp_path: Path) -> None:
    with server.client() as api:  # some ids to find, so that not every call is a 404
        api.post("/experiments", json={"display_name": "fuzzed"}).raise_for_status()
    command = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(command),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--phases",
            "coverage,fuzzing",
            "--seed",
            "1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
    assert httpx.get(f"{server.url}/apis/v2beta1/healthz").status_code == 200
