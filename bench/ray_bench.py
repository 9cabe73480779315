"""Benchmark: the engine's runs on the local executor beside the Ray executor, and a
10,000-iteration ParallelFor of trivial tasks end to end (tasks per second, every task's
state written to the database as it goes).

The Ray cluster is real: a head and one more node, each a separate `ray start` process
on this machine (1 CPU each, in their own process groups, stopped at the end). Tasks ask
for no CPU, so Ray spreads them over both nodes; the engine's `max_parallel` (the CPU
count) bounds how many run at once, as with the local executor. Each case runs on a fresh
Dagyard home with SQLite, caching off, through the service layer (`submit_run` +
`drive_run`); compile time is not counted. A benchmark, not a test: it only reports.

Beside each loop case, in the same run, its peers do the same fan-out of a trivial
function, each from a process of its own, warmed up first: N no-op Ray tasks on the same
cluster (`peers/ray_noop.py`: Ray's own cost, nothing recorded, no process per task) and
Prefect 3 mapping a task over N items (`peers/prefect_map.py`, with its defaults: tasks
as threads, a temporary API server on SQLite), in a virtual environment made under
bench/.peers on first use.

It also says where the CPU time goes, per task: read from /proc for every process on
the machine before and after each case, by role (this process, the task processes,
the Ray driver process, Ray's workers and its services, the database server with
--database, the peers), beside the whole machine's busy time. On 2 cores, that total
bounds the throughput at 2000 / (ms per task).

    .venv/bin/python bench/ray_bench.py [--cases chain-100,loop-10000] [--executors local,ray]
        [--peers ray,prefect|none] [--max-parallel N] [--database URL]

With --database, every case's state goes to that database (best a fresh one, e.g.
`psql -h 127.0.0.1 -U postgres -c 'create database dgybench'`, then
postgresql+psycopg://postgres@127.0.0.1:5432/dgybench).
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
PEERS_DIR = Path(__file__).resolve().parent / "peers"
# Prefect runs in a virtual environment of its own, made on first use (its pins clash
# with Dagyard's). 3.8.8 with FastAPI below 0.150: the newest pair that installs and runs
# from this machine's package index.
PREFECT_VENV = Path(__file__).resolve().parent / ".peers" / "prefect"
PREFECT_REQUIREMENTS = ("prefect==3.8.8", "fastapi>=0.139,<0.150")


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
    # No token, whatever this machine's ~/.ray holds (`ray start --head` asks for one
    # when ~/.ray/auth_token exists).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
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


# Where the CPU time of a case goes, by the role of each process (see `_role`).
ROLES = (
    "engine",
    "tasks",
    "ray driver",
    "ray workers",
    "ray services",
    "database",
    "peer",
    "other",
)


def _role(pid: int, command: str) -> str:
    if pid == os.getpid():
        return "engine"  # the orchestrator: driver loop, store, executor client
    if command.split(" ", 1)[0].rsplit("/", 1)[-1].startswith(("postgres", "mariadbd", "mysqld")):
        return "database"  # a database server's processes (with --database)
    if str(PEERS_DIR) in command or str(PREFECT_VENV) in command:
        return "peer"  # a peer's driver, and Prefect's API server
    if "fork server's zygote" in command:
        return "tasks"  # the zygotes and, once reaped, the task processes they forked
    if "dagyard.executors.ray_driver" in command:
        return "ray driver"
    if command.startswith("ray::"):
        return "ray workers"  # Ray's worker processes, which run the attempts
    if "/ray/" in command:
        return "ray services"  # raylet, GCS, agents, monitors
    return "other"


def cpu_seconds() -> tuple[dict[int, tuple[str, float]], float]:
    """CPU seconds so far of every process (its own and its reaped children's), with
    its role; and the whole machine's busy seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = sum(int(v) for v in fields[11:15]) / tick
        found[int(entry)] = (_role(int(entry), command), seconds)
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    busy = (sum(ticks) - ticks[3] - ticks[4]) / tick  # all but idle and iowait
    return found, busy


def cpu_by_role(
    before: tuple[dict[int, tuple[str, float]], float],
    after: tuple[dict[int, tuple[str, float]], float],
) -> dict[str, float]:
    spent = dict.fromkeys(ROLES, 0.0)
    for pid, (role, seconds) in after[0].items():
        earlier = before[0].get(pid)
        spent[role] += seconds - (earlier[1] if earlier and earlier[0] == role else 0.0)
    spent["machine"] = after[1] - before[1]
    return spent


def run_case(
    case: str, executor: str, address: str, max_parallel: int, database: str
) -> dict[str, Any]:
    from dagyard.service import runs
    from dagyard.service.platform import Platform
    from dagyard.settings import Settings

    build, tasks = CASES[case]
    spec = compile_to_dict(build())
    home = Path(tempfile.mkdtemp(prefix=f"dgy-{case}-{executor}-"))
    settings = Settings(
        home=home,
        cache_enabled=False,
        executor=executor,
        ray_address=address,
        max_parallel=max_parallel,
        database_url=database,
    )
    platform = Platform.open(settings)
    try:
        warm = runs.submit_run(platform, compile_to_dict(chain(2)), parameters={})
        runs.drive_run(platform, warm.run_id)  # starts the executor's workers, untimed
        before = cpu_seconds()
        started = time.perf_counter()
        run = runs.submit_run(platform, spec, parameters={})
        run = runs.drive_run(platform, run.run_id)
        wall = time.perf_counter() - started
        cpu = cpu_by_role(before, cpu_seconds())
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
        "cpu_ms_per_task": {role: round(s / tasks * 1000, 2) for role, s in cpu.items()},
    }


