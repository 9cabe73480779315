"""Benchmark: run the same pipelines with kfp.local and with Dagyard, side by side.

Pipelines of trivial lightweight components (`step(i: int) -> int: return i + 1`):

- chain-10, chain-100: each task takes the previous one's output;
- fan-in-20: 20 independent tasks, then one task that takes all 20 outputs;
- parallel-for-20: a ParallelFor over 20 items, then one task summing the collected outputs;
- sleep-4: 4 independent tasks that each sleep 1 s (the wall time shows concurrency);
- loop-1000: a ParallelFor over 1,000 items. kfp.local runs it at --kfp-loop items
  (default 100): at 1,000 it had done 705 iterations after 500 s, each taking about a
  second by then, with a 790 MB log;
- cached-7: a chain of 7, run once to fill the cache, then timed while fully cached.

Tools: `kfp` is kfp.local with `SubprocessRunner(use_venv=False)` and components as
declared (each task's command first runs `pip install kfp`); `kfp-no-install` is the same
with `install_kfp_package=False`; `dagyard` is the service layer (`submit_run` +
`drive_run`) with default settings on a fresh home per case. Caching is off in every case
but cached-7.

Each (case, tool) pair runs in a fresh child process of this script. The child imports
the tool, runs a one-task pipeline untimed as a warm-up, then times each run (a kfp
pipeline call; Dagyard's submit + drive of the compiled spec, compile not counted) and
keeps the median. Per task = wall / tasks run.

This is a benchmark, not a test: it asserts nothing and only reports.

    .venv/bin/python bench/run_bench.py [--cases chain-10,sleep-4] [--repeat 3]
        [--kfp-loop 100] [--json out.json] [--profile CASE]
"""

import argparse
import dataclasses
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("kfp", "kfp-no-install", "dagyard")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    description: str
    tools: tuple[str, ...]
    cached: bool = False


CASES = (
    Case("chain-10", "chain of 10 trivial tasks", TOOLS),
    Case("chain-100", "chain of 100 trivial tasks", TOOLS),
    Case("fan-in-20", "20 independent tasks + 1 fan-in", TOOLS),
    Case("parallel-for-20", "ParallelFor over 20 + 1 collecting task", TOOLS),
    Case("sleep-4", "4 independent tasks sleeping 1 s each", TOOLS),
    Case("loop-1000", "ParallelFor over 1,000 items", ("kfp-no-install", "dagyard")),
    Case(
        "cached-7", "second, fully cached run of a chain of 7", ("kfp-no-install", "dagyard"), True
    ),
)
BY_NAME = {case.name: case for case in CASES}

# (case, what is measured, limit in seconds, explanation)
TARGETS = (
    ("chain-100", "per_task_s", 0.020, "per-task overhead in a chain of 100 <= 20 ms"),
    ("loop-1000", "wall_s", 20.0, "1,000-iteration ParallelFor in under 20 s"),
    ("sleep-4", "wall_s", 2.5, "4 tasks sleeping 1 s in under 2.5 s"),
    ("cached-7", "wall_s", 0.100, "fully cached 7-task run in under 100 ms"),
)


# --------------------------------------------------------------------------- pipelines
# Real annotations, not strings: kfp reads the string "int" as an artifact type, which is
# also why this module does not use `from __future__ import annotations`.


def _components(dsl: Any, install: bool) -> dict[str, Any]:
    decorate: Callable[[Callable[..., Any]], Any] = dsl.component(install_kfp_package=install)

    @decorate
    def step(i: int) -> int:
        return i + 1

    # dagyard's self-containment check flags a name imported inside a component when the
    # module also has a global of that name, so this module imports no `time`.
    @decorate
    def nap(seconds: float) -> float:
        import time

        time.sleep(seconds)
        return seconds

    @decorate
    def total(xs: list[int]) -> int:
        # kfp.local hands collected ints over as floats.
        return int(sum(xs))

    @decorate
    def fan_in(
        x0: int,
        x1: int,
        x2: int,
        x3: int,
        x4: int,
        x5: int,
        x6: int,
        x7: int,
        x8: int,
        x9: int,
        x10: int,
        x11: int,
        x12: int,
        x13: int,
        x14: int,
        x15: int,
        x16: int,
        x17: int,
        x18: int,
        x19: int,
    ) -> int:
        return (
            x0
            + x1
            + x2
            + x3
            + x4
            + x5
            + x6
            + x7
            + x8
            + x9
            + x10
            + x11
            + x12
            + x13
            + x14
            + (x15 + x16 + x17 + x18 + x19)
        )

    return {"step": step, "nap": nap, "total": total, "fan_in": fan_in}


