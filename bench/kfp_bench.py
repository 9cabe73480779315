"""Benchmark: a chain of 20 kfp-compiled lightweight tasks on Dagyard, beside kfp.local.

The pipeline is 20 tasks `x + 1` in a chain, written with kfp's SDK and compiled by this
interpreter's kfp (2.17.0: each task's command installs `kfp==2.17.0 --no-deps`, then runs
`python3 -m kfp.dsl.executor_main`); its twin is the same chain written with `dagyard.dsl`
and compiled by the Dagyard under test. Every measurement is the wall time of one child
process, from its start to its exit, so interpreter start and imports count on both sides.

Dagyard runs from a virtual environment made here, untimed, with a commit of this
repository (`--ref`, default HEAD, exported with `git archive`, so that edits not yet
committed in the checkout take no part) installed without extras and without kfp, as
`pip install dagyard` gives, and its modules compiled to bytecode as pip compiles them at
install (this machine may run with PYTHONDONTWRITEBYTECODE set, so nothing is compiled on
import). kfp-compiled tasks then need the environment Dagyard builds for them (with uv)
and runs them in (its kfp zygote forks them):
- kfp first run, cold: a fresh Dagyard home (no environment built) and an empty uv
  download cache (everything downloaded from the public index);
- kfp first run, warm: another fresh home, the download cache the cold run filled;
- kfp later run: the warm run's home, the environment built (`--no-cache`, so every task
  runs);
- Dagyard-compiled twin: the same home, `--no-cache`;
- cached: each pipeline once more without `--no-cache`: every task cached, the run
  itself (start, store, record) is all that is left.
The last four are run `--later` times (default 3) in turn, their medians kept.
Per-task overhead: (a later run - its cached run) / 20, for each compilation; the
difference of two runs of about a second, it is noisy where a task costs a few ms. So
the per-task target is judged on the median task of a later run as recorded (start to
end in the run's record, `dagyard run --json`; the median leaves out the first task,
which starts the zygote). Each `dagyard run` is also given in CPU seconds (user + system
of the command and of the processes it waited for), less sensitive than wall time to
other work on the machine.

kfp.local (kfp 2.17.0, in this interpreter) runs the same kfp pipeline with
`SubprocessRunner()` as it defaults (`use_venv=True`: a virtual environment per task with
kfp installed into it by pip) and, for reference, `SubprocessRunner(use_venv=False)`
(each task's `pip install kfp` into this interpreter's environment, where it is found).

This is a benchmark, not a test: it asserts nothing and only reports.

    .venv/bin/python bench/kfp_bench.py [--repeat 1] [--ref HEAD] [--json out.json] [--keep]
"""

import argparse
import json
import operator
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from time import perf_counter

from before_after import export
from env_bench import child_env, make_venv

TASKS = 20
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}
# Each compiled by its own side: kfp by this interpreter's, the twin by the Dagyard under
# test (a Dagyard-compiled task is forked only when its embedded runtime is the engine's
# own: compiled by another Dagyard, every task would be a fresh interpreter).
KFP_PIPELINE = f"""
from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def kfp_step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="kfp-chain")
def kfp_chain(x: int = 0):
    task = kfp_step(x=x)
    for _ in range({TASKS - 1}):
        task = kfp_step(x=task.output)


compiler.Compiler().compile(kfp_chain, "kfp-chain.yaml")
"""
DAGYARD_PIPELINE = f"""
from dagyard import compiler, dsl


@dsl.component
def dagyard_step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="dagyard-chain")
def dagyard_chain(x: int = 0):
    task = dagyard_step(x=x)
    for _ in range({TASKS - 1}):
        task = dagyard_step(x=task.output)


compiler.Compiler().compile(dagyard_chain, "dagyard-chain.yaml")
"""
KFP_LOCAL = f"""
import sys, warnings
warnings.filterwarnings("ignore")
from kfp import dsl, local

local.init(runner=local.SubprocessRunner({{runner}}), pipeline_root=sys.argv[1])


@dsl.component(base_image="python:3.11")
def kfp_step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="kfp-chain")
def kfp_chain(x: int = 0) -> int:
    task = kfp_step(x=x)
    for _ in range({TASKS - 1}):
        task = kfp_step(x=task.output)
    return task.output


assert kfp_chain().output == {TASKS}
"""


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """The wall time, CPU time and output of `command`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        sys.exit(f"{command} failed (exit {done.returncode}):\n{output}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu, done.stdout


def median_task_ms(record: str) -> float | None:
    """The median time of the tasks that ran (not cached), start to end as recorded, in
    ms, from `dagyard run --json`'s record; None if every task was cached."""
    tasks = [t for t in json.loads(record)["tasks"] if not t["cache_hit"]]
    spans = [
        datetime.fromisoformat(t["end_time"]) - datetime.fromisoformat(t["start_time"])
        for t in tasks
    ]
    return 1000 * statistics.median(s.total_seconds() for s in spans) if spans else None


