"""Benchmark: the engine at an earlier commit beside this checkout, in one run.

A refactoring must not cost speed. This script exports the tree of an earlier commit
(`git archive`, into a temporary folder) and runs `bench/ray_bench.py` on the local
executor (no Ray cluster, no peers) once per round for each side, alternating, each in
a child process whose `PYTHONPATH` puts that side's `dagyard` first (the task processes
inherit it). Each side runs its own copy of ray_bench.py, so a bench script that changed
with the code still measures the same pipelines. Rounds alternate before/after so that
drift in the machine's load falls on both sides; medians are reported, with the ratio
after / before of tasks per second.

A benchmark, not a test: it only reports.

    .venv/bin/python bench/before_after.py --before REF [--cases chain-100,loop-10000]
        [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def export(ref: str, into: Path) -> str:
    """The tree of `ref` unpacked into `into`; returns the commit's short hash."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO_ROOT, capture_output=True, text=True
    )
    if commit.returncode != 0:
        sys.exit(f"Unknown commit {ref!r}: {commit.stderr.strip()}")
    archive = into / "tree.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), ref], cwd=REPO_ROOT, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return commit.stdout.strip()


def run_side(tree: Path, cases: str) -> dict[str, tuple[float, float]]:
    """ray_bench on `tree`'s code: case -> (wall seconds, tasks per second)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # This checkout is installed in editable mode: make sure the side's own code wins.
    probe = [sys.executable, "-c", "import dagyard; print(dagyard.__file__)"]
    found_at = subprocess.run(probe, cwd=tree, env=env, capture_output=True, text=True)
    if not found_at.stdout.strip().startswith(str(tree)):
        sys.exit(f"dagyard imports from {found_at.stdout.strip()!r}, not from {tree}")
    command = [sys.executable, str(tree / "bench" / "ray_bench.py"), "--cases", cases]
    command += ["--executors", "local", "--peers", "none"]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"ray_bench on {tree} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    found: dict[str, tuple[float, float]] = {}
    for line in done.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        # | case | executor | state | tasks | wall s | ms/task | tasks/s |
        if len(cells) == 7 and cells[1] == "local" and cells[2] == "SUCCEEDED":
            found[cells[0]] = (float(cells[4]), float(cells[6]))
    missing = set(cases.split(",")) - set(found)
    if missing:
        sys.exit(f"ray_bench on {tree} reported no successful run of {sorted(missing)}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the earlier commit (any git ref)")
    parser.add_argument("--cases", default="chain-100,loop-10000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    after = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="before-after-") as tmp:
        before = export(args.before, Path(tmp))
        sides = {f"before ({before})": Path(tmp) / "tree", f"after ({after})": REPO_ROOT}
        runs: dict[str, list[dict[str, tuple[float, float]]]] = {side: [] for side in sides}
        print(f"load average at start: {os.getloadavg()}", flush=True)
        for round_number in range(1, args.rounds + 1):
            for side, tree in sides.items():
                result = run_side(tree, args.cases)
                runs[side].append(result)
                print(f"round {round_number} {side}: {result}", flush=True)
        print(f"load average at end: {os.getloadavg()}")
    print("\n| case | side | wall s (median) | tasks/s (median) | tasks/s, each round |")
    print("|---|---|---:|---:|---|")
    medians: dict[tuple[str, str], float] = {}
    for case in args.cases.split(","):
        for side in sides:
            walls = [r[case][0] for r in runs[side]]
            rates = [r[case][1] for r in runs[side]]
            medians[case, side] = statistics.median(rates)
            each = ", ".join(f"{rate:.0f}" for rate in rates)
            print(
                f"| {case} | {side} | {statistics.median(walls):.2f} | "
                f"{medians[case, side]:.0f} | {each} |"
            )
    print("\n| case | after / before, tasks/s |")
    print("|---|---:|")
    first, second = list(sides)
    for case in args.cases.split(","):
        print(f"| {case} | {medians[case, second] / medians[case, first]:.2f} |")


if __name__ == "__main__":
    main()
