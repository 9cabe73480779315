"""A compiled lightweight component runs in a plain Python with nothing of ours
installed: the IR is portable to any `python:3.x` image (here, a fresh virtual
environment stands in for the image)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import Dataset, Input, Metrics, Output


@dsl.component(base_image="python:3.11-slim")
def train(rows: list[int], scale: float, data: Input[Dataset], metrics: Output[Metrics]) -> int:
    import statistics

    with open(data.path) as f:
        extra = [int(line) for line in f if line.strip()]
    values = [r * scale for r in rows + extra]
    metrics.log_metric("mean", statistics.mean(values))
    metrics.log_metric("count", len(values))
    return len(values)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment without dagyard (or pip): only the interpreter."""
    root = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python3"
    # cwd matters: `python -c` puts the current folder on sys.path.
    probe = subprocess.run(
        [str(python), "-c", "import dagyard"], capture_output=True, check=False, cwd=root
    )
    assert probe.returncode != 0, "dagyard must not be importable in the bare environment"
    return root


@pytest.mark.slow
def test_compiled_component_command_runs_without_dagyard(bare_python: Path, tmp_path: Path) -> None:
    @dsl.pipeline
    def one(data_uri: str) -> None:
        data = dsl.importer(artifact_uri=data_uri, artifact_class=Dataset)
        train(rows=[1, 2, 3], scale=2.0, data=data.output)

    document = compile_to_dict(one)
    container = document["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert container["image"] == "python:3.11-slim"
    assert not any("pip install" in part for part in container["command"])

    data = tmp_path / "data.csv"
    data.write_text("4\n5\n")
    out = tmp_path / "out"
    executor_input = {
        "inputs": {
            "parameterValues": {"rows": [1, 2, 3], "scale": 2.0},
            "artifacts": {
                "data": {
                    "artifacts": [
                        {
                            "name": "data",
                            "uri": str(data),
                            "type": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"},
                            "metadata": {},
                        }
                    ]
                }
            },
        },
        "outputs": {
            "parameters": {"Output": {"outputFile": str(out / "Output")}},
            "artifacts": {
                "metrics": {
                    "artifacts": [
                        {
                            "name": "metrics",
                            "uri": str(out / "metrics"),
                            "type": {"schemaTitle": "system.Metrics", "schemaVersion": "0.0.1"},
                            "metadata": {},
                        }
                    ]
                }
            },
            "outputFile": str(out / "executor_output.json"),
        },
    }
    argv = [
        part.replace("{{$}}", json.dumps(executor_input))
        for part in container["command"] + container["args"]
    ]
    env = {"PATH": f"{bare_python / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    result = json.loads((out / "executor_output.json").read_text())
    assert result["parameterValues"]["Output"] == 5
    metadata = result["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert metadata == {"mean": 6.0, "count": 5}
    assert type(metadata["count"]) is int