def dagyard_round(work: Path, bin_dir: Path, round_: int, later: int) -> dict[str, float]:
    cache = work / f"uv-cache-{round_}"
    times: dict[str, float] = {}

    def run(name: str, home: str, pipeline: str, *flags: str) -> tuple[float, float, float]:
        env = child_env(bin_dir, {"DAGYARD_HOME": str(work / home), "UV_CACHE_DIR": str(cache)})
        command = [str(bin_dir / "dagyard"), "run", "--json", *flags, str(work / pipeline)]
        wall, cpu, record = timed(command, env, work)
        task = median_task_ms(record) or 0.0
        print(
            f"  round {round_ + 1}  {name:<40}{wall:8.2f} s  (CPU {cpu:.2f} s, "
            f"median task {task:.1f} ms)",
            flush=True,
        )
        return wall, cpu, task

    def keep(name: str, measured: list[tuple[float, float, float]]) -> None:
        times[name] = statistics.median(wall for wall, _, _ in measured)
        times[f"{name}, CPU"] = statistics.median(cpu for _, cpu, _ in measured)
        if "cached" not in name:
            times[f"{name}, median task ms"] = statistics.median(t for _, _, t in measured)

    for name, home in (("kfp first run, cold", "cold"), ("kfp first run, warm", "warm")):
        keep(name, [run(name, f"home-{home}-{round_}", "kfp-chain.yaml", "--no-cache")])
    # The later runs `later` times each, the four kinds in turn (medians kept), so that a
    # passing disturbance of the machine does not fall on one kind only.
    kinds = {
        "kfp later run": ("kfp-chain.yaml", "--no-cache"),
        "dagyard-compiled run": ("dagyard-chain.yaml", "--no-cache"),
        "kfp cached run": ("kfp-chain.yaml",),
        "dagyard-compiled cached run": ("dagyard-chain.yaml",),
    }
    measured: dict[str, list[tuple[float, float, float]]] = {name: [] for name in kinds}
    for _ in range(later):
        for name, (pipeline, *flags) in kinds.items():
            measured[name].append(run(name, f"home-warm-{round_}", pipeline, *flags))
    for name, values in measured.items():
        keep(name, values)
    return times


