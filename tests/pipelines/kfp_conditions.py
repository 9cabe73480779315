"""Branching on task outputs: dsl.If/Elif/Else, nested conditions and dsl.Condition.

A coin flip decides which model family to try; a nested check looks at the score.
dsl.Condition is KFP's deprecated alias of dsl.If and emits a DeprecationWarning when the
pipeline is defined (at import of this module).
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def flip_coin(seed: int = 0) -> str:
    import random

    return random.Random(seed).choice(["heads", "tails", "edge"])


@dsl.component(base_image="python:3.11")
def draw_score(low: float = 0.0, high: float = 1.0) -> float:
    import random

    return random.uniform(low, high)


@dsl.component(base_image="python:3.11")
def train_family(family: str) -> str:
    return f"trained {family}"


@dsl.component(base_image="python:3.11")
def log_message(message: str):
    print(message)


@dsl.pipeline(name="conditions-pipeline")
def pipeline(seed: int = 7, threshold: float = 0.5, use_gpu: bool = False):
    coin = flip_coin(seed=seed)
    with dsl.If(coin.output == "heads", name="heads-branch"):
        trained = train_family(family="trees")
        score = draw_score()
        with dsl.If(score.output > threshold):
            log_message(message=trained.output)
        with dsl.Else():
            log_message(message="score too low")
    with dsl.Elif(coin.output == "tails"):
        train_family(family="linear")
    with dsl.Else():
        log_message(message="coin landed on its edge")
    with dsl.Condition(use_gpu == True):  # noqa: E712
        train_family(family="cnn")
    with dsl.If(seed != 3), dsl.If(coin.output != "edge"):
        log_message(message="valid flip")


ARGUMENTS = {"seed": 1, "use_gpu": True}