def build_pipeline(dsl: Any, case: str, *, install: bool, loop_size: int) -> tuple[Any, int]:
    """The pipeline of `case` and the number of tasks it runs."""
    c = _components(dsl, install)
    step, nap, total, fan_in = c["step"], c["nap"], c["total"], c["fan_in"]

    def chain(n: int) -> Callable[[], None]:
        def pipeline() -> None:
            task = step(i=0)
            for _ in range(n - 1):
                task = step(i=task.output)

        return pipeline

    def wide() -> None:
        tasks = [step(i=i) for i in range(20)]
        fan_in(**{f"x{i}": t.output for i, t in enumerate(tasks)})

    def loop(n: int, *, collect: bool) -> Callable[[], None]:
        def pipeline() -> None:
            with dsl.ParallelFor(list(range(n))) as item:
                stepped = step(i=item)
            if collect:
                total(xs=dsl.Collected(stepped.output))

        return pipeline

    def sleepers() -> None:
        for _ in range(4):
            nap(seconds=1.0)

    def warm_up() -> None:
        step(i=0)

    func: Callable[[], None]
    if case == "chain-10":
        func, tasks = chain(10), 10
    elif case == "chain-100":
        func, tasks = chain(100), 100
    elif case == "fan-in-20":
        func, tasks = wide, 21
    elif case == "parallel-for-20":
        func, tasks = loop(20, collect=True), 21
    elif case == "sleep-4":
        func, tasks = sleepers, 4
    elif case == "loop-1000":
        func, tasks = loop(loop_size, collect=False), loop_size
    elif case == "cached-7":
        func, tasks = chain(7), 7
    elif case == "warm-up":
        func, tasks = warm_up, 1
    else:
        raise ValueError(f"Unknown case {case!r}; choose from {', '.join(BY_NAME)}.")
    return dsl.pipeline(name=case)(func), tasks


# --------------------------------------------------------------------------- child side


def _quiet() -> None:
    # kfp warns about its Python support window and base images on every component, and
    # logs every task's output at INFO; none of that says anything about speed.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


class _KfpRunner:
    def __init__(self, case: Case, workdir: Path, install: bool, loop_size: int) -> None:
        from kfp import dsl, local

        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=str(workdir / "outputs"),
            enable_caching=case.cached,
        )
        self.warm_up, _ = build_pipeline(dsl, "warm-up", install=install, loop_size=loop_size)
        self.pipeline, self.tasks = build_pipeline(
            dsl, case.name, install=install, loop_size=loop_size
        )

    def run(self, pipeline: Any) -> float:
        gc.collect()
        start = perf_counter()
        pipeline()
        return perf_counter() - start


class _DagyardRunner:
    def __init__(self, case: Case, workdir: Path, loop_size: int) -> None:
        from dagyard import dsl
        from dagyard.compiler import compile_to_dict
        from dagyard.service.platform import Platform
        from dagyard.settings import Settings

        self.cached = case.cached
        self.platform = Platform.open(Settings(home=workdir / "home", cache_enabled=case.cached))
        warm_up, _ = build_pipeline(dsl, "warm-up", install=True, loop_size=loop_size)
        pipeline, self.tasks = build_pipeline(dsl, case.name, install=True, loop_size=loop_size)
        self.warm_up = compile_to_dict(warm_up)
        self.pipeline = compile_to_dict(pipeline)

    def run(self, spec: dict[str, Any], profiler: Any = None) -> float:
        from dagyard.service import runs
        from dagyard.store.records import RunState

        gc.collect()
        if profiler is not None:
            profiler.enable()
        start = perf_counter()
        run = runs.submit_run(self.platform, spec, parameters={}, cache_enabled=self.cached)
        run = runs.drive_run(self.platform, run.run_id)
        elapsed = perf_counter() - start
        if profiler is not None:
            profiler.disable()
        if run.state != RunState.SUCCEEDED:
            raise RuntimeError(f"Dagyard run {run.run_id} ended {run.state}: {run.error}")
        return elapsed


