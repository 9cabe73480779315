"""Benchmark: the first run of a kfp-compiled pipeline, its environment built by pip or uv.

A component compiled by kfp's compiler (here with kfp 2.17.0, `install_kfp_package` left
on) starts with `pip install kfp==2.17.0 ...`. Dagyard reads that line and runs the task
in a virtual environment it builds once per package set; on a machine whose Dagyard has
no kfp, the pipeline's first run is mostly that build. Before Dagyard depended on `uv`, a
plain `pip install dagyard` built it with `python -m venv` + pip; now with `uv venv` +
`uv pip install`.

The script makes two virtual environments in a temporary folder, untimed, each with this
checkout installed without extras: `uv` (as `pip install dagyard` now gives) and `pip`
(the same with the uv package removed, so Dagyard falls back to pip). Then, for each
installer, it times `dagyard run pipeline.yaml` in a child process:

- cold: a fresh Dagyard home (no built environment) and an empty download cache of the
  installer's own (UV_CACHE_DIR or PIP_CACHE_DIR pointing at a new folder): everything
  is downloaded from the public index (both installers run without configuration files
  or index settings, so a machine's pip.conf mirrors do not favour one side);
- warm: another fresh Dagyard home, the same download cache as the cold run left it:
  nothing is downloaded, everything is still installed;
- built: the warm run's home again, its environment already built (what every later run
  of the pipeline costs, for comparison).

Cold runs go first for both installers, then warm, then built; the user's own caches
(~/.cache/uv, ~/.cache/pip) are never read or written by the timed runs.

This is a benchmark, not a test: it asserts nothing and only reports.

    .venv/bin/python bench/env_bench.py [--repeat 1] [--json out.json] [--keep]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_UV = Path(sys.executable).parent / "uv"
INSTALLERS = ("pip", "uv")
STATES = ("cold", "warm", "built")
INDEX_SETTINGS = {
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX",
    "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX", "UV_FIND_LINKS",
}  # fmt: skip

PIPELINE = """
from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="env-bench")
def pipeline(a: int = 1):
    add(a=a, b=2)


compiler.Compiler().compile(pipeline, {path!r})
"""


def compile_pipeline(path: Path) -> list[str]:
    """Compile the one-component pipeline with this Python's kfp; its requirements."""
    source = path.with_suffix(".py")  # kfp reads the component's source from its file
    source.write_text(PIPELINE.format(path=str(path)))
    subprocess.run([sys.executable, str(source)], check=True)
    import yaml

    spec = yaml.safe_load(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    script = executor["container"]["command"][2]
    return [line.strip() for line in script.splitlines() if "pip install" in line]


def make_venv(folder: Path, *, with_uv: bool, source: Path = REPO_ROOT) -> Path:
    """A virtual environment with `source` (this checkout unless told) installed in
    editable mode, no extras; its bin folder."""
    python = folder / "bin" / "python"
    subprocess.run(
        [str(DEV_UV), "venv", "--quiet", "--python", sys.executable, str(folder)], check=True
    )
    install = [str(DEV_UV), "pip", "install", "--quiet", "--python", str(python)]
    subprocess.run([*install, "-e", str(source)], check=True)
    if not with_uv:
        subprocess.run(
            [str(DEV_UV), "pip", "uninstall", "--quiet", "--python", str(python), "uv"],
            check=True,
        )
    return folder / "bin"


def installer_of(bin_dir: Path) -> str:
    """What Dagyard in this venv builds environments with ('uv' or 'pip')."""
    code = "from dagyard.executors.environments import find_uv; print(find_uv() or 'pip')"
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(bin_dir, {}),
    ).stdout.strip()
    return "pip" if found == "pip" else "uv"


def child_env(bin_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    # No other venv on PATH, so that neither side finds the development uv there. Both
    # installers read only the public index: no configuration files (a machine's pip.conf
    # may add local wheel folders or mirrors that uv would not see) and no index settings.
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != str(DEV_UV.parent)]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and k not in INDEX_SETTINGS}
    env.update(PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1")
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    env.update(extra)
    return env


def timed_run(bin_dir: Path, pipeline: Path, env: dict[str, str]) -> float:
    start = perf_counter()
    done = subprocess.run(
        [str(bin_dir / "dagyard"), "run", "--no-cache", str(pipeline)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"`dagyard run` failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def environment_record(home: Path) -> dict[str, object]:
    (marker,) = home.glob("envs/*/dagyard-environment.json")
    record: dict[str, object] = json.loads(marker.read_text())
    return record


def run_round(
    work: Path, venvs: dict[str, Path], pipeline: Path, round_: int
) -> dict[str, dict[str, float]]:
    times: dict[str, dict[str, float]] = {name: {} for name in INSTALLERS}
    caches = {name: work / f"cache-{name}-{round_}" for name in INSTALLERS}
    homes: dict[str, Path] = {}
    for state in STATES:
        for name in INSTALLERS:
            if state != "built":
                homes[name] = work / f"home-{name}-{state}-{round_}"
            cache_variable = "UV_CACHE_DIR" if name == "uv" else "PIP_CACHE_DIR"
            env = child_env(
                venvs[name],
                {"DAGYARD_HOME": str(homes[name]), cache_variable: str(caches[name])},
            )
            times[name][state] = timed_run(venvs[name], pipeline, env)
            record = environment_record(homes[name])
            if record["installer"] != name:
                sys.exit(f"The {name} side's environment was built by {record['installer']}.")
            print(
                f"  round {round_ + 1}  {name:>3} {state:>5}  {times[name][state]:7.2f} s",
                flush=True,
            )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds (median reported)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dagyard-env-bench-"))
    try:
        pipeline = work / "pipeline.yaml"
        installs = compile_pipeline(pipeline)
        print("The component's install line, as kfp 2.17.0 compiled it:")
        for line in installs:
            print(f"  {line}")
        venvs = {
            name: make_venv(work / f"venv-{name}", with_uv=name == "uv") for name in INSTALLERS
        }
        for name, bin_dir in venvs.items():
            if installer_of(bin_dir) != name:
                sys.exit(f"The {name} virtual environment's Dagyard would not build with {name}.")
        uv_version = subprocess.run(
            [str(venvs["uv"] / "uv"), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        pip_version = subprocess.run(  # the pip `python -m venv` puts in an environment
            [str(venvs["pip"] / "python"), "-c", "import ensurepip; print(ensurepip.version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(
            f"Python {platform.python_version()}, pip {pip_version}, {uv_version}; "
            "timing `dagyard run`:"
        )
        rounds = [run_round(work, venvs, pipeline, i) for i in range(options.repeat)]
        results = {
            name: {state: statistics.median(r[name][state] for r in rounds) for state in STATES}
            for name in INSTALLERS
        }
        print()
        print(f"{'first run of the pipeline':<42}{'pip':>9}{'uv':>9}{'pip / uv':>10}")
        labels = {
            "cold": "cold (empty download cache)",
            "warm": "warm (download cache filled by cold)",
            "built": "environment already built",
        }
        for state in STATES:
            pip_s, uv_s = results["pip"][state], results["uv"][state]
            print(f"{labels[state]:<42}{pip_s:8.2f}s{uv_s:8.2f}s{pip_s / uv_s:9.1f}x")
        if options.json:
            payload = {
                "python": platform.python_version(),
                "pip": pip_version,
                "uv": uv_version,
                "repeat": options.repeat,
                "seconds": results,
                "rounds": rounds,
            }
            options.json.write_text(json.dumps(payload, indent=2) + "\n")
    finally:
        if options.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
