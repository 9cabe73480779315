"""Small pipelines the API tests submit: a Dagyard one (compiled to YAML by Dagyard) and
a kfp-SDK one (compiled by kfp.Client itself)."""

from __future__ import annotations

from pathlib import Path

from dagyard import dsl
from dagyard.compiler import Compiler
from dagyard.dsl import Dataset, Output


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def write(text: str, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write(text)


@dsl.pipeline(name="sum-and-write")
def sum_and_write(a: int, b: int = 2) -> None:
    total = add(a=a, b=b)
    add(a=total.output, b=1)
    write(text="hello")


@dsl.component
def wait(seconds: float) -> None:
    import time

    time.sleep(seconds)


@dsl.pipeline(name="slow")
def slow(seconds: float = 60.0) -> None:
    wait(seconds=seconds)


def compiled(pipeline: object, folder: Path) -> Path:
    path = folder / f"{pipeline.name}.yaml"  # type: ignore[attr-defined]
    Compiler().compile(pipeline, str(path))  # type: ignore[arg-type]
    return path
