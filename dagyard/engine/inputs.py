"""Input resolution: a task's input sources in the typed plan turned into values and
artifacts, from its scope (the enclosing DAG's inputs) and its finished upstream nodes.

Belongs here: reading each `ParameterSource` and `ArtifactSource` (a closed set: every
case is handled by type), the CEL selectors over them, the placeholders inside string
constants, an exit task's `PipelineTaskFinalStatus`, and a container's parameters with
the component's defaults. Pure functions; TaskFailure for what fails the task.
"""

from __future__ import annotations

from typing import Any

from dagyard.engine import cel
from dagyard.engine.commands import RuntimeContext, resolve_constant
from dagyard.engine.failures import TaskFailure
from dagyard.engine.scopes import Inputs, Node
from dagyard.engine.values import from_ir
from dagyard.ir.pipeline import Definitions
from dagyard.ir.sources import (
    ComponentInputArtifact,
    ComponentInputParameter,
    Constant,
    ParameterSource,
    RuntimeParameter,
    TaskFinalStatus,
    TaskOutputArtifact,
    TaskOutputParameter,
)
from dagyard.store.records import Artifact, TaskState

# A missing value (no such input in the scope, an output the producer did not write):
# the input is left out, and the component's default (or its absence) decides.
_MISSING = object()


def resolve_inputs(node: Node, context: RuntimeContext) -> Inputs:
    """The values of `node`'s inputs. `context`: what run-level placeholders in string
    constants stand for. TaskFailure if a selector fails."""
    params: dict[str, Any] = {}
    constants: dict[str, str] = {}
    for name, given in node.spec.parameters.items():
        value = _parameter(node, given.source, context)
        if value is _MISSING:
            continue
        if given.selector is not None:
            value = cel.select(given.selector, value)
        if isinstance(given.source, Constant | RuntimeParameter) and isinstance(value, str):
            constants[name] = value
        params[name] = value
    # Filled once every input is known: a constant may name another input's value.
    for name, value in constants.items():
        params[name] = resolve_constant(value, params, context)
    arts: dict[str, list[Artifact]] = {}
    scope = node.scope
    for name, source in node.spec.artifacts.items():
        match source:
            case ComponentInputArtifact(name=key):
                if key in scope.artifacts:
                    arts[name] = scope.artifacts[key]
            case TaskOutputArtifact(producer_task=producer_name, output_key=key):
                producer = scope.nodes.get(producer_name)
                if producer and producer.result and key in producer.result.artifacts:
                    arts[name] = producer.result.artifacts[key]
    return Inputs(params, arts)


def parameter_value(node: Node, source: ParameterSource, context: RuntimeContext) -> Any:
    """The value `source` gives in `node`'s scope (None if it gives none): for values a
    task reads from elsewhere than its inputs (the names in its Kubernetes settings)."""
    value = _parameter(node, source, context)
    return None if value is _MISSING else value


def _parameter(node: Node, source: ParameterSource, context: RuntimeContext) -> Any:
    scope = node.scope
    match source:
        case ComponentInputParameter(name=key):
            return scope.parameters.get(key, _MISSING)
        case TaskOutputParameter(producer_task=producer_name, output_key=key):
            producer = scope.nodes.get(producer_name)
            if producer and producer.result and key in producer.result.parameters:
                return producer.result.parameters[key]
            return _MISSING
        case Constant(value=value):
            return value
        case RuntimeParameter():
            # A task input given as a runtime parameter has no value of its own here.
            return None
        case TaskFinalStatus(producer_task=producer_name):
            return _final_status(scope.nodes.get(producer_name), context)


# A producer's end as KFP's driver names it in PipelineTaskFinalStatus.state (the
# execution states of its metadata, where success is COMPLETE; a cached or skipped
# producer completed too), whatever Dagyard calls its own task states.
_FINAL_STATES = {
    TaskState.SUCCEEDED: "COMPLETE",
    TaskState.CACHED: "COMPLETE",
    TaskState.SKIPPED: "COMPLETE",
    TaskState.CANCELED: "CANCELED",
}


def _final_status(producer: Node | None, context: RuntimeContext) -> dict[str, Any]:
    """PipelineTaskFinalStatus of `producer` (an exit task's input), as KFP's driver
    writes it (`resolveTaskFinalStatus`): `state` COMPLETE, FAILED or CANCELED; `error`
    empty when it completed (protobuf JSON leaves out a zero code and an empty message,
    so the task reads None for both), else code 1 and the producer's error message."""
    result = producer.result if producer is not None else None
    state = _FINAL_STATES.get(result.state, "FAILED") if result is not None else "FAILED"
    error = (result.error if result is not None else None) or ""
    return {
        "state": state,
        "pipelineJobResourceName": context.job_name,
        "pipelineTaskName": producer.name if producer is not None else "",
        "error": {} if state == "COMPLETE" else {"code": 1, "message": error},
    }


def with_defaults(inputs: Definitions, given: dict[str, Any], *, task: str) -> dict[str, Any]:
    """A container's parameters: those given, as their declared types, then the
    component's defaults. TaskFailure naming `task` if a required one has no value."""
    params = dict(given)
    for name, definition in inputs.parameters.items():
        if name in params:
            params[name] = from_ir(params[name], definition.type)
        elif definition.has_default:
            params[name] = definition.default
        elif not definition.is_optional:
            raise TaskFailure(f"Task '{task}' is missing required input '{name}'.")
    return params
