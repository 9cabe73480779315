"""An executor's settings given by pipeline values, read for one task: a container's
image and resources, an importer's metadata.

kfp writes `set_cpu_limit(param)`, `set_accelerator_type(task.output)`,
`set_container_image(param)` and the like as placeholders in the executor
(`resourceCpuLimit: "{{$.inputs.parameters['pipelinechannel--cpu_limit']}}"`) beside an
extra task input that carries the value. KFP's driver replaces each with the task's
input parameter of that name when it builds the pod (`resolvePodSpecInputRuntimeParameter`
in backend/src/v2/driver/resolve.go); so does this, from the attempt's parameters.
`dsl.importer(metadata=...)` holding pipeline values is written alike (placeholders of
the importer's inputs `metadata`, `metadata-2`, ...); kfp.local fills them in, keys and
values, as text (importer_handler.py); so does this. KFP's own importer launcher stores
them unfilled.

Belongs here: those substitutions and the check that what they give is a setting the
executors can read (a CPU or memory quantity, a whole number of accelerators); either
failing is the task's `TaskFailure`, naming the setting and its value. Not here: the
command line (`commands.py`), reading quantities (`executors/limits.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dagyard.engine.commands import RuntimeContext, resolve_constant
from dagyard.engine.failures import TaskFailure
from dagyard.errors import ExecutorError
from dagyard.executors.limits import cpu_quantity, memory_quantity
from dagyard.ir.pipeline import Container, Resources

# Resources' string settings, with how kfp's task methods name them and how to read one.
_QUANTITIES = (
    ("resource_cpu_limit", "set_cpu_limit", cpu_quantity),
    ("resource_cpu_request", "set_cpu_request", cpu_quantity),
    ("resource_memory_limit", "set_memory_limit", memory_quantity),
    ("resource_memory_request", "set_memory_request", memory_quantity),
)


def resolve_container(
    container: Container, parameters: dict[str, Any], context: RuntimeContext
) -> Container:
    """`container` with the placeholders of its image and resources replaced by the
    values of `parameters` (the attempt's input parameters). The same object when it
    has none, as most have."""
    image = _resolved("the image", container.image, parameters, context)
    resources = container.resources
    if resources is not None and _has_placeholder(resources):
        resources = _resolve_resources(resources, parameters, context)
    if image == container.image and resources is container.resources:
        return container
    return dataclasses.replace(container, image=image, resources=resources)


def _has_placeholder(resources: Resources) -> bool:
    texts = [getattr(resources, field) for field, _, _ in _QUANTITIES]
    if resources.accelerator is not None:
        texts += [resources.accelerator.resource_type, resources.accelerator.resource_count]
    return any(text and "{{$" in text for text in texts)


def _resolve_resources(
    resources: Resources, parameters: dict[str, Any], context: RuntimeContext
) -> Resources:
    changes: dict[str, Any] = {}
    for field, setter, read in _QUANTITIES:
        text = getattr(resources, field)
        if not text or "{{$" not in text:
            continue
        value = _resolved(f"{setter}()", text, parameters, context)
        try:
            read(value)
        except ExecutorError as e:
            raise TaskFailure(
                f"{setter}() was given {value!r} by a pipeline value ({text}): {e}"
            ) from e
        changes[field] = value
    accelerator = resources.accelerator
    if accelerator is not None:
        kind = _resolved("set_accelerator_type()", accelerator.resource_type, parameters, context)
        count = _resolved(
            "set_accelerator_limit()", accelerator.resource_count, parameters, context
        )
        if count != accelerator.resource_count and not count.isdigit():
            raise TaskFailure(
                f"set_accelerator_limit() was given {count!r} by a pipeline value "
                f"({accelerator.resource_count}); it must be a whole number such as '1'."
            )
        changes["accelerator"] = dataclasses.replace(
            accelerator, resource_type=kind, resource_count=count
        )
    return dataclasses.replace(resources, **changes)


def _resolved(what: str, text: str, parameters: dict[str, Any], context: RuntimeContext) -> str:
    if not text or "{{$" not in text:
        return text
    value = resolve_constant(text, parameters, context)
    if "{{$" in value:
        raise TaskFailure(
            f"{what} of this task is {text!r}, and the task has no input that gives its "
            "value; compile the pipeline again with a current SDK, which passes it in."
        )
    return value


def resolve_metadata(metadata: Any, parameters: dict[str, Any], context: RuntimeContext) -> Any:
    """An importer's `metadata` with the placeholders in its keys and values filled in
    from the task's input parameters (a value in a string as text, as in a command)."""
    if isinstance(metadata, Mapping):
        return {
            resolve_metadata(key, parameters, context): resolve_metadata(value, parameters, context)
            for key, value in metadata.items()
        }
    if isinstance(metadata, list | tuple):
        return [resolve_metadata(item, parameters, context) for item in metadata]
    if isinstance(metadata, str):
        return _resolved("a value of the importer's metadata", metadata, parameters, context)
    return metadata
