"""`dsl.PipelineTaskFinalStatus` taken by a pipeline used as the exit task, and passed on
from there to a plain `dict` input, as kfp allows (its type check takes a task's final
status for a struct).

A training step fails inside the exit handler; the exit pipeline reads the state from
the status dict and, as it is FAILED, raises an alert. KFP's driver gives the exit task
the status of the handler's group (resolveTaskFinalStatus): its state, the job's name
and the error.
"""

from kfp import dsl
from kfp.dsl import PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def train(epochs: int) -> int:
    if epochs < 0:
        raise ValueError("epochs must be >= 0")
    return epochs


@dsl.component(base_image="python:3.11")
def read_state(status: dict) -> str:
    return f"{status['state']} in {status['pipelineTaskName']}"


@dsl.component(base_image="python:3.11")
def alert(message: str) -> str:
    return "ALERT " + message


@dsl.pipeline(name="watch-training")
def watch(status: PipelineTaskFinalStatus):
    state = read_state(status=status)
    with dsl.If(state.output == "FAILED in exit-handler-1"):
        alert(message=state.output)


@dsl.pipeline(name="sdk-final-status")
def pipeline(epochs: int = 2):
    watcher = watch()
    with dsl.ExitHandler(watcher):
        train(epochs=epochs)


ARGUMENTS = {"epochs": -1}
