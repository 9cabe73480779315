"""A small end-to-end training pipeline that combines the features of the other modules.

Load and split data, sweep learning rates in a loop, fan the scores back in, and deploy
only when the best model clears a threshold; a notifier runs whatever happens. Control
flow is nested: a condition inside a loop, a loop inside a condition, everything inside
an exit handler.
"""

from typing import List, NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output, PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11", packages_to_install=["pandas==2.2.2"])
def load_data(rows: int, data: Output[Dataset]):
    import pandas as pd

    pd.DataFrame({"x": range(rows), "y": [i % 2 for i in range(rows)]}).to_csv(
        data.path, index=False
    )


@dsl.component(base_image="python:3.11")
def train(data: Input[Dataset], lr: float, model: Output[Model], metrics: Output[Metrics]) -> float:
    score = round(1.0 - abs(lr - 0.1), 3)
    with open(model.path, "w") as f:
        f.write(f"lr={lr} data={data.uri}")
    metrics.log_metric("score", score)
    return score


@dsl.component(base_image="python:3.11")
def pick_best(scores: List[float], models: Input[List[Model]], best: Output[Model]) -> NamedTuple(
    "Best", score=float, index=int
):
    import shutil

    index = max(range(len(scores)), key=scores.__getitem__)
    shutil.copy(models[index].path, best.path)
    outputs = NamedTuple("Best", score=float, index=int)
    return outputs(scores[index], index)


@dsl.component(base_image="python:3.11")
def deploy(model: Input[Model], target: str) -> str:
    return f"deployed {model.uri} to {target}"


@dsl.component(base_image="python:3.11")
def warn(message: str):
    print(f"WARNING: {message}")


@dsl.component(base_image="python:3.11")
def notify(status: PipelineTaskFinalStatus):
    print(status.state, status.error_message)


@dsl.pipeline(name="training-e2e", description="Sweep, select and conditionally deploy.")
def pipeline(
    rows: int = 100,
    learning_rates: List[float] = [0.01, 0.1, 0.3],  # noqa: B006
    threshold: float = 0.8,
    targets: List[str] = ["staging", "prod"],  # noqa: B006
):
    notifier = notify()
    with dsl.ExitHandler(notifier):
        data = load_data(rows=rows)
        with dsl.ParallelFor(learning_rates, parallelism=2) as lr:
            trained = train(data=data.outputs["data"], lr=lr)
            with dsl.If(trained.outputs["Output"] < 0.5):
                warn(message=f"score {trained.outputs['Output']} is low")
        best = pick_best(
            scores=dsl.Collected(trained.outputs["Output"]),
            models=dsl.Collected(trained.outputs["model"]),
        )
        with dsl.If(best.outputs["score"] >= threshold, name="good-enough"):  # noqa: SIM117
            with dsl.ParallelFor(targets) as target:
                deploy(model=best.outputs["best"], target=target).set_retry(num_retries=1)
        with dsl.Else():
            warn(message="no model cleared the threshold")


ARGUMENTS = {"rows": 10, "threshold": 0.95}