def prefect_python() -> Path | None:
    """The Python of Prefect's virtual environment, made if missing; None if it cannot be."""
    python = PREFECT_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"making {PREFECT_VENV} for the Prefect peer ({', '.join(PREFECT_REQUIREMENTS)})")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PREFECT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PREFECT_REQUIREMENTS],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError as e:
        print(f"no Prefect peer: {e}")
        return None
    return python


def _peer_line(stdout: Any) -> str:
    """The next line a peer says (`PEER ...`), skipping what else it prints; "" at its end."""
    for line in stdout:
        if line.startswith("PEER "):
            return str(line[len("PEER ") :].strip())
    return ""


def run_peer(case: str, peer: str, address: str) -> dict[str, Any] | None:
    """A peer doing the case's fan-out of trivial tasks; None if the case has no such peer."""
    if not case.startswith("loop-"):
        return None
    tasks = CASES[case][1]
    if peer == "ray alone":
        argv = [sys.executable, str(PEERS_DIR / "ray_noop.py"), address, str(tasks)]
    else:
        python = prefect_python()
        if python is None:
            return None
        argv = [str(python), str(PEERS_DIR / "prefect_map.py"), str(tasks)]
    home = tempfile.mkdtemp(prefix="dgy-peer-")
    env = {
        **os.environ,
        "PREFECT_HOME": home,
        "PREFECT_LOGGING_LEVEL": "ERROR",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",
    }
    errors = Path(home) / "stderr.log"  # Prefect logs noisily as its server stops
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
            cwd=home,
        ) as process,
    ):
        assert process.stdin is not None and process.stdout is not None
        if _peer_line(process.stdout) != "ready":
            process.kill()
            print(f"the {peer} peer did not start; see {errors}")
            return None
        before = cpu_seconds()
        process.stdin.write("go\n")
        process.stdin.flush()
        said = _peer_line(process.stdout)
        cpu = cpu_by_role(before, cpu_seconds())
        process.communicate(timeout=120)  # reads what else it prints until it ends
    if not said:
        print(f"the {peer} peer failed; see {errors}")
        return None
    result = json.loads(said)
    return {
        "case": case,
        "executor": peer,
        "state": "done" if result["tasks"] == tasks else f"{result['tasks']} results",
        "tasks": tasks,
        "wall": result["wall"],
        "per_task_ms": result["wall"] / tasks * 1000,
        "tasks_per_s": tasks / result["wall"],
        "cpu_ms_per_task": {role: round(s / tasks * 1000, 2) for role, s in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--executors", default="local,ray")
    parser.add_argument(
        "--max-parallel",
        type=int,
        default=0,
        help="attempts at once (default: the number of CPUs, as Dagyard's default)",
    )
    parser.add_argument(
        "--database",
        default="",
        help="the database URL (default: SQLite in each case's own home), e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/dgybench (best a fresh database)",
    )
    parser.add_argument(
        "--peers",
        default="ray,prefect",
        help="peers run beside the loop cases: ray (no-op Ray tasks), prefect (Prefect's "
        "map, in a virtual environment made under bench/.peers), or none",
    )
    args = parser.parse_args()
    cases = args.cases.split(",")
    executors = args.executors.split(",")
    peers = {"ray": "ray alone", "prefect": "prefect"}
    chosen = [peers[p] for p in args.peers.split(",") if p in peers]
    print(f"load average at start: {os.getloadavg()}")
    results = []
    with contextlib.ExitStack() as stack:
        needs_ray = "ray" in executors or "ray alone" in chosen
        address = stack.enter_context(ray_cluster()) if needs_ray else ""
        for case in cases:
            for executor in executors:
                result = run_case(case, executor, address, args.max_parallel, args.database)
                print(result, flush=True)
                results.append(result)
            for peer in chosen:
                found = run_peer(case, peer, address)
                if found is not None:
                    print(found, flush=True)
                    results.append(found)
    print(f"load average at end: {os.getloadavg()}")
    print("\n| case | executor | state | tasks | wall s | ms/task | tasks/s |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['case']} | {r['executor']} | {r['state']} | {r['tasks']} | "
            f"{r['wall']:.2f} | {r['per_task_ms']:.1f} | {r['tasks_per_s']:.0f} |"
        )
    print("\nCPU ms per task, by process role (machine: the whole machine's busy time)")
    print("\n| case | executor | " + " | ".join(ROLES) + " | machine |")
    print("|---|---|" + "---:|" * (len(ROLES) + 1))
    for r in results:
        cpu = r["cpu_ms_per_task"]
        cells = " | ".join(f"{cpu[role]:.2f}" for role in (*ROLES, "machine"))
        print(f"| {r['case']} | {r['executor']} | {cells} |")


if __name__ == "__main__":
    main()
