"""`dagyard up` as a user runs it, for the fault-injection tests of task logs and full
disks: a real server process on a free loopback port, with settings given as `DAGYARD_*`
variables, and the few API calls those tests make. Waits poll with deadlines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from conditions import eventually

from dagyard.compiler import compile_to_dict

T = TypeVar("T")


class DagyardUp:
    """`dagyard up` on `home` with `env` on top of this process's environment, and
    `args` after its own."""

    def __init__(self, home: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self._env = {**os.environ, "DAGYARD_HOME": str(home), **env}
        self._process: subprocess.Popen[bytes] | None = None
        self._args = args
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}/apis/v2beta1", timeout=30)

    def __enter__(self) -> DagyardUp:
        with open(self.home / "server.log", "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "dagyard.cli", "up", "--port", str(self.port), *self._args],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        eventually(self.answers, f"dagyard up answers (see {self.home / 'server.log'})", 30)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.api.close()
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=30)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def answers(self) -> bool:
        assert self._process is not None
        assert self._process.poll() is None, f"dagyard up exited; see {self.home / 'server.log'}"
        try:
            return self.api.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def peak_memory(self) -> int:
        """The server process's peak resident memory so far, in bytes (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
        return int(line.split()[1]) * 1024

    def submit(self, pipeline: Any, **parameters: Any) -> str:
        body = {
            "display_name": "faults",
            "pipeline_spec": compile_to_dict(pipeline),
            "runtime_config": {"parameters": parameters},
        }
        created = self.api.post("/runs", json=body)
        assert created.status_code == 200, created.text
        run_id: str = created.json()["run_id"]
        return run_id

    def finished(self, run_id: str, seconds: float = 180) -> dict[str, Any]:
        """The run once it has ended."""

        def ended() -> dict[str, Any] | None:
            run: dict[str, Any] = self.api.get(f"/runs/{run_id}").json()
            return run if run["state"] in ("SUCCEEDED", "FAILED", "CANCELED") else None

        return eventually(ended, f"run {run_id} ends", seconds)

    def task(self, run_id: str, path: str) -> dict[str, Any]:
        tasks = self.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
        found: dict[str, Any] = next(t for t in tasks if t["path"] == path)
        return found

    def read_log(self, run_id: str, task: str, offset: int = 0) -> tuple[str, dict[str, Any]]:
        """The task's log from `offset` as far as it is written, read piece by piece as
        a client does; with the last piece's answer."""
        text: list[str] = []
        while True:
            piece = self.api.get(f"/runs/{run_id}/nodes/{task}/logs", params={"offset": offset})
            assert piece.status_code == 200, piece.text
            answer: dict[str, Any] = piece.json()
            text.append(answer["text"])
            if answer["complete"] or answer["next_offset"] >= answer["size"]:
                return "".join(text), answer
            offset = answer["next_offset"]
