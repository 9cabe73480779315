"""`dagyard demo`: compile the bundled sample, check it, and run one of its tasks.

Until the engine exists this is what `make up` shows a new user: real IR written to the
Dagyard home, validated, and one lightweight component executed in a child process
through exactly the command a Kubeflow cluster would run.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from dagyard import ir
from dagyard.compiler import Compiler
from dagyard.errors import DagyardError
from dagyard.samples.hello import hello
from dagyard.settings import Settings


@dataclasses.dataclass
class DemoResult:
    ir_path: Path
    tasks: int
    components: int
    executors: int
    ir_bytes: int
    task_name: str
    task_inputs: dict[str, Any]
    task_output: Any


def run_demo(settings: Settings, *, x: int = 7) -> DemoResult:
    out_dir = settings.home / "demo"
    ir_path = out_dir / "hello-dagyard.yaml"
    Compiler().compile(hello, ir_path)
    document = ir.load(ir_path)
    raw = document.raw
    executor = raw["deploymentSpec"]["executors"]["exec-square"]["container"]
    output = _run_executor(executor, {"x": x})
    return DemoResult(
        ir_path=ir_path,
        tasks=_count_tasks(raw),
        components=len(raw["components"]),
        executors=len(raw["deploymentSpec"]["executors"]),
        ir_bytes=ir_path.stat().st_size,
        task_name="square",
        task_inputs={"x": x},
        task_output=output,
    )


def _count_tasks(raw: dict[str, Any]) -> int:
    dags = [raw["root"], *raw["components"].values()]
    return sum(len(c.get("dag", {}).get("tasks", {})) for c in dags)


def _run_executor(container: dict[str, Any], parameters: dict[str, Any]) -> Any:
    with tempfile.TemporaryDirectory(prefix="dagyard-demo-") as tmp:
        output_file = Path(tmp) / "executor_output.json"
        executor_input = {
            "inputs": {"parameterValues": parameters},
            "outputs": {
                "parameters": {"Output": {"outputFile": str(Path(tmp) / "Output")}},
                "outputFile": str(output_file),
            },
        }
        text = json.dumps(executor_input)
        argv = [a.replace("{{$}}", text) for a in container["command"] + container["args"]]
        # The command names `python3`, as in a container; here it is this interpreter.
        argv[0] = sys.executable
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DagyardError(f"The demo task failed:\n{done.stderr}")
        return json.loads(output_file.read_text())["parameterValues"]["Output"]
