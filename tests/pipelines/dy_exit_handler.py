"""dsl.ExitHandler: a notification task that runs however the training group ends.

The exit task reads dsl.PipelineTaskFinalStatus; a second exit handler (kfp allows them
only at the pipeline's top level) guards a validation step, and an exit task without a
status input cleans up after it.
"""

from dagyard import dsl
from dagyard.dsl import PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def notify(status: PipelineTaskFinalStatus, channel: str = "#ml-alerts"):
    print(
        channel,
        status.state,
        status.pipeline_job_resource_name,
        status.pipeline_task_name,
        status.error_code,
        status.error_message,
    )


@dsl.component(base_image="python:3.11")
def cleanup(scratch_dir: str):
    print(f"removing {scratch_dir}")


@dsl.component(base_image="python:3.11")
def train(epochs: int) -> float:
    if epochs < 0:
        raise ValueError("epochs must be >= 0")
    return 0.8


@dsl.component(base_image="python:3.11")
def validate(accuracy: float, minimum: float = 0.5):
    if accuracy < minimum:
        raise RuntimeError(f"accuracy {accuracy} below {minimum}")


@dsl.pipeline(name="exit-handler-pipeline")
def pipeline(epochs: int = 1, channel: str = "#ml-alerts"):
    final = notify(channel=channel)
    with dsl.ExitHandler(final, name="train"):
        trained = train(epochs=epochs)
        validate(accuracy=trained.output, minimum=0.1)
    scratch = cleanup(scratch_dir="/tmp/scratch")
    with dsl.ExitHandler(scratch):
        validate(accuracy=0.9)


ARGUMENTS = {"epochs": -1}
