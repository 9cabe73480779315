"""Pipelines used as components: sub-DAGs with a single output and NamedTuple outputs.

An inner "preprocess" pipeline returns one dataset; an inner "train and score" pipeline
returns a NamedTuple of a model artifact and a score parameter. The outer pipeline calls
both and nests a pipeline two levels deep.
"""

from typing import NamedTuple

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Model, Output


@dsl.component(base_image="python:3.11")
def load_rows(n: int, rows: Output[Dataset]):
    with open(rows.path, "w") as f:
        f.write("\n".join(str(i) for i in range(n)))


@dsl.component(base_image="python:3.11")
def normalise(rows: Input[Dataset], normalised: Output[Dataset]):
    with open(rows.path) as src, open(normalised.path, "w") as dst:
        values = [float(v) for v in src.read().split()]
        top = max(values) or 1.0
        dst.write("\n".join(str(v / top) for v in values))


@dsl.component(base_image="python:3.11")
def fit(data: Input[Dataset], model: Output[Model], alpha: float = 1.0) -> float:
    with open(model.path, "w") as f:
        f.write(f"alpha={alpha}")
    return 0.9


@dsl.component(base_image="python:3.11")
def count_rows(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return len(f.read().split())


@dsl.component(base_image="python:3.11")
def announce(model: Input[Model], score: float, rows: int) -> str:
    return f"model {model.uri} scored {score} on {rows} rows"


@dsl.pipeline(name="preprocess")
def preprocess(n: int = 5) -> Dataset:
    loaded = load_rows(n=n)
    return normalise(rows=loaded.outputs["rows"]).outputs["normalised"]


@dsl.pipeline(name="train-and-score")
def train_and_score(data: Input[Dataset], alpha: float = 0.5) -> NamedTuple(
    "TrainOutputs", model=Model, score=float
):
    fitted = fit(data=data, alpha=alpha)
    outputs = NamedTuple("TrainOutputs", model=Model, score=float)
    return outputs(fitted.outputs["model"], fitted.outputs["Output"])


@dsl.pipeline(name="count-preprocessed")
def count_preprocessed(n: int) -> int:
    prepared = preprocess(n=n)
    return count_rows(data=prepared.output).output


@dsl.pipeline(name="subdag-pipeline", description="Pipelines calling pipelines.")
def pipeline(n: int = 6, alpha: float = 0.25) -> str:
    prepared = preprocess(n=n)
    trained = train_and_score(data=prepared.output, alpha=alpha)
    counted = count_preprocessed(n=n)
    return announce(
        model=trained.outputs["model"],
        score=trained.outputs["score"],
        rows=counted.output,
    ).output


ARGUMENTS = {"n": 4}
