"""Pythonic artifacts: artifact classes as plain inputs and as return values.

Shards of text are written by components that return a `Dataset` (one made at
`dsl.get_uri()`, one whose returned string becomes the file), joined from a bare
`List[Dataset]` fed by `dsl.Collected`, and split into a NamedTuple of a model, a
dataset and a count. A sub-pipeline returns `task.outputs` of that NamedTuple; an
optional artifact input (`Optional[Input[Artifact]] = None`) is given once and left
out once.
"""

from typing import List, NamedTuple, Optional

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Model


@dsl.component(base_image="python:3.11")
def write_shard(text: str) -> Dataset:
    shard = Dataset(uri=dsl.get_uri(), metadata={"chars": len(text)})
    with open(shard.path, "w") as f:
        f.write(text)
    return shard


@dsl.component(base_image="python:3.11")
def header(title: str) -> Dataset:
    return f"# {title}\n"


@dsl.component(base_image="python:3.11")
def join_shards(head: Dataset, shards: List[Dataset]) -> Dataset:
    joined = Dataset(uri=dsl.get_uri(), metadata={"shards": len(shards)})
    with open(joined.path, "w") as out:
        with open(head.path) as f:
            out.write(f.read())
        for shard in shards:
            with open(shard.path) as f:
                out.write(f.read() + "\n")
    return joined


@dsl.component(base_image="python:3.11")
def fit(data: Dataset) -> NamedTuple("Fitted", model=Model, rest=Dataset, lines=int):
    with open(data.path) as f:
        lines = f.read().splitlines()
    model = Model(uri=dsl.get_uri("model"), metadata={"lines": len(lines)})
    with open(model.path, "w") as f:
        f.write(lines[0])
    rest = Dataset(uri=dsl.get_uri("rest"))
    with open(rest.path, "w") as f:
        f.write("\n".join(lines[1:]))
    fitted = NamedTuple("Fitted", model=Model, rest=Dataset, lines=int)
    return fitted(model, rest, len(lines))


@dsl.component(base_image="python:3.11")
def describe(model: Model, notes: Optional[Input[Artifact]] = None) -> str:
    with open(model.path) as f:
        text = f"{f.read()} from {model.metadata['lines']} lines"
    if notes is None:
        return text + ", no notes"
    with open(notes.path) as f:
        return text + ", notes: " + f.read().strip().replace("\n", "|")


@dsl.pipeline(name="fit-all")
def fit_all(data: Dataset) -> NamedTuple("Fitted", model=Model, rest=Dataset, lines=int):
    fitted = fit(data=data)
    return fitted.outputs


@dsl.pipeline(name="sdk-pythonic-artifacts")
def pipeline(texts: List[str] = ["a"]) -> Dataset:  # noqa: B006
    with dsl.ParallelFor(texts) as text:
        shard = write_shard(text=text)
    joined = join_shards(head=header(title="corpus").output, shards=dsl.Collected(shard.output))
    fitted = fit_all(data=joined.output)
    describe(model=fitted.outputs["model"], notes=fitted.outputs["rest"])
    describe(model=fitted.outputs["model"])
    return joined.output


ARGUMENTS = {"texts": ["alpha", "beta"]}
