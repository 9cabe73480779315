"""`dagyard up` as a user starts it: a real server process on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from dagyard import dsl
from dagyard.cli import exit_codes
from dagyard.compiler import compile_to_dict


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="adder")
def adder(a: int = 1) -> int:
    return add(a=a, b=2).output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def start(
    home: Path, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DAGYARD_HOME": str(home), **(env or {})}
    with open(home / "server.log", "ab") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen(
            [sys.executable, "-m", "dagyard.cli", "up", "--port", str(port), *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 20) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        assert process.poll() is None, "the server exited early; see server.log"
        try:
            call(base, "GET", "/apis/v2beta1/healthz")
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never answered healthz")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=20)


def test_up_serves_the_api_runs_submitted_runs_and_keeps_them_across_restarts(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp_path.mkdir(exist_ok=True)
    server = start(tmp_path, port)
    try:
        wait_ready(base, server)
        created = call(
            base,
            "POST",
            "/apis/v2beta1/runs",
            {
                "display_name": "from-api",
                "pipeline_spec": compile_to_dict(adder),
                "runtime_config": {"parameters": {"a": 5}},
            },
        )
        run_id = created["run_id"]
        deadline = time.monotonic() + 30
        while (run := call(base, "GET", f"/apis/v2beta1/runs/{run_id}"))["state"] != "SUCCEEDED":
            assert run["state"] in ("PENDING", "RUNNING"), run
            assert time.monotonic() < deadline, run
            time.sleep(0.05)
    finally:
        assert stop(server) == 0
    again = start(tmp_path, port)
    try:
        wait_ready(base, again)
        listed = call(base, "GET", "/apis/v2beta1/runs")
        assert [r["run_id"] for r in listed["runs"]] == [run_id]
        assert listed["runs"][0]["state"] == "SUCCEEDED"
    finally:
        stop(again)


def test_up_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    env = {**os.environ, "DAGYARD_HOME": str(tmp_path)}
    env.pop("DAGYARD_AUTH_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "dagyard.cli", "up", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Refusing to listen on 0.0.0.0 without an API token" in done.stderr


def test_the_kfp_command_line_works_against_dagyard_up(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)
    kfp = [str(Path(sys.executable).with_name("kfp")), "--endpoint", base]
    try:
        wait_ready(base, server)
        made = subprocess.run(
            [*kfp, "experiment", "create", "from-kfp-cli"], capture_output=True, text=True
        )
        assert made.returncode == 0, made.stderr
        listed = subprocess.run([*kfp, "experiment", "list"], capture_output=True, text=True)
        assert listed.returncode == 0, listed.stderr
        assert "from-kfp-cli" in listed.stdout
        runs = subprocess.run([*kfp, "run", "list"], capture_output=True, text=True)
        assert runs.returncode == 0, runs.stderr
    finally:
        stop(server)


def test_up_on_a_busy_port_says_so_and_suggests_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DAGYARD_HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "dagyard", "up", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == exit_codes.BAD_INPUT, done.stderr
    message = f"port {port} on 127.0.0.1 is in use; pick another with --port, e.g. --port "
    (line,) = [line for line in done.stderr.splitlines() if message in line]
    suggested = int(line.rsplit(" ", 1)[1])
    assert suggested > port
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr
    assert not (tmp_path / "dagyard.db").exists()  # nothing was opened


def test_up_logs_json_lines_with_an_access_log_on_request(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port, "--log-format", "json", "--access-log")
    try:
        wait_ready(base, server)
        call(base, "GET", "/apis/v2beta1/runs")
    finally:
        assert stop(server) == 0
    entries = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()]
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in entries), entries
    started = [e for e in entries if e["logger"] == "dagyard.up"]
    assert started[0]["message"].startswith(f"Dagyard on http://127.0.0.1:{port}")
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    listed = [e for e in access if e["path"] == "/apis/v2beta1/runs"]
    assert listed and listed[0]["method"] == "GET" and listed[0]["status"] == 200
    assert listed[0]["level"] == "INFO"


def test_up_has_no_access_log_by_default_and_log_level_hides_info(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)
    try:
        wait_ready(base, server)
    finally:
        assert stop(server) == 0
    text = (tmp_path / "server.log").read_text()
    assert f"INFO dagyard.up: Dagyard on http://127.0.0.1:{port}" in text
    assert "/apis/v2beta1/healthz" not in text  # polled by wait_ready, not logged

    (tmp_path / "server.log").unlink()
    quiet = start(tmp_path, port, "--log-level", "warning")
    try:
        wait_ready(base, quiet)
    finally:
        assert stop(quiet) == 0
    assert (tmp_path / "server.log").read_text() == ""


def test_up_answers_only_under_loopback_and_allowed_host_names(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(
        tmp_path,
        port,
        "--allowed-host",
        "dagyard.test",
        env={"DAGYARD_ALLOWED_HOSTS": "ci.example, *.corp.example"},
    )
    try:
        wait_ready(base, server)
        with httpx.Client(base_url=f"{base}/apis/v2beta1", timeout=10) as api:
            for host in (
                "localhost",
                f"[::1]:{port}",
                "dagyard.test",
                "ci.example",
                "a.corp.example",
            ):
                assert api.get("/runs", headers={"Host": host}).status_code == 200, host
            refused = api.get("/runs", headers={"Host": "rebind.attacker.example"})
            assert refused.status_code == 400
            assert "DAGYARD_ALLOWED_HOSTS" in refused.json()["message"]
    finally:
        assert stop(server) == 0


def test_up_refuses_a_chunked_oversize_body_without_holding_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port)

    def body(megabytes: int) -> Iterator[bytes]:
        yield b'{"display_name": "big", "description": "'
        block = b"x" * (1024 * 1024)
        for _ in range(megabytes):
            yield block
        yield b'"}'

    try:
        wait_ready(base, server)
        before = peak_memory(server.pid)
        with httpx.Client(base_url=f"{base}/apis/v2beta1", timeout=60) as api:
            answer = api.post("/experiments", content=body(100), headers=JSON)
            assert answer.status_code == 413, answer.text
            assert api.get("/experiments").json().get("experiments") is None
            small = api.post("/experiments", content=body(1), headers=JSON)
            assert small.status_code == 200, small.text
        # At most the limit (32 MB) is read before the cut; the whole body would be
        # 100 MB, held twice over while parsed.
        assert peak_memory(server.pid) - before < 64 * 1024 * 1024
    finally:
        assert stop(server) == 0


JSON = {"Content-Type": "application/json"}


def peak_memory(pid: int) -> int:
    """A process's peak resident memory so far, in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_up_warns_of_a_token_others_can_read_or_a_short_one(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("short\n")
    token_file.chmod(0o644)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(tmp_path, port, env={"DAGYARD_AUTH_TOKEN": ""})
    try:
        wait_ready(base, server)  # warned, not refused
    finally:
        assert stop(server) == 0
    log = (tmp_path / "server.log").read_text()
    assert f"The API token file {token_file} can be read by other users" in log
    assert f"chmod 600 {token_file}" in log
    assert f"The API token in {token_file} has 5 characters" in log

    token_file.write_text("a-long-enough-token-of-32-chars!\n")
    token_file.chmod(0o600)
    (tmp_path / "server.log").unlink()
    quiet = start(tmp_path, port, env={"DAGYARD_AUTH_TOKEN": ""})
    try:
        wait_ready(base, quiet)
    finally:
        assert stop(quiet) == 0
    assert "WARNING" not in (tmp_path / "server.log").read_text()
