"""Benchmark: the engine's runs on the local executor beside the Ray executor, and a
10,000-iteration ParallelFor of trivial tasks end to end (tasks per second, every task's
state written to the database as it goes).

The Ray cluster is real: a head and one more node, each a separate `ray start` process
on this machine (1 CPU each, in their own process groups, stopped at the end). Tasks ask
for no CPU, so Ray spreads them over both nodes; the engine's `max_parallel` (the CPU
count) bounds how many run at once, as with the local executor. Each case runs on a fresh
Dagyard home with SQLite, caching off, through the service layer (`submit_run` +
`drive_run`); compile time is not counted. A benchmark, not a test: it only reports.

    .venv/bin/python bench/ray_bench.py [--cases chain-100,loop-10000] [--executors local,ray]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dagyard import dsl
from dagyard.compiler import compile_to_dict

RAY = str(Path(sys.executable).parent / "ray")


@dsl.component
def step(i: int) -> int:
    return i + 1


@dsl.component
def nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def chain(n: int) -> Any:
    @dsl.pipeline(name=f"chain-{n}")
    def pipeline() -> None:
        value = step(i=0)
        for _ in range(n - 1):
            value = step(i=value.output)

    return pipeline


def sleepers() -> Any:
    @dsl.pipeline(name="sleep-4")
    def pipeline() -> None:
        for _ in range(4):
            nap(seconds=1.0)

    return pipeline


def loop(n: int) -> Any:
    @dsl.pipeline(name=f"loop-{n}")
    def pipeline(items: list[int] = list(range(n))) -> None:  # noqa: B006
        with dsl.ParallelFor(items) as item:
            step(i=item)

    return pipeline


CASES: dict[str, tuple[Callable[[], Any], int]] = {
    "chain-100": (lambda: chain(100), 100),
    "sleep-4": (sleepers, 4),
    "loop-1000": (lambda: loop(1000), 1000),
    "loop-10000": (lambda: loop(10_000), 10_000),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def ray_cluster() -> Iterator[str]:
    """A head and one more node as separate `ray start` processes; yields the address."""
    temp = tempfile.mkdtemp(prefix="dgyraybench-", dir="/tmp")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    nodes = [
        [
            "--head",
            "--port",
            str(port),
            "--temp-dir",
            temp,
            "--include-dashboard=false",
            "--ray-client-server-port",
            str(_free_port()),
            "--dashboard-agent-listen-port",
            str(_free_port()),
            *common,
        ],
        ["--address", address, "--dashboard-agent-listen-port", str(_free_port()), *common],
    ]
    groups: list[int] = []
    try:
        for args in nodes:
            started = subprocess.Popen(
                [RAY, "start", *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            groups.append(started.pid)
            output, _ = started.communicate(timeout=120)
            if started.returncode != 0:
                raise SystemExit(f"ray start failed:\n{output.decode(errors='replace')}")
        yield address
    finally:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            for pgid in groups:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signum)
            time.sleep(2)  # a teardown grace period, not a measurement


def run_case(case: str, executor: str, address: str) -> dict[str, Any]:
    from dagyard.service import runs
    from dagyard.service.platform import Platform
    from dagyard.settings import Settings

    build, tasks = CASES[case]
    spec = compile_to_dict(build())
    home = Path(tempfile.mkdtemp(prefix=f"dgy-{case}-{executor}-"))
    settings = Settings(home=home, cache_enabled=False, executor=executor, ray_address=address)
    platform = Platform.open(settings)
    try:
        warm = runs.submit_run(platform, compile_to_dict(chain(2)), parameters={})
        runs.drive_run(platform, warm.run_id)  # starts the executor's workers, untimed
        started = time.perf_counter()
        run = runs.submit_run(platform, spec, parameters={})
        run = runs.drive_run(platform, run.run_id)
        wall = time.perf_counter() - started
    finally:
        platform.close()
    return {
        "case": case,
        "executor": executor,
        "state": str(run.state),
        "tasks": tasks,
        "wall": wall,
        "per_task_ms": wall / tasks * 1000,
        "tasks_per_s": tasks / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--executors", default="local,ray")
    args = parser.parse_args()
    cases = args.cases.split(",")
    executors = args.executors.split(",")
    print(f"load average at start: {os.getloadavg()}")
    results = []
    with contextlib.ExitStack() as stack:
        address = stack.enter_context(ray_cluster()) if "ray" in executors else ""
        for case in cases:
            for executor in executors:
                result = run_case(case, executor, address)
                print(result, flush=True)
                results.append(result)
    print(f"load average at end: {os.getloadavg()}")
    print("\n| case | executor | state | tasks | wall s | ms/task | tasks/s |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['case']} | {r['executor']} | {r['state']} | {r['tasks']} | "
            f"{r['wall']:.2f} | {r['per_task_ms']:.1f} | {r['tasks_per_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
