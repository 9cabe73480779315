"""The REST API over a large metadata database: list latency at 100,000 runs, and
concurrent run submission.

For each backend (SQLite file; PostgreSQL in a fresh database created and dropped here),
the script seeds N runs with 3 tasks each straight into the store's tables (SQLAlchemy
Core bulk inserts: creation times spread over a year, 50 experiments of uneven size,
mixed states, every run carrying the real compiled spec of a 3-task pipeline), starts
the real API server (`create_app` under uvicorn, in a child process, loopback, no run
worker) and measures with httpx, sequentially:

- newest: `GET /runs?page_size=50&sort_by=created_at desc`;
- experiment: the same with `experiment_id=` of the largest experiment;
- deep: page 1,000 of the newest listing, reached by following 999 `next_page_token`s
  (keyset tokens: the mean latency of that walk is printed too).

Then it submits runs concurrently (`POST /runs` with the pipeline spec, a thread pool)
and counts acceptances and errors. A benchmark, not a test: it prints and asserts nothing.

    .venv/bin/python bench/api_bench.py                  # 100,000 runs, both backends
    .venv/bin/python bench/api_bench.py --runs 10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from dagyard import dsl
from dagyard.compiler import Compiler
from dagyard.store.sql import SqlMetadataStore
from dagyard.store.sql.database import create_engine, parse_url
from dagyard.store.sql.schema import ExperimentRow, RunRow, TaskRow

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
API = "/apis/v2beta1"
PAGE_SIZE = 50
DEEP_PAGE = 1000
EXPERIMENTS = 50
TASK_PATHS = ("add", "add-2", "write")
STATES = {"SUCCEEDED": 80, "FAILED": 10, "CANCELED": 4, "RUNNING": 3, "PENDING": 3}
CHUNK = 2000


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def write(text: str) -> str:
    return text


@dsl.pipeline(name="bench-sum")
def bench_sum(a: int = 1, b: int = 2) -> None:
    total = add(a=a, b=b)
    add(a=total.output, b=1)
    write(text="hello")


def _spec(folder: Path) -> dict[str, Any]:
    path = folder / "bench-sum.yaml"
    Compiler().compile(bench_sum, str(path))
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    return spec


# -- seeding --------------------------------------------------------------------------
def _seed(url: str, runs: int, spec: dict[str, Any]) -> tuple[float, str]:
    """Seed `runs` runs with 3 tasks each; the seconds it took and the largest experiment."""
    SqlMetadataStore(url).close()  # creates the schema (migrations) like the server does
    rng = random.Random(7)
    now = datetime.now(UTC)
    experiments = [f"exp-{i:02d}-{uuid.uuid4().hex[:8]}" for i in range(EXPERIMENTS)]
    weights = [1 / (i + 1) for i in range(EXPERIMENTS)]  # a few big experiments, many small
    states, state_weights = list(STATES), list(STATES.values())
    engine = create_engine(parse_url(url))
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(ExperimentRow.__table__),
            [
                {
                    "experiment_id": eid,
                    "display_name": eid,
                    "description": "",
                    "namespace": "",
                    "storage_state": "AVAILABLE",
                    "created_at": now - timedelta(days=366),
                    "last_run_created_at": None,
                }
                for eid in experiments
            ],
        )
    for first in range(0, runs, CHUNK):
        run_rows, task_rows = [], []
        for i in range(first, min(first + CHUNK, runs)):
            created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            state = rng.choices(states, state_weights)[0]
            finished = created + timedelta(seconds=rng.uniform(5, 600))
            done = state not in ("RUNNING", "PENDING")
            run_id = str(uuid.uuid4())
            run_rows.append(
                {
                    "run_id": run_id,
                    "display_name": f"bench-sum {i}",
                    "pipeline_spec": spec,
                    "state": state,
                    "experiment_id": rng.choices(experiments, weights)[0],
                    "description": "",
                    "pipeline_id": None,
                    "pipeline_version_id": None,
                    "runtime_config": {"parameters": {"a": i}},
                    "service_account": "",
                    "storage_state": "AVAILABLE",
                    "recurring_run_id": None,
                    "created_at": created,
                    "scheduled_at": None,
                    "finished_at": finished if done else None,
                    "error": "task add failed" if state == "FAILED" else None,
                    "outputs": {},
                    "cache_enabled": True,
                    "max_cache_staleness_seconds": None,
                    "state_history": [
                        {"update_time": created.isoformat(), "state": "PENDING", "error": None}
                    ],
                }
            )
            for path in TASK_PATHS:
                task_state = "SUCCEEDED" if done else "PENDING"
                task_rows.append(
                    {
                        "task_id": str(uuid.uuid4()),
                        "run_id": run_id,
                        "path": path,
                        "name": path,
                        "kind": "container",
                        "display_name": path,
                        "parent_task_id": None,
                        "iteration_index": None,
                        "state": task_state,
                        "attempts": 1 if done else 0,
                        "system_retries": 0,
                        "inputs": {"parameters": {"a": i, "b": 1}},
                        "outputs": {"parameters": {"Output": i + 1}} if done else {},
                        "fingerprint": uuid.uuid4().hex,
                        "cache_hit": False,
                        "cached_from_task_id": None,
                        "cache_reason": None,
                        "error": None,
                        "log_uri": None,
                        "node": None,
                        "created_at": created,
                        "started_at": created if done else None,
                        "finished_at": finished if done else None,
                        "warnings": [],
                    }
                )
        with engine.begin() as connection:
            connection.execute(sa.insert(RunRow.__table__), run_rows)
            connection.execute(sa.insert(TaskRow.__table__), task_rows)
    with engine.begin() as connection:
        largest = connection.execute(
            sa.select(RunRow.experiment_id)
            .group_by(RunRow.experiment_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return time.perf_counter() - started, largest


# -- the server -----------------------------------------------------------------------
def _serve(url: str, home: str, port: int) -> None:
    """The child process: the API over `url`, without a run worker."""
    import uvicorn

    from dagyard.server.app import create_app
    from dagyard.service.platform import Platform
    from dagyard.settings import Settings

    platform = Platform.open(Settings(home=Path(home), database_url=url))
    uvicorn.run(create_app(platform), host="127.0.0.1", port=port, log_level="warning", ws="none")


def _start_server(url: str, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(home), str(port)],
        cwd=Path(__file__).resolve().parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{API}/healthz", timeout=1).status_code == 200:
                return child, base
        except httpx.TransportError:
            time.sleep(0.1)
    child.kill()
    raise RuntimeError("the API server did not start")


# -- measuring ------------------------------------------------------------------------
def _latencies(
    client: httpx.Client, params: dict[str, Any], requests: int, seconds: float
) -> dict[str, Any]:
    """Up to `requests` sequential requests, stopping early after `seconds`."""
    client.get("/runs", params=params).raise_for_status()  # warm-up, not counted
    times: list[float] = []
    body: dict[str, Any] = {}
    deadline = time.monotonic() + seconds
    while len(times) < requests and (len(times) < 2 or time.monotonic() < deadline):
        started = time.perf_counter()
        response = client.get("/runs", params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": statistics.quantiles(times, n=20)[18],
        "max": max(times),
        "returned": len(body.get("runs", [])),
        "total": body.get("total_size", 0),
    }


def _walk(client: httpx.Client, params: dict[str, Any], pages: int) -> tuple[str, float]:
    """The token of page `pages` (1-based), reached by following next_page_token from the
    first page, and the mean latency of those requests in ms."""
    token, started = "", time.perf_counter()
    for _ in range(pages - 1):
        response = client.get("/runs", params={**params, "page_token": token} if token else params)
        response.raise_for_status()
        token = response.json()["next_page_token"]
    return token, (time.perf_counter() - started) * 1000 / max(pages - 1, 1)


def _submit(client: httpx.Client, spec: dict[str, Any], runs: int, threads: int) -> dict[str, Any]:
    def one(i: int) -> tuple[int, str]:
        body = {"display_name": f"submitted {i}", "pipeline_spec": spec}
        response = client.post("/runs", json=body)
        return response.status_code, "" if response.status_code == 200 else response.text

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(runs)))
    wall = time.perf_counter() - started
    errors = [text for status, text in results if status != 200]
    return {
        "accepted": len(results) - len(errors),
        "errors": len(errors),
        "locked": sum("locked" in text for text in errors),
        "first_error": errors[0][:200] if errors else "",
        "wall": wall,
        "per_s": runs / wall,
    }


def _bench(backend: str, url: str, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    spec = _spec(home)
    seed_s, experiment = _seed(url, args.runs, spec)
    print(f"{backend}: seeded {args.runs} runs + {3 * args.runs} tasks in {seed_s:.1f} s")
    child, base = _start_server(url, home)
    try:
        with httpx.Client(base_url=base + API, timeout=120) as client:
            newest = {"page_size": PAGE_SIZE, "sort_by": "created_at desc"}
            deep = min(DEEP_PAGE, args.runs // PAGE_SIZE)
            deep_token, walk_ms = _walk(client, newest, deep)
            print(f"  followed {deep - 1} page tokens, {walk_ms:.1f} ms per page")
            cases = {
                "newest 50": newest,
                "experiment, newest 50": {**newest, "experiment_id": experiment},
                f"page {deep} (rows {(deep - 1) * PAGE_SIZE + 1}-)": {
                    **newest,
                    "page_token": deep_token,
                },
            }
            result: dict[str, Any] = {
                "seed_s": seed_s,
                "deep": deep,
                "walk_ms": walk_ms,
                "lists": {},
            }
            for name, params in cases.items():
                result["lists"][name] = _latencies(client, params, args.requests, args.seconds)
                print(f"  {name}: {result['lists'][name]}")
            result["submit"] = _submit(client, spec, args.submit, args.threads)
            print(f"  submit: {result['submit']}")
    finally:
        child.terminate()
        child.wait(30)
    return result


def _postgres(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    name = f"dagyard_bench_{os.getpid()}"
    admin = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql:", "postgresql+psycopg:"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        return _bench("postgresql", PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", home, args)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.runs} runs x 3 tasks; n sequential requests per listing\n")
    print("| backend | request | n | p50 ms | p95 ms | max ms | runs returned | total_size |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for backend, result in results.items():
        for name, row in result["lists"].items():
            print(
                f"| {backend} | {name} | {row['n']} | {row['p50']:.1f} | {row['p95']:.1f} | "
                f"{row['max']:.1f} | {row['returned']} | {row['total']} |"
            )
    print(f"\nPOST /runs: {args.submit} runs, {args.threads} threads\n")
    print("| backend | seed s | accepted | errors | 'locked' | wall s | runs/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, result in results.items():
        s = result["submit"]
        print(
            f"| {backend} | {result['seed_s']:.1f} | {s['accepted']} | {s['errors']} | "
            f"{s['locked']} | {s['wall']:.2f} | {s['per_s']:.1f} |"
        )
    for backend, result in results.items():
        print(f"{backend}: walking to page {result['deep']}: {result['walk_ms']:.1f} ms per page")
        if result["submit"]["first_error"]:
            print(f"{backend}: first error: {result['submit']['first_error']}")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=40, help="time budget per listing")
    parser.add_argument("--submit", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="dagyard-api-bench-") as folder:
        for backend in args.backends.split(","):
            home = Path(folder) / backend
            home.mkdir()
            if backend == "sqlite":
                url = f"sqlite:///{home / 'dagyard.db'}"
                results[backend] = _bench(backend, url, home, args)
            else:
                results[backend] = _postgres(args, home)
    _table(results, args)


if __name__ == "__main__":
    main()
