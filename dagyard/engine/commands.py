"""Resolving a container's command and args: KFP's `{{$...}}` placeholders, and the
structured `IfPresent` / `Concat` placeholders, against one task attempt.

Also resolves the runtime placeholders that may appear inside constant task inputs
(`dsl.PIPELINE_JOB_NAME_PLACEHOLDER` passed as an argument, f-strings over outputs), and
finds, before a run starts, any placeholder in a pipeline that nothing here resolves
(`unknown_placeholder`): such a run is refused rather than given the placeholder's text.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from dagyard.engine.failures import TaskFailure
from dagyard.ir.pipeline import Container, DagComponent, PipelinePlan
from dagyard.ir.sources import Constant
from dagyard.runtime.artifacts import uri_to_path


@dataclasses.dataclass(frozen=True)
class RuntimeContext:
    """What the run-level placeholders stand for."""

    job_name: str
    job_id: str
    task_name: str
    task_id: str
    pipeline_root: str
    create_time: str
    schedule_time: str
    # The stored artifact a local copy stands for (see attempts.StagedFiles.to_store):
    # `.uri` placeholders name the stored artifact, `.path` ones the copy.
    stored_uri: Callable[[str], str] | None = None
    # The run's workspace folder (`dsl.WORKSPACE_PATH_PLACEHOLDER`), shared by its tasks.
    workspace_path: str = ""


_PLACEHOLDER = re.compile(r"\{\{\$(?P<body>[^{}]*)\}\}")
_INPUT_PARAM = re.compile(r"^\.inputs\.parameters\['(?P<name>[^']+)'\]$")
_ARTIFACT = re.compile(
    r"^\.(?P<side>inputs|outputs)\.artifacts\['(?P<name>[^']+)'\]\.(?P<field>path|uri|metadata)"
    r"(?:\['(?P<key>[^']+)'\])?$"
)
_OUTPUT_PARAM = re.compile(r"^\.outputs\.parameters\['(?P<name>[^']+)'\]\.output_file$")


def parameter_text(value: Any) -> str:
    """How a parameter value appears inside a command: strings as-is, the rest JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _context_value(body: str, context: RuntimeContext) -> str | None:
    return {
        ".pipeline_job_name": context.job_name,
        ".pipeline_job_resource_name": context.job_name,
        ".pipeline_job_uuid": context.job_id,
        ".pipeline_task_name": context.task_name,
        ".pipeline_task_uuid": context.task_id,
        ".pipeline_root": context.pipeline_root,
        ".pipeline_job_create_time_utc": context.create_time,
        ".pipeline_job_schedule_time_utc": context.schedule_time,
        ".workspace_path": context.workspace_path or None,
    }.get(body)


_CONTEXT_BODIES = frozenset(
    {
        ".pipeline_job_name",
        ".pipeline_job_resource_name",
        ".pipeline_job_uuid",
        ".pipeline_task_name",
        ".pipeline_task_uuid",
        ".pipeline_root",
        ".pipeline_job_create_time_utc",
        ".pipeline_job_schedule_time_utc",
        ".workspace_path",
    }
)


