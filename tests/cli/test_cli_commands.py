"""The `dagyard` command, run as a user runs it: a real child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dagyard import ir

DAGYARD = [sys.executable, "-m", "dagyard.cli"]

PIPELINES = """
from dagyard import dsl

@dsl.component
def hello(name: str) -> str:
    return "hello " + name

@dsl.pipeline(name="greet")
def greet(name: str = "world") -> None:
    hello(name=name)

@dsl.pipeline(name="greet-twice")
def greet_twice() -> None:
    hello(name="a")
    hello(name="b")
"""


def dagyard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    return subprocess.run([*DAGYARD, *args], capture_output=True, text=True, env=env, check=False)


def test_compile_writes_valid_ir_for_the_chosen_pipeline(tmp_path: Path) -> None:
    source = tmp_path / "pipes.py"
    source.write_text(PIPELINES)
    out = tmp_path / "out" / "greet.yaml"
    done = dagyard(
        "compile", str(source), "--function", "greet_twice", "-o", str(out), home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "greet-twice" in done.stdout
    document = ir.load(out)
    assert document.raw["pipelineInfo"]["name"] == "greet-twice"
    assert sorted(yaml.safe_load(out.read_text())["root"]["dag"]["tasks"]) == ["hello", "hello-2"]


def test_compile_asks_for_function_when_several_pipelines(tmp_path: Path) -> None:
    source = tmp_path / "pipes.py"
    source.write_text(PIPELINES)
    done = dagyard("compile", str(source), "-o", str(tmp_path / "x.yaml"), home=tmp_path)
    assert done.returncode == 2
    assert "defines 2 pipelines (greet, greet_twice); pick one with --function" in done.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_compile_reports_definition_errors_without_traceback(tmp_path: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text(PIPELINES.replace("hello(name=name)", "hello(name=3)"))
    done = dagyard(
        "compile", str(source), "--function", "greet", "-o", str(tmp_path / "x.yaml"), home=tmp_path
    )
    assert done.returncode == 2
    assert "input 'name' of component 'hello' expects STRING but got 3" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # builds the sample's scikit-learn environment: about 20 s
def test_demo_runs_the_sample_and_says_where_its_results_are(tmp_path: Path) -> None:
    done = dagyard("demo", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SUCCEEDED" in done.stdout
    assert "accuracy 0.9" in done.stdout
    assert "train-model" in done.stderr  # the live view
    ir.load(tmp_path / "demo" / "breast-cancer.yaml")
    assert f"sqlite:///{tmp_path / 'dagyard.db'}" in done.stdout
    report = next(line.split()[1] for line in done.stdout.splitlines() if "  report " in line)
    assert Path(report).read_text().startswith("# Breast-cancer classifier")
