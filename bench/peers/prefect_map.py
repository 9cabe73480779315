"""Peer for `ray_bench.py`: Prefect 3 mapping a trivial task over N items in one flow,
with Prefect's defaults (the thread-pool task runner, so each task runs as a thread of
this process, and a temporary local API server on SQLite that records the runs).

Runs in its own virtual environment (`ray_bench.py --peers prefect` makes it).

    python bench/peers/prefect_map.py N

It prints `PEER ready` once warm, waits for a line on stdin (the benchmark reads its
CPU counters meanwhile), then runs and prints `PEER {"tasks": N, "wall": seconds}`; the
benchmark ignores every other line (Ray prints its workers' output there).
"""

from __future__ import annotations

import json
import sys
import time

from prefect import flow, task


@task
def step(i: int) -> int:
    return i + 1


@flow
def loop(n: int) -> int:
    futures = step.map(range(n))
    return len([f.result() for f in futures])


def main() -> None:
    count = int(sys.argv[1])
    loop(2)  # warm-up: starts the temporary server, untimed
    print("PEER ready", flush=True)
    sys.stdin.readline()  # the benchmark reads its CPU counters, then says go
    started = time.perf_counter()
    done = loop(count)
    wall = time.perf_counter() - started
    print("PEER", json.dumps({"tasks": done, "wall": wall}), flush=True)


if __name__ == "__main__":
    main()
