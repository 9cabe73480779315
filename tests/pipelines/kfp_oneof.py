"""dsl.OneOf: take the output of whichever conditional branch ran.

Two branches produce a parameter and an artifact; OneOf selects them for downstream
tasks, and the pipeline itself returns a OneOf of parameters and of artifacts.
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def pick_source(prefer_fresh: bool) -> str:
    return "fresh" if prefer_fresh else "cached"


@dsl.component(base_image="python:3.11")
def fetch_fresh(data: Output[Dataset]) -> str:
    with open(data.path, "w") as f:
        f.write("fresh rows")
    return "fresh"


@dsl.component(base_image="python:3.11")
def fetch_cached(data: Output[Dataset]) -> str:
    with open(data.path, "w") as f:
        f.write("cached rows")
    return "cached"


@dsl.component(base_image="python:3.11")
def consume(data: Input[Dataset], origin: str) -> str:
    with open(data.path) as f:
        return f"{origin}: {f.read()}"


@dsl.pipeline(name="oneof-pipeline")
def pipeline(
    prefer_fresh: bool = True,
) -> NamedTuple("Outputs", origin=str, data=Dataset):
    choice = pick_source(prefer_fresh=prefer_fresh)
    with dsl.If(choice.output == "fresh"):
        fresh = fetch_fresh()
    with dsl.Else():
        cached = fetch_cached()
    origin = dsl.OneOf(fresh.outputs["Output"], cached.outputs["Output"])
    data = dsl.OneOf(fresh.outputs["data"], cached.outputs["data"])
    consume(data=data, origin=origin)
    outputs = NamedTuple("Outputs", origin=str, data=Dataset)
    return outputs(
        dsl.OneOf(fresh.outputs["Output"], cached.outputs["Output"]),
        dsl.OneOf(fresh.outputs["data"], cached.outputs["data"]),
    )


ARGUMENTS = {"prefer_fresh": False}
