"""Benchmark: build and compile a wide pipeline with dagyard and with kfp, side by side.

For each size N, one pipeline calls a trivial lightweight component N times with
constants (N independent tasks). For each tool it measures:

- build: applying `@dsl.pipeline` to the pipeline function (runs it, creates all tasks);
- compile: `Compiler().compile(pipeline, "<tmp>/pipeline.yaml")`;
- the YAML size in bytes and the number of entries under `components` in the IR.

Each (tool, size) pair runs in a fresh child process of this script, so neither tool
benefits from the other's imports or caches. In the child, the tool is imported first
(import time is reported separately, not counted), one tiny pipeline is built and
compiled untimed as a warm-up, then each measurement is repeated and the median kept.

This is a benchmark, not a test: it asserts nothing and only reports.

    .venv/bin/python bench/compile_bench.py [--sizes 10,200,1000] [--repeat R] [--json out.json]
"""

import argparse
import gc
import importlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

TOOLS = ("kfp", "dagyard")
DEFAULT_SIZES = (10, 200, 1000)
TARGET_RATIO = 0.25  # dagyard total / kfp total at the largest size
REPO_ROOT = Path(__file__).resolve().parent.parent


def default_repeat(n: int) -> int:
    """How often to repeat each measurement: more for cheap small pipelines."""
    if n <= 10:
        return 15
    if n <= 200:
        return 7
    return 3


# --------------------------------------------------------------------------- child side


def _quiet_warnings() -> None:
    # kfp warns (FutureWarning) about its Python support window and base images on every
    # component; the noise says nothing about speed.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"kfp\..*")


def _make_step(dsl: Any) -> Any:
    # Real annotations, not strings: kfp reads the string "int" as an artifact type, which
    # is also why this module does not use `from __future__ import annotations`.
    @dsl.component
    def step(i: int) -> int:
        return i

    return step


def _make_pipeline_func(step: Any, n: int) -> Any:
    def wide() -> None:
        for i in range(n):
            step(i=i)

    return wide


def _build(dsl: Any, step: Any, n: int) -> tuple[float, Any]:
    func = _make_pipeline_func(step, n)
    gc.collect()
    start = time.perf_counter()
    pipeline = dsl.pipeline(name=f"wide-{n}")(func)
    return time.perf_counter() - start, pipeline


def _compile(compiler: Any, pipeline: Any, path: Path) -> float:
    gc.collect()
    start = time.perf_counter()
    compiler.Compiler().compile(pipeline, str(path))
    return time.perf_counter() - start


def _count_components(path: Path) -> int:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as f:
        document = yaml.load(f, Loader=loader)  # CSafeLoader or SafeLoader
    return len(document.get("components", {}))


def run_child(tool: str, n: int, repeat: int) -> dict[str, Any]:
    """Measure one tool at one size in this (fresh) process."""
    _quiet_warnings()
    start = time.perf_counter()
    package = importlib.import_module(tool)
    dsl = importlib.import_module(f"{tool}.dsl")
    compiler = importlib.import_module(f"{tool}.compiler")
    import_s = time.perf_counter() - start

    step = _make_step(dsl)
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        path = Path(tmp) / "pipeline.yaml"
        _, tiny = _build(dsl, step, 2)  # warm-up: first-call costs are not per-pipeline
        _compile(compiler, tiny, path)

        builds: list[float] = []
        compiles: list[float] = []
        for _ in range(repeat):
            build_s, pipeline = _build(dsl, step, n)
            builds.append(build_s)
            compiles.append(_compile(compiler, pipeline, path))
            del pipeline
        yaml_bytes = path.stat().st_size
        components = _count_components(path)

    build = statistics.median(builds)
    compile_ = statistics.median(compiles)
    return {
        "tool": tool,
        "version": getattr(package, "__version__", "?"),
        "tasks": n,
        "repeat": repeat,
        "import_s": import_s,
        "build_s": build,
        "compile_s": compile_,
        "total_s": build + compile_,
        "build_runs_s": builds,
        "compile_runs_s": compiles,
        "yaml_bytes": yaml_bytes,
        "components": components,
    }


# -------------------------------------------------------------------------- parent side