def _known(body: str) -> bool:
    return (
        body in ("", ".outputs.output_file")
        or body in _CONTEXT_BODIES
        or any(p.match(body) for p in (_INPUT_PARAM, _OUTPUT_PARAM, _ARTIFACT))
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _places(plan: PipelinePlan) -> Iterator[tuple[str, Any]]:
    """Where placeholders are resolved: executors' command lines, tasks' constant inputs."""
    for name, executor in plan.executors.items():
        if isinstance(executor, Container):
            yield f"executor {name!r}", [executor.command, executor.args]
    dags: list[tuple[str, DagComponent]] = [("the pipeline", plan.root)]
    dags += [
        (f"component {n!r}", c) for n, c in plan.components.items() if isinstance(c, DagComponent)
    ]
    for owner, dag in dags:
        for task_name, task in dag.tasks.items():
            constants = [
                p.source.value for p in task.parameters.values() if isinstance(p.source, Constant)
            ]
            yield f"task {task_name!r} of {owner}", constants


def unknown_placeholder(plan: PipelinePlan) -> tuple[str, str] | None:
    """The first `{{$...}}` placeholder of pipeline `plan` that the engine cannot
    resolve, and where it is (an executor's command line, a task's constant input), or
    None. A task would otherwise be handed the placeholder's own text."""
    for where, values in _places(plan):
        for text in _strings(values):
            for match in _PLACEHOLDER.finditer(text):
                if not _known(match.group("body")):
                    return match.group(0), where
    return None


def resolve_constant(text: str, parameters: dict[str, Any], context: RuntimeContext) -> str:
    """A constant input string with run-level and input-parameter placeholders filled."""

    def replace(match: re.Match[str]) -> str:
        body = match.group("body")
        found = _context_value(body, context)
        if found is not None:
            return found
        param = _INPUT_PARAM.match(body)
        if param and param.group("name") in parameters:
            return parameter_text(parameters[param.group("name")])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def resolve_argv(
    items: list[str], executor_input: dict[str, Any], context: RuntimeContext
) -> list[str]:
    """The command line of one attempt: every placeholder replaced."""
    argv: list[str] = []
    for item in items:
        structured = _structured(item)
        if structured is None:
            argv.append(_substitute(item, executor_input, context))
        else:
            argv.extend(_expand(structured, executor_input, context))
    return argv


def _structured(item: str) -> dict[str, Any] | None:
    if not (item.startswith('{"IfPresent"') or item.startswith('{"Concat"')):
        return None
    try:
        value = json.loads(item)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _expand(item: Any, executor_input: dict[str, Any], context: RuntimeContext) -> list[str]:
    if isinstance(item, str):
        return [_substitute(item, executor_input, context)]
    if isinstance(item, dict) and "Concat" in item:
        parts = [p for part in item["Concat"] for p in _expand(part, executor_input, context)]
        return ["".join(parts)]
    if isinstance(item, dict) and "IfPresent" in item:
        spec = item["IfPresent"]
        name = spec.get("InputName", "")
        inputs = executor_input.get("inputs", {})
        present = name in inputs.get("parameterValues", {}) or name in inputs.get("artifacts", {})
        chosen = spec.get("Then", []) if present else spec.get("Else", []) or []
        if not isinstance(chosen, list):
            chosen = [chosen]
        return [p for part in chosen for p in _expand(part, executor_input, context)]
    raise TaskFailure(f"Unknown structured placeholder in a command: {item!r}.")


def _substitute(text: str, executor_input: dict[str, Any], context: RuntimeContext) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match.group("body")
        if body == "":
            return json.dumps(executor_input)
        if body == ".outputs.output_file":
            return str(executor_input["outputs"]["outputFile"])
        found = _context_value(body, context)
        if found is not None:
            return found
        if m := _INPUT_PARAM.match(body):
            values = executor_input["inputs"].get("parameterValues", {})
            if m.group("name") not in values:
                raise TaskFailure(
                    f"The command uses input '{m.group('name')}', which has no value."
                )
            return parameter_text(values[m.group("name")])
        if m := _OUTPUT_PARAM.match(body):
            return str(executor_input["outputs"]["parameters"][m.group("name")]["outputFile"])
        if m := _ARTIFACT.match(body):
            return _artifact_field(executor_input, m, context)
        raise TaskFailure(f"Unknown placeholder {match.group(0)!r} in a command.")

    return _PLACEHOLDER.sub(replace, text)


def _artifact_field(
    executor_input: dict[str, Any], m: re.Match[str], context: RuntimeContext
) -> str:
    side, name, field = m.group("side"), m.group("name"), m.group("field")
    entry = executor_input[side].get("artifacts", {}).get(name)
    if not entry or not entry.get("artifacts"):
        raise TaskFailure(f"The command uses {side[:-1]} artifact '{name}', which has no value.")
    artifact = entry["artifacts"][0]
    if field == "uri":
        uri = str(artifact["uri"])
        return context.stored_uri(uri) if context.stored_uri is not None else uri
    if field == "path":
        return uri_to_path(str(artifact["uri"]))
    metadata = artifact.get("metadata", {})
    if m.group("key") is not None:
        return parameter_text(metadata.get(m.group("key"), ""))
    return json.dumps(metadata)
