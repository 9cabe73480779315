"""Artifact passing: Output[...]/Input[...], OutputPath/InputPath and NamedTuple returns.

A tiny tabular workflow: write a CSV dataset, split it, train a model, then report on
it. Covers Artifact, Dataset and Model, file-path parameters (OutputPath(int) is read
back as a parameter), NamedTuple returns of parameters and of artifacts, `.output` and
`.outputs['name']`.
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, InputPath, Model, Output, OutputPath


@dsl.component(base_image="python:3.11")
def make_dataset(rows: int, dataset: Output[Dataset], row_count: OutputPath(int)):
    with open(dataset.path, "w") as f:
        f.write("x,y\n")
        for i in range(rows):
            f.write(f"{i},{i % 2}\n")
    dataset.metadata["rows"] = rows
    with open(row_count, "w") as f:
        f.write(str(rows))


@dsl.component(base_image="python:3.11")
def split(
    dataset: InputPath("Dataset"),
    train: OutputPath("Dataset"),
    test: Output[Dataset],
    test_fraction: float = 0.25,
) -> NamedTuple("SplitOutputs", [("train_rows", int), ("test_rows", int)]):
    with open(dataset) as f:
        header, *lines = f.read().splitlines()
    cut = int(len(lines) * (1 - test_fraction))
    with open(train, "w") as f:
        f.write("\n".join([header, *lines[:cut]]))
    with open(test.path, "w") as f:
        f.write("\n".join([header, *lines[cut:]]))
    outputs = NamedTuple("SplitOutputs", [("train_rows", int), ("test_rows", int)])
    return outputs(cut, len(lines) - cut)


@dsl.component(base_image="python:3.11")
def train(train: Input[Dataset], model: Output[Model], rows: int, epochs: int = 2) -> float:
    model.framework = "majority-class"
    with open(model.path, "w") as f:
        f.write(f"trained on {rows} rows for {epochs} epochs from {train.uri}")
    return 0.5


@dsl.component(base_image="python:3.11")
def package_model(model: Input[Model], accuracy: float) -> NamedTuple(
    "PackageOutputs", card=Artifact, bundle=Model, size=int
):
    card = Artifact(uri=dsl.get_uri("card"))
    with open(card.path, "w") as f:
        f.write(f"accuracy={accuracy}")
    bundle = Model(uri=dsl.get_uri("bundle"), metadata={"source": model.uri})
    with open(bundle.path, "w") as f:
        f.write("bundle")
    outputs = NamedTuple("PackageOutputs", card=Artifact, bundle=Model, size=int)
    return outputs(card, bundle, 6)


@dsl.component(base_image="python:3.11")
def report(card: Input[Artifact], bundle: Input[Model], test: Input[Dataset], size: int) -> str:
    with open(card.path) as f:
        return f"{f.read()} bundle={bundle.uri} size={size} test={test.uri}"


@dsl.pipeline(name="artifacts-pipeline")
def pipeline(rows: int = 8):
    data = make_dataset(rows=rows)
    parts = split(dataset=data.outputs["dataset"], test_fraction=0.5)
    trained = train(train=parts.outputs["train"], rows=parts.outputs["train_rows"])
    packaged = package_model(model=trained.outputs["model"], accuracy=trained.outputs["Output"])
    report(
        card=packaged.outputs["card"],
        bundle=packaged.outputs["bundle"],
        test=parts.outputs["test"],
        size=packaged.outputs["size"],
    )


ARGUMENTS = {"rows": 4}
