"""Fixtures shared by every test folder: a real S3-compatible server for object-store
artifact roots; Ray's settings for every test that starts a cluster; and no container
runtime unless a test asks for one.

The S3 server is moto's standalone server, started as a child process on loopback once
per test process; each test that asks for `s3_root` gets a bucket of its own. The usual
AWS variables point every client at it (this process, and the task and Ray processes
started from it inherit them), as a user's environment would for real S3 or MinIO.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

# Ray, in this process and every one started from it: the clusters the tests start ask
# for no token whatever this machine's ~/.ray holds (`ray start --head` asks for one when
# ~/.ray/auth_token exists, and a plain `ray.init()` anywhere writes that file), and no
# Ray call made while not connected starts a local cluster of its own.
os.environ["RAY_AUTH_MODE"] = "disabled"
os.environ["RAY_ENABLE_AUTO_CONNECT"] = "0"
# Container commands run on this machine in every test (and every process a test starts)
# but those about containers, which ask for a runtime themselves: with a runtime found
# (`auto`, the default), a test's `alpine` or `python:3.11` task would be pulled from a
# registry these machines cannot reach.
os.environ["DAGYARD_CONTAINER_RUNTIME"] = "off"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The S3 server exited at start with code {process.returncode}.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"The S3 server did not listen on port {port} in time.")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a running S3-compatible server, with the AWS variables set for it."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    variables = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "dagyard-test",
        "AWS_SECRET_ACCESS_KEY": "dagyard-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in variables}
    try:
        _wait_for_port(port, process, time.monotonic() + 30)
        os.environ.update(variables)
        yield endpoint
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        process.terminate()
        process.wait(10)


@pytest.fixture
def s3_root(s3_endpoint: str) -> str:
    """`s3://<a new bucket>/artifacts` on the test S3 server."""
    from dagyard.store.artifact_store import open_url

    bucket = f"dagyard-{uuid.uuid4().hex[:12]}"
    fs, _ = open_url(f"s3://{bucket}")
    fs.mkdir(bucket)
    return f"s3://{bucket}/artifacts"
