"""Benchmark: what a task costs in its image (Podman) against the same task on this
machine, and what dominates a container's start.

Two chains of trivial tasks, each task adding 1 to its input, written with `dagyard.dsl`:
- a container chain: container components (`sh -c` writing `$0 + 1` to an output file),
  run on this machine (DAGYARD_CONTAINER_RUNTIME=off) and in their image (podman);
- a lightweight chain: Python components, run on this machine (the default, forked from a
  warm interpreter) and in their image (DAGYARD_TASK_ISOLATION=image).
Each is a `dagyard run --no-cache --json` in a child process of the checkout's virtual
environment, in a fresh home, measured from its start to its exit; the median task is
read from the run's record (start to end of each task, as recorded). The raw costs of the
runtime alone are measured beside them: `podman run --rm IMAGE true` with the options
Dagyard gives every container, with the host's network instead of a network of its own,
and `podman image exists`, which Dagyard asks before every task.

The image is the test suite's base image (Debian with Python, built once with mmdebstrap
and Podman: tests/containers/images.py), or `--image`.

This is a benchmark, not a test: it asserts nothing and only reports.

    .venv/bin/python bench/container_bench.py [--tasks 10] [--repeat 3] [--image IMAGE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parent.parent
DAGYARD = REPO / ".venv" / "bin" / "dagyard"
PIPELINES = """
from dagyard import compiler, dsl
from dagyard.dsl import OutputPath


@dsl.container_component
def add_one_in_sh(x: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image={image!r},
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; echo $(( $0 + 1 )) > "$1"'],
        args=[x, out],
    )


@dsl.component(base_image={image!r})
def add_one(x: int) -> int:
    return x + 1


@dsl.pipeline(name="container-chain")
def container_chain(x: int = 0):
    task = add_one_in_sh(x=x)
    for _ in range({tasks} - 1):
        task = add_one_in_sh(x=task.output)


@dsl.pipeline(name="lightweight-chain")
def lightweight_chain(x: int = 0):
    task = add_one(x=x)
    for _ in range({tasks} - 1):
        task = add_one(x=task.output)


compiler.Compiler().compile(container_chain, "container-chain.yaml")
compiler.Compiler().compile(lightweight_chain, "lightweight-chain.yaml")
"""
_OFF = {"DAGYARD_CONTAINER_RUNTIME": "off"}
_PODMAN = {"DAGYARD_CONTAINER_RUNTIME": "podman"}
_IMAGE = {**_PODMAN, "DAGYARD_TASK_ISOLATION": "image"}
KINDS = {
    "container chain, on this machine": ("container-chain.yaml", _OFF),
    "container chain, in its image": ("container-chain.yaml", _PODMAN),
    "lightweight chain, on this machine": ("lightweight-chain.yaml", _PODMAN),
    "lightweight chain, in its image": ("lightweight-chain.yaml", _IMAGE),
}


def run_once(work: Path, pipeline: str, env: dict[str, str], tasks: int) -> tuple[float, float]:
    """The wall time of one `dagyard run` in a fresh home, and its median task in ms."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    child = {**os.environ, **env, "DAGYARD_HOME": str(home)}
    start = perf_counter()
    done = subprocess.run(
        [str(DAGYARD), "run", "--no-cache", "--json", pipeline],
        cwd=work,
        env=child,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{pipeline} failed ({env}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    record = json.loads(done.stdout)
    outputs = [t for t in record["tasks"] if not t["cache_hit"]]
    assert len(outputs) == tasks, f"expected {tasks} tasks, the record has {len(outputs)}"
    spans = [
        datetime.fromisoformat(t["end_time"]) - datetime.fromisoformat(t["start_time"])
        for t in outputs
    ]
    return wall, 1000 * statistics.median(s.total_seconds() for s in spans)


def raw_seconds(argv: list[str]) -> float:
    start = perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=10, help="tasks per chain")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (medians)")
    parser.add_argument("--image", help="the image (default: the test suite's base image)")
    options = parser.parse_args()

    podman = shutil.which("podman")
    if podman is None:
        sys.exit("This benchmark needs Podman (`make podman` installs it).")
    image = options.image
    if image is None:
        sys.path.insert(0, str(REPO / "tests"))
        from containers.images import BASE_IMAGE, ensure_image

        image = ensure_image(BASE_IMAGE)
    sys.path.insert(0, str(REPO))
    from dagyard.executors.containers import machine_run_options

    work = Path(tempfile.mkdtemp(prefix="dagyard-container-bench-"))
    try:
        script = work / "pipelines.py"
        script.write_text(PIPELINES.format(image=image, tasks=options.tasks))
        subprocess.run([str(REPO / ".venv" / "bin" / "python"), str(script)], cwd=work, check=True)
        print(
            f"Dagyard at {_commit()}, {options.tasks} tasks per chain, image {image}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f} at the start"
        )
        measured: dict[str, list[tuple[float, float]]] = {name: [] for name in KINDS}
        limits = list(machine_run_options())
        raw = {
            "podman run --rm IMAGE true": [podman, "run", "--rm", *limits, image, "true"],
            "  the same, --log-driver passthrough": [
                podman, "run", "--rm", *limits, "--log-driver", "passthrough", image, "true"
            ],
            "  the same, --network host": [
                podman, "run", "--rm", *limits, "--log-driver", "passthrough",
                "--network", "host", image, "true",
            ],
            "podman image exists IMAGE": [podman, "image", "exists", image],
        }  # fmt: skip
        raws: dict[str, list[float]] = {name: [] for name in raw}
        for round_ in range(options.repeat):
            for name, (pipeline, env) in KINDS.items():
                wall, task = run_once(work, pipeline, env, options.tasks)
                measured[name].append((wall, task))
                print(f"  round {round_ + 1}  {name:<38}{wall:7.2f} s  median task {task:7.1f} ms")
            for name, argv in raw.items():
                raws[name].append(raw_seconds(argv))
        print(f"\nmedians of {options.repeat} round(s)")
        print(f"  {'':<38}{'run':>9}  {'per task':>9}  {'median task':>12}")
        medians = {}
        for name, values in measured.items():
            wall = statistics.median(w for w, _ in values)
            task = statistics.median(t for _, t in values)
            medians[name] = task
            per = 1000 * wall / options.tasks
            print(f"  {name:<38}{wall:7.2f} s  {per:6.0f} ms  {task:9.1f} ms")
        for name, values in raws.items():
            print(f"  {name:<38}{1000 * statistics.median(values):7.0f} ms")
        for what in ("container", "lightweight"):
            here = medians[f"{what} chain, on this machine"]
            there = medians[f"{what} chain, in its image"]
            print(f"  {what} task in its image / on this machine: {there / here:6.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