def run_child(tool: str, case: Case, repeat: int, loop_size: int) -> dict[str, Any]:
    """Time one case with one tool in this (fresh) process."""
    _quiet()
    with tempfile.TemporaryDirectory(prefix=f"run-bench-{tool}-") as tmp:
        workdir = Path(tmp)
        runner: _KfpRunner | _DagyardRunner
        if tool == "dagyard":
            import dagyard

            version = dagyard.__version__
            runner = _DagyardRunner(case, workdir, loop_size)
        else:
            import kfp

            version = kfp.__version__
            runner = _KfpRunner(case, workdir, tool == "kfp", loop_size)
        runner.run(runner.warm_up)
        if case.cached:
            runner.run(runner.pipeline)  # fills the cache
        walls = [runner.run(runner.pipeline) for _ in range(repeat)]
        if isinstance(runner, _DagyardRunner):
            runner.platform.close()
    wall = statistics.median(walls)
    return {
        "case": case.name,
        "tool": tool,
        "version": version,
        "tasks": runner.tasks,
        "repeat": repeat,
        "wall_s": wall,
        "per_task_s": wall / runner.tasks,
        "runs_s": walls,
    }


def profile_dagyard(case: Case, loop_size: int, out: Path) -> None:
    """Run `case` once with Dagyard under cProfile (the driver's thread) into `out`."""
    import cProfile

    _quiet()
    with tempfile.TemporaryDirectory(prefix="run-bench-profile-") as tmp:
        runner = _DagyardRunner(case, Path(tmp), loop_size)
        runner.run(runner.warm_up)
        if case.cached:
            runner.run(runner.pipeline)
        profiler = cProfile.Profile()
        runner.run(runner.pipeline, profiler)
        runner.platform.close()
    profiler.dump_stats(out)


# -------------------------------------------------------------------------- parent side


def _child_env() -> dict[str, str]:
    # With use_venv=False kfp.local runs each task's `python3` from PATH: make that this
    # interpreter's environment, which has kfp (install_kfp_package=False relies on it).
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def measure(tool: str, case: Case, repeat: int, loop_size: int) -> dict[str, Any]:
    """Run `run_child` in a fresh interpreter and return its result."""
    with tempfile.TemporaryDirectory(prefix="run-bench-out-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            tool,
            "--cases",
            case.name,
            "--repeat",
            str(repeat),
            "--kfp-loop",
            str(loop_size),
            "--json",
            str(out),
        ]
        log = Path(tmp) / "child.log"  # kfp.local logs every task's output: megabytes
        with log.open("wb") as sink:
            proc = subprocess.run(
                cmd, cwd=tmp, env=_child_env(), stdout=sink, stderr=subprocess.STDOUT, check=False
            )
        if proc.returncode != 0:
            tail = log.read_bytes()[-3000:].decode(errors="replace")
            sys.exit(f"{tool} on {case.name} failed (exit {proc.returncode}):\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def print_profile(path: Path, limit: int = 15) -> None:
    """The functions with the most own time, as file:function and share of the total."""
    import pstats

    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in entries.values()) or 1.0
    cumulative = max(entry[3] for entry in entries.values()) or 1.0
    print(f"cProfile of the driver thread: {total:.2f} s own time in all functions")
    print(f"{'own %':>6} {'cum %':>6} {'calls':>8}  function")
    rows = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    for (filename, line, function), (_, calls, own, cum, _) in rows:
        shares = f"{100 * own / total:6.1f} {100 * cum / cumulative:6.1f}"
        print(f"{shares} {calls:8d}  {_short(filename)}:{line}:{function}")
    by_file: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in entries.items():
        by_file[_short(filename)] = by_file.get(_short(filename), 0.0) + own
    print("own time by file:")
    for name, own in sorted(by_file.items(), key=lambda item: item[1], reverse=True)[:limit]:
        print(f"{100 * own / total:6.1f}  {name}")


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(REPO_ROOT) + "/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "?"
    return head + (" + local changes" if git("status", "--porcelain", "--", "dagyard") else "")


