"""How the functions of `dagyard.kubernetes` write a task's Kubernetes settings.

Belongs here: reading and writing `task.platform_config["kubernetes"]`, the dict that
becomes the task's executor entry of the PlatformSpec (`platforms.kubernetes.
deploymentSpec.executors.<label>`), and the reference to a value that may come from the
pipeline at run time. Keys are kfp-kubernetes' own (its KubernetesExecutorConfig written
as JSON: camelCase, 64-bit integers as strings), so a document compiled here reads the
same as one compiled by kfp with kfp-kubernetes.

A value from the pipeline (a pipeline parameter, a task's output) is kept here as the
channel itself; the compiler replaces it with the reference that reaches the task from
where it stands (`dagyard.compiler.dag`), as it does for the task's own inputs.
"""

from __future__ import annotations

from typing import Any

from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.errors import DslError

KUBERNETES = "kubernetes"


def config(task: PipelineTask) -> dict[str, Any]:
    """The task's Kubernetes settings, made empty on first use, for changing in place."""
    if not isinstance(task, PipelineTask):
        raise DslError(
            f"dagyard.kubernetes functions take a task (what calling a component in a "
            f"pipeline returns); got {task!r}."
        )
    settings: dict[str, Any] = task.platform_config.setdefault(KUBERNETES, {})
    return settings


def parameter(value: object, *, what: str) -> Any:
    """A value the task reads at run time, as an InputParameterSpec: a constant, or the
    channel (a pipeline parameter or a task's output) for the compiler to route."""
    if isinstance(value, PipelineChannel):
        if value.is_artifact:
            raise DslError(f"{what} must be a parameter, not the artifact {value!r}.")
        return value
    if isinstance(value, str | dict | list):
        return {"runtimeValue": {"constant": value}}
    raise DslError(
        f"{what} must be a str, a dict or a pipeline parameter; got {value!r} "
        f"({type(value).__name__})."
    )


def legacy_name(value: object) -> dict[str, Any]:
    """kfp-kubernetes' older, still written form of a name: `constant`, or the channel
    named as it is where it was made (pipeline input or producer task)."""
    if isinstance(value, PipelineChannel):
        if value.task is None:
            return {"componentInputParameter": value.name}
        return {
            "taskOutputParameter": {
                "producerTask": value.task.name,
                "outputParameterKey": value.name,
            }
        }
    return {"constant": value}


def optional_bool(value: object, *, what: str) -> bool:
    if not isinstance(value, bool):
        raise DslError(f"{what} must be True or False; got {value!r}.")
    return value


def count(value: object, *, what: str, minimum: int = 0) -> int:
    """A whole number of at least `minimum` (bool refused: True is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DslError(f"{what} must be a whole number >= {minimum}; got {value!r}.")
    return value
