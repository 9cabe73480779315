"""`dagyard worker` as an operator starts it: a real child process on a home of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def test_worker_logs_json_lines_on_request_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagyard",
            "worker",
            "--home",
            str(tmp_path),
            "--log-format",
            "json",
        ],
        env={**os.environ, "DAGYARD_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        first = json.loads(worker.stderr.readline())  # blocks until the worker has started
    finally:
        worker.send_signal(signal.SIGTERM)
        _, rest = worker.communicate(timeout=30)  # reads and closes its stderr
    assert worker.returncode == 0, rest
    assert set(first) >= {"time", "level", "logger", "message"}
    assert first["logger"] == "dagyard.worker" and first["level"] == "INFO"
    assert first["message"].startswith("Dagyard worker ")
    assert str(tmp_path) in first["message"]
