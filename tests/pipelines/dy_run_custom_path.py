"""An output artifact written where the component chose (kfp's `Artifact.set_path`: the
executor output names it as `custom_path`, and KFP's launcher uploads the artifact from
there; the artifact's `custom_path` says where, '' when it was not set), read by the next
task from the artifact's own place."""

from dagyard import dsl
from dagyard.dsl import Input, Model, Output


@dsl.component(base_image="python:3.11")
def train(model: Output[Model]):
    import os

    folder = os.path.join(os.getcwd(), "elsewhere")
    os.makedirs(folder, exist_ok=True)
    chosen = os.path.join(folder, "weights.txt")
    model.set_path(chosen)
    if model.custom_path != chosen:
        raise ValueError(f"custom_path is {model.custom_path!r}, set_path gave {chosen!r}")
    with open(model.path, "w") as f:
        f.write("w=0.5")


@dsl.component(base_image="python:3.11")
def load(model: Input[Model]) -> str:
    if model.custom_path != "":
        raise ValueError(f"an input's custom_path is {model.custom_path!r}, not ''")
    with open(model.path) as f:
        return f.read()


@dsl.pipeline(name="run-custom-path")
def pipeline():
    load(model=train().outputs["model"])
