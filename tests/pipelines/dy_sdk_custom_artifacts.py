"""Artifacts of a class of the user's own (Checkpoint), from a module beside this file
(custom_types_kfp.py, and its twin for dagyard): written, read and returned.

kfp writes the class's schema title and version as the artifact type, and puts an
import of the class before the function in the component's source
(custom_artifact_types.get_custom_artifact_type_import_statements); its executor builds
each artifact as the annotation's class (executor.create_artifact_instance, for a title
that is not one of kfp's own). The tasks import the module from this folder, given
to them as PYTHONPATH. `returned` returns such an artifact, which kfp compiles but its
executor cannot build (it looks the class up by the name 'Output' among the function's
annotations, finds none and calls None); `unimportable` gives no PYTHONPATH.
"""

import os
import sys

from dagyard import dsl
from dagyard.dsl import Input, Output

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the compiler imports the module from here too
    sys.path.insert(0, HERE)

from custom_types_dy import Checkpoint  # noqa: E402


@dsl.component(base_image="python:3.11")
def train(steps: int, checkpoint: Output[Checkpoint]) -> str:
    with open(checkpoint.path, "w") as f:
        f.write("w" * steps)
    checkpoint.metadata["step"] = steps
    return type(checkpoint).__name__


@dsl.component(base_image="python:3.11")
def promote(checkpoint: Input[Checkpoint], promoted: Output[Checkpoint]):
    promoted.metadata["step"] = checkpoint.step + 1
    with open(checkpoint.path) as src, open(promoted.path, "w") as dst:
        dst.write(src.read().upper())


@dsl.component(base_image="python:3.11")
def promote_returned(checkpoint: Input[Checkpoint]) -> Checkpoint:
    promoted = Checkpoint(uri=dsl.get_uri(), metadata={"step": checkpoint.step + 1})
    with open(checkpoint.path) as src, open(promoted.path, "w") as dst:
        dst.write(src.read().upper())
    return promoted


@dsl.component(base_image="python:3.11")
def describe(checkpoint: Input[Checkpoint]) -> str:
    with open(checkpoint.path) as f:
        size = len(f.read())
    return f"{type(checkpoint).__name__} {checkpoint.schema_title} {checkpoint.step} {size}"


@dsl.pipeline(name="sdk-custom-artifacts")
def pipeline(steps: int = 2):
    trained = train(steps=steps).set_env_variable("PYTHONPATH", HERE)
    promoted = promote(checkpoint=trained.outputs["checkpoint"]).set_env_variable(
        "PYTHONPATH", HERE
    )
    describe(checkpoint=promoted.outputs["promoted"]).set_env_variable("PYTHONPATH", HERE)


@dsl.pipeline(name="sdk-custom-artifacts-returned")
def returned(steps: int = 2):
    trained = train(steps=steps).set_env_variable("PYTHONPATH", HERE)
    promoted = promote_returned(checkpoint=trained.outputs["checkpoint"])
    promoted.set_env_variable("PYTHONPATH", HERE)
    describe(checkpoint=promoted.output).set_env_variable("PYTHONPATH", HERE)


@dsl.pipeline(name="sdk-custom-artifacts-unimportable")
def unimportable(steps: int = 2):
    train(steps=steps)


ARGUMENTS = {"steps": 3}
