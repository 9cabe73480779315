"""dsl.ParallelFor over constants: a hyperparameter sweep.

Covers loops over a constant list of ints, over a list of dicts with sub-field access
(item.lr, item.momentum: kfp types every sub-field from the first value of the first
item, so they are all floats) and over a pipeline-parameter list with a parallelism
limit and a group name.
"""

from typing import List

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def train_trial(lr: float, momentum: float, run_tag: str = "sweep") -> float:
    print(f"{run_tag}: lr={lr} momentum={momentum}")
    return round(1.0 - lr * momentum, 4)


@dsl.component(base_image="python:3.11")
def seed_everything(seed: int) -> int:
    import random

    random.seed(seed)
    return seed


@dsl.component(base_image="python:3.11")
def describe(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(config.items()))


@dsl.pipeline(name="loops-static-pipeline")
def pipeline(folds: List[int] = [1, 2, 3], run_tag: str = "grid"):  # noqa: B006
    with dsl.ParallelFor([1, 2, 3]) as seed:
        seed_everything(seed=seed)

    with dsl.ParallelFor(
        [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "momentum": 0.5}], parallelism=1
    ) as config:
        train_trial(lr=config.lr, momentum=config.momentum, run_tag=run_tag)
        describe(config=config)

    with dsl.ParallelFor(folds, parallelism=2, name="folds") as fold:
        seed_everything(seed=fold)


ARGUMENTS = {"folds": [4, 5]}