def measure(tool: str, n: int, repeat: int) -> dict[str, Any]:
    """Run `run_child` in a fresh interpreter and return its result."""
    with tempfile.TemporaryDirectory(prefix="bench-out-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            tool,
            "--sizes",
            str(n),
            "--repeat",
            str(repeat),
            "--json",
            str(out),
        ]
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"{tool} at {n} tasks failed (exit {proc.returncode}):\n{proc.stderr}")
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def machine(results: list[dict[str, Any]]) -> dict[str, Any]:
    versions = {r["tool"]: r["version"] for r in results}
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "kfp": versions.get("kfp", "?"),
        "dagyard": versions.get("dagyard", "?"),
    }


def ratio_of(results: list[dict[str, Any]], n: int) -> float | None:
    totals = {r["tool"]: r["total_s"] for r in results if r["tasks"] == n}
    if "kfp" in totals and "dagyard" in totals and totals["kfp"] > 0:
        return float(totals["dagyard"] / totals["kfp"])
    return None


COLUMNS = (
    "tasks",
    "tool",
    "build s",
    "compile s",
    "total s",
    "YAML KB",
    "components",
    "ratio",
)
RATIO_NOTE = "ratio = dagyard total s / kfp total s at the same number of tasks"


def table_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        ratio = ratio_of(results, r["tasks"]) if r["tool"] == "dagyard" else None
        rows.append(
            [
                str(r["tasks"]),
                r["tool"],
                f"{r['build_s']:.4f}",
                f"{r['compile_s']:.4f}",
                f"{r['total_s']:.4f}",
                f"{r['yaml_bytes'] / 1024:.1f}",
                str(r["components"]),
                f"{ratio:.3f}" if ratio is not None else "",
            ]
        )
    return rows


def print_table(results: list[dict[str, Any]]) -> None:
    rows = table_rows(results)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(COLUMNS)]
        print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths, strict=True)))
        for row in rows:
            print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
        print(RATIO_NOTE)
        return
    table = Table(title="Build and compile N independent tasks (medians)", caption=RATIO_NOTE)
    for column in COLUMNS:
        justify = "left" if column == "tool" else "right"
        table.add_column(column, justify=justify, no_wrap=True, min_width=len(column))
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            table.add_section()
        table.add_row(*row)
        previous = row[0]
    console = Console()
    if not console.is_terminal:
        # Piped or redirected output defaults to 80 columns, which would cut the last column.
        console = Console(width=100)
    console.print(table)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated integers such as 10,200,1000; got {text!r}."
        ) from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--sizes needs positive integers; got {text!r}.")
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated numbers of tasks (default 10,200,1000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="repetitions per measurement; default 15 up to 10 tasks, 7 up to 200, else 3",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}.")

    if args.child:
        (n,) = args.sizes
        result = run_child(args.child, n, args.repeat or default_repeat(n))
        args.json.write_text(json.dumps(result))
        return

    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    results = []
    for n in args.sizes:
        for tool in TOOLS:
            repeat = args.repeat or default_repeat(n)
            print(f"measuring {tool} at {n} tasks ({repeat} runs)...", file=sys.stderr)
            results.append(measure(tool, n, repeat))

    info = machine(results)
    print(f"command: {command}")
    print(
        f"machine: {info['cpus']} CPUs ({info['processor']}), {info['platform']}, "
        f"Python {info['python']}, kfp {info['kfp']}, dagyard {info['dagyard']}"
    )
    imports = {
        tool: statistics.median(r["import_s"] for r in results if r["tool"] == tool)
        for tool in TOOLS
    }
    print("import time (not counted): " + ", ".join(f"{t} {s:.3f} s" for t, s in imports.items()))
    print_table(results)

    largest = max(args.sizes)
    ratio = ratio_of(results, largest)
    if ratio is not None:
        verdict = "met" if ratio < TARGET_RATIO else "NOT met"
        print(
            f"target at {largest} tasks: dagyard total < {TARGET_RATIO:.2f} x kfp total: "
            f"{verdict} (ratio {ratio:.3f})"
        )

    if args.json:
        args.json.write_text(
            json.dumps(
                {"command": command, "machine": info, "import_s": imports, "results": results},
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
