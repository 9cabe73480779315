"""An output artifact written where the component chose (kfp's `Artifact.set_path`: the
executor output names it as `custom_path`, and KFP's launcher uploads the artifact from
there), read by the next task from the artifact's own place."""

from kfp import dsl
from kfp.dsl import Input, Model, Output


@dsl.component(base_image="python:3.11")
def train(model: Output[Model]):
    import os

    folder = os.path.join(os.getcwd(), "elsewhere")
    os.makedirs(folder, exist_ok=True)
    model.set_path(os.path.join(folder, "weights.txt"))
    with open(model.path, "w") as f:
        f.write("w=0.5")


@dsl.component(base_image="python:3.11")
def load(model: Input[Model]) -> str:
    with open(model.path) as f:
        return f.read()


@dsl.pipeline(name="run-custom-path")
def pipeline():
    load(model=train().outputs["model"])