def machine(results: list[dict[str, Any]]) -> dict[str, Any]:
    versions = {r["tool"]: r["version"] for r in results}
    return {
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "kfp": versions.get("kfp", versions.get("kfp-no-install", "?")),
        "dagyard": versions.get("dagyard", "?"),
    }


def _ratio(results: list[dict[str, Any]], case: str, baseline: str) -> float | None:
    found = {r["tool"]: r["per_task_s"] for r in results if r["case"] == case}
    if "dagyard" in found and found.get(baseline):
        return float(found["dagyard"] / found[baseline])
    return None


COLUMNS = ("case", "tool", "tasks", "wall s", "per task ms", "vs kfp", "vs kfp-no-install")
RATIO_NOTE = "vs = dagyard per-task time / that tool's per-task time (below 1: dagyard is faster)"


def table_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        ratios = ["", ""]
        if r["tool"] == "dagyard":
            for i, baseline in enumerate(("kfp", "kfp-no-install")):
                value = _ratio(results, r["case"], baseline)
                ratios[i] = f"{value:.3f}" if value is not None else ""
        rows.append(
            [
                r["case"],
                r["tool"],
                str(r["tasks"]),
                f"{r['wall_s']:.3f}",
                f"{1000 * r['per_task_s']:.1f}",
                *ratios,
            ]
        )
    return rows


def _line(cells: list[str], widths: list[int]) -> str:
    aligned = [
        c.ljust(w) if i < 2 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(aligned).rstrip()


def print_table(results: list[dict[str, Any]]) -> None:
    rows = table_rows(results)
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(COLUMNS)]
    print(_line(list(COLUMNS), widths))
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            print()
        print(_line(row, widths))
        previous = row[0]
    print(RATIO_NOTE)


def print_targets(results: list[dict[str, Any]]) -> list[str]:
    """Print each target's verdict; return the cases whose target was missed."""
    missed = []
    for case, field, limit, text in TARGETS:
        found = [r for r in results if r["case"] == case and r["tool"] == "dagyard"]
        if not found:
            continue
        value = found[0][field]
        met = value <= limit if field == "per_task_s" else value < limit
        unit = f"{1000 * value:.1f} ms" if limit < 1 else f"{value:.2f} s"
        print(f"target: {text}: {'met' if met else 'NOT met'} ({unit})")
        if not met:
            missed.append(case)
    return missed


def _parse_cases(text: str) -> list[Case]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--cases takes names from {', '.join(BY_NAME)}; got {text!r}."
        )
    return [BY_NAME[n] for n in names]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=_parse_cases, default=list(CASES), help="comma-separated case names"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")
    parser.add_argument(
        "--kfp-loop", type=int, default=100, help="items of kfp.local's loop-1000 (default 100)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--profile", choices=list(BY_NAME), help="profile Dagyard on this case and stop"
    )
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}.")

    if args.child:
        (case,) = args.cases
        loop_size = args.kfp_loop if args.child != "dagyard" else 1000
        result = run_child(args.child, case, args.repeat, loop_size)
        args.json.write_text(json.dumps(result))
        return
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="run-bench-prof-") as tmp:
            out = Path(tmp) / "profile.pstats"
            profile_dagyard(BY_NAME[args.profile], 1000, out)
            print_profile(out)
        return

    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    results = []
    for case in args.cases:
        for tool in case.tools:
            print(
                f"running {case.name} ({case.description}) with {tool}, {args.repeat} runs...",
                file=sys.stderr,
            )
            results.append(measure(tool, case, args.repeat, args.kfp_loop))

    info = machine(results)
    print(f"command: {command}")
    print(
        f"machine: {info['cpus']} CPUs ({info['processor']}), {info['platform']}, "
        f"Python {info['python']}, kfp {info['kfp']}, dagyard {info['dagyard']} "
        f"(commit {info['commit']})"
    )
    print_table(results)
    missed = print_targets(results)
    if missed:
        print(f"profile a missed target with: {sys.argv[0]} --profile {missed[0]}")
    if args.json:
        args.json.write_text(
            json.dumps({"command": command, "machine": info, "results": results}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
