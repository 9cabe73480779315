"""dsl.Collected: fan-in of loop outputs, as a parameter list and as an artifact list.

Each fold trains and scores; the scores are averaged from a List[float] parameter and
the per-fold datasets are merged from Input[List[Dataset]]. A sub-pipeline returns its
collected values as a pipeline output.
"""

from typing import List

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def make_fold(fold: int, data: Output[Dataset]) -> float:
    with open(data.path, "w") as f:
        f.write(f"fold {fold}")
    return fold / 10


@dsl.component(base_image="python:3.11")
def average(scores: List[float]) -> float:
    return sum(scores) / len(scores)


@dsl.component(base_image="python:3.11")
def merge(parts: Input[List[Dataset]], merged: Output[Dataset]):
    with open(merged.path, "w") as out:
        for part in parts:
            with open(part.path) as f:
                out.write(f.read() + "\n")


@dsl.component(base_image="python:3.11")
def count_items(items: List[float], datasets: Input[List[Dataset]]) -> int:
    return len(items) + len(datasets)


@dsl.pipeline(name="collect-folds")
def collect_folds(folds: List[int] = [1, 2, 3]) -> List[float]:  # noqa: B006
    with dsl.ParallelFor(folds) as fold:
        trained = make_fold(fold=fold)
    return dsl.Collected(trained.outputs["Output"])


@dsl.pipeline(name="collected-pipeline")
def pipeline(folds: List[int] = [1, 2, 3]):  # noqa: B006
    with dsl.ParallelFor(folds) as fold:
        trained = make_fold(fold=fold)
    average(scores=dsl.Collected(trained.outputs["Output"]))
    merge(parts=dsl.Collected(trained.outputs["data"]))
    count_items(
        items=dsl.Collected(trained.outputs["Output"]),
        datasets=dsl.Collected(trained.outputs["data"]),
    )
    sub = collect_folds(folds=[4, 5])
    average(scores=sub.output)


ARGUMENTS = {"folds": [1, 2]}
