"""Peer for `ray_bench.py`: N no-op Ray tasks on an existing cluster, submitted at once
and gathered, from a driver of its own (Ray's own floor per task on this machine).

    python bench/peers/ray_noop.py ADDRESS N

It prints `PEER ready` once warm, waits for a line on stdin (the benchmark reads its
CPU counters meanwhile), then runs and prints `PEER {"tasks": N, "wall": seconds}`; the
benchmark ignores every other line (Ray prints its workers' output there).
"""

from __future__ import annotations

import json
import sys
import time

import ray


@ray.remote(num_cpus=0)
def noop(i: int) -> int:
    return i + 1


def main() -> None:
    address, count = sys.argv[1], int(sys.argv[2])
    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    ray.get([noop.remote(i) for i in range(100)])  # warm-up: Ray starts its workers
    print("PEER ready", flush=True)
    sys.stdin.readline()  # the benchmark reads its CPU counters, then says go
    started = time.perf_counter()
    done = len(ray.get([noop.remote(i) for i in range(count)]))
    wall = time.perf_counter() - started
    print("PEER", json.dumps({"tasks": done, "wall": wall}), flush=True)


if __name__ == "__main__":
    main()
