"""Benchmark: submit -> wait of a trivial lightweight task, with and without the fork server.

Not a test (pytest does not collect it): it only reports. For each mode, one LocalExecutor
runs a few untimed tasks to warm up (the zygote starts on the first), then N tasks one after
another, each timed from `submit` to the `wait` that returns its outcome; the median and the
90th percentile are printed.

    .venv/bin/python tests/executors/bench_fork_server.py [-n 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Launch
from dagyard.executors.local import LocalExecutor
from dagyard.runtime.embed import EXECUTOR_INPUT_PLACEHOLDER, lightweight_container

SOURCE = """\
from dagyard.dsl import *
from typing import *

def add(a: int) -> int:
    return a + 1
"""


def launch(root: Path, n: int) -> Launch:
    folder = root / f"t{n}"
    folder.mkdir()
    command, args = lightweight_container(function_source=SOURCE, function_name="add")
    document = {
        "inputs": {"parameterValues": {"a": n}},
        "outputs": {
            "parameters": {"Output": {"outputFile": str(folder / "Output")}},
            "outputFile": str(folder / "executor_output.json"),
        },
    }
    text = json.dumps(document)
    return Launch(
        task_id=f"t{n}",
        run_id="bench",
        attempt=1,
        command=task_command([a.replace(EXECUTOR_INPUT_PLACEHOLDER, text) for a in command + args]),
        image="python:3.11",
        env={},
        workdir=folder,
        log_path=folder / "log.txt",
    )


def measure(fork_server: bool, n: int, root: Path) -> list[float]:
    executor = LocalExecutor(fork_server=fork_server)
    times = []
    try:
        for i in range(n + 5):
            task = launch(root, i)
            start = time.perf_counter()
            handle = executor.submit(task)
            outcome = executor.wait([handle], 60)[handle]
            elapsed = time.perf_counter() - start
            if not outcome.ok:
                raise SystemExit(f"task failed: {outcome}: {task.log_path.read_text()}")
            if i >= 5:
                times.append(elapsed)
    finally:
        executor.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=200, help="timed tasks per mode")
    options = parser.parse_args()
    for fork_server in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            times = sorted(measure(fork_server, options.n, Path(tmp)))
        median = statistics.median(times) * 1000
        p90 = times[int(len(times) * 0.9)] * 1000
        mode = "fork server" if fork_server else "exec       "
        print(f"{mode}: median {median:6.2f} ms, p90 {p90:6.2f} ms ({len(times)} tasks)")


if __name__ == "__main__":
    main()