def kfp_local_round(work: Path, round_: int) -> dict[str, float]:
    # kfp.local's tasks run `python3` from PATH: this interpreter's, which has kfp.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path}
    times: dict[str, float] = {}
    for name, runner in (("kfp.local (use_venv=True, its default)", ""),
                         ("kfp.local (use_venv=False)", "use_venv=False")):  # fmt: skip
        script = work / "kfp_local.py"
        script.write_text(KFP_LOCAL.format(runner=runner))
        root = work / f"kfp-local-{round_}-{len(times)}"
        times[name] = timed([sys.executable, str(script), str(root)], env, work)[0]
        print(f"  round {round_ + 1}  {name:<40}{times[name]:8.2f} s", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds (median reported)")
    parser.add_argument("--ref", default="HEAD", help="the commit of Dagyard to measure")
    parser.add_argument("--later", type=int, default=3, help="later and cached runs per round")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dagyard-kfp-bench-"))
    try:
        commit = export(options.ref, work)
        bin_dir = make_venv(work / "venv", with_uv=True, source=work / "tree")
        # Each side's compiler reads its component's source from the file.
        compilers = [
            ("kfp_chain.py", KFP_PIPELINE, sys.executable),
            ("dagyard_chain.py", DAGYARD_PIPELINE, bin_dir / "python"),
        ]
        for name, text, python in compilers:
            (work / name).write_text(text)
            subprocess.run([str(python), name], cwd=work, check=True, capture_output=True)
        # As pip would have at install (uv does not): this machine may not write .pyc files.
        for folder in (work / "venv", work / "tree" / "dagyard"):
            subprocess.run([str(bin_dir / "python"), "-m", "compileall", "-q", str(folder)],
                           check=False, capture_output=True)  # fmt: skip
        has_kfp = subprocess.run([str(bin_dir / "python"), "-c", "import kfp.dsl"],
                                 capture_output=True, check=False).returncode == 0  # fmt: skip
        if has_kfp:
            sys.exit("The benchmark's Dagyard environment has kfp; it must not.")
        print(
            f"Dagyard at {commit}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f} at the start"
        )
        rounds = []
        for i in range(options.repeat):
            rounds.append(
                {**dagyard_round(work, bin_dir, i, options.later), **kfp_local_round(work, i)}
            )
        load = os.getloadavg()[0]
        results = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
        print(f"\nmedians of {options.repeat} round(s); load average {load:.2f} at the end")
        for name, value in results.items():
            unit = "ms" if name.endswith(" ms") else "s"
            print(f"  {name.removesuffix(' ms'):<42}{value:8.2f} {unit}")
        later, twin = results["kfp later run"], results["dagyard-compiled run"]
        per_kfp = (later - results["kfp cached run"]) / TASKS
        per_twin = (twin - results["dagyard-compiled cached run"]) / TASKS
        first = results["kfp first run, cold"]
        kfp_local = results["kfp.local (use_venv=True, its default)"]
        cached = results["kfp cached run"]
        task_kfp = results["kfp later run, median task ms"]
        task_twin = results["dagyard-compiled run, median task ms"]
        print(f"  per-task overhead, kfp-compiled            {1000 * per_kfp:8.1f} ms")
        print(f"  per-task overhead, Dagyard-compiled        {1000 * per_twin:8.1f} ms")
        print(f"  overhead ratio, kfp / Dagyard-compiled     {per_kfp / per_twin:8.2f}x")
        print(f"  median task, kfp-compiled, as recorded     {task_kfp:8.1f} ms")
        print(f"  median task, Dagyard-compiled, as recorded {task_twin:8.1f} ms")
        targets = (
            ("kfp-compiled / Dagyard-compiled task", task_kfp / task_twin, "x", "<=", 1.5),
            ("cold first run - later run", first - later, " s", "<=", 5.0),
            ("kfp cached 20-task run", cached, " s", "<", 0.4),
            ("kfp.local (default) / Dagyard cold first", kfp_local / first, "x", ">=", 10.0),
        )
        for label, value, unit, comparison, bound in targets:
            verdict = "met" if COMPARISONS[comparison](value, bound) else "missed"
            print(f"  {label:<42}{value:8.2f}{unit:<3} target {comparison} {bound}: {verdict}")
        if options.json:
            payload = {"commit": commit, "python": platform.python_version(), "tasks": TASKS,
                       "repeat": options.repeat, "seconds": results, "rounds": rounds}  # fmt: skip
            options.json.write_text(json.dumps(payload, indent=2) + "\n")
    finally:
        if options.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
