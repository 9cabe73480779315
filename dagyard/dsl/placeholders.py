"""Placeholders: strings and objects in a container's command and args that the
orchestrator replaces at run time.

Run-time constants (`PIPELINE_JOB_NAME_PLACEHOLDER`...) are plain strings. The objects
below stand for a component's own inputs and outputs inside `dsl.ContainerSpec`; their
`str()` is the IR placeholder, so they also work inside f-strings.
"""

from __future__ import annotations

import json
from typing import Any

from dagyard.errors import DslError

PIPELINE_JOB_NAME_PLACEHOLDER = "{{$.pipeline_job_name}}"
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = "{{$.pipeline_job_resource_name}}"
PIPELINE_JOB_ID_PLACEHOLDER = "{{$.pipeline_job_uuid}}"
PIPELINE_TASK_NAME_PLACEHOLDER = "{{$.pipeline_task_name}}"
PIPELINE_TASK_ID_PLACEHOLDER = "{{$.pipeline_task_uuid}}"
PIPELINE_ROOT_PLACEHOLDER = "{{$.pipeline_root}}"
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_create_time_utc}}"
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_schedule_time_utc}}"
PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER = "{{$.outputs.output_file}}"
WORKSPACE_PATH_PLACEHOLDER = "{{$.workspace_path}}"


class Placeholder:
    """Base of placeholder objects; `render()` gives the IR form (a string or a dict)."""

    def render(self) -> str | dict[str, Any]:
        raise NotImplementedError

    def __str__(self) -> str:
        rendered = self.render()
        return rendered if isinstance(rendered, str) else json.dumps(rendered)


class InputValuePlaceholder(Placeholder):
    def __init__(self, input_name: str) -> None:
        self.input_name = input_name

    def render(self) -> str:
        return f"{{{{$.inputs.parameters['{self.input_name}']}}}}"


class InputPathPlaceholder(Placeholder):
    def __init__(self, input_name: str) -> None:
        self.input_name = input_name

    def render(self) -> str:
        return f"{{{{$.inputs.artifacts['{self.input_name}'].path}}}}"


class InputUriPlaceholder(InputPathPlaceholder):
    def render(self) -> str:
        return f"{{{{$.inputs.artifacts['{self.input_name}'].uri}}}}"


class InputMetadataPlaceholder(InputPathPlaceholder):
    def __init__(self, input_name: str, key: str | None = None) -> None:
        super().__init__(input_name)
        self.key = key

    def __getitem__(self, key: str) -> InputMetadataPlaceholder:
        return InputMetadataPlaceholder(self.input_name, key)

    def render(self) -> str:
        field = "" if self.key is None else f"['{self.key}']"
        return f"{{{{$.inputs.artifacts['{self.input_name}'].metadata{field}}}}}"


class OutputParameterPlaceholder(Placeholder):
    def __init__(self, output_name: str) -> None:
        self.output_name = output_name

    def render(self) -> str:
        return f"{{{{$.outputs.parameters['{self.output_name}'].output_file}}}}"


class OutputPathPlaceholder(OutputParameterPlaceholder):
    def render(self) -> str:
        return f"{{{{$.outputs.artifacts['{self.output_name}'].path}}}}"


class OutputUriPlaceholder(OutputParameterPlaceholder):
    def render(self) -> str:
        return f"{{{{$.outputs.artifacts['{self.output_name}'].uri}}}}"


class OutputMetadataPlaceholder(OutputParameterPlaceholder):
    def __init__(self, output_name: str, key: str | None = None) -> None:
        super().__init__(output_name)
        self.key = key

    def __getitem__(self, key: str) -> OutputMetadataPlaceholder:
        return OutputMetadataPlaceholder(self.output_name, key)

    def render(self) -> str:
        field = "" if self.key is None else f"['{self.key}']"
        return f"{{{{$.outputs.artifacts['{self.output_name}'].metadata{field}}}}}"


class ArtifactPlaceholders:
    """What a container component sees for an artifact argument: `.path`, `.uri`,
    `.metadata`, each a placeholder."""

    def __init__(self, name: str, *, output: bool) -> None:
        self.path: Placeholder
        if output:
            self.path = OutputPathPlaceholder(name)
            self.uri: Placeholder = OutputUriPlaceholder(name)
            self.metadata: Placeholder = OutputMetadataPlaceholder(name)
        else:
            self.path = InputPathPlaceholder(name)
            self.uri = InputUriPlaceholder(name)
            self.metadata = InputMetadataPlaceholder(name)

    def __str__(self) -> str:
        raise DslError(
            "An artifact argument of a container component needs .path, .uri or .metadata "
            "to be used in a command."
        )


class ConcatPlaceholder(Placeholder):
    """Joins strings and placeholders into one argument at run time."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def render(self) -> dict[str, Any]:
        return {"Concat": [_inner(i) for i in self.items]}


class IfPresentPlaceholder(Placeholder):
    """Uses `then` if the optional input `input_name` was given, `else_` otherwise."""

    def __init__(
        self,
        input_name: str,
        then: Any,
        else_: Any = None,
    ) -> None:
        self.input_name = input_name
        self.then = then if isinstance(then, list) else [then]
        self.else_ = else_ if else_ is None or isinstance(else_, list) else [else_]

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "InputName": self.input_name,
            "Then": [_inner(i) for i in self.then],
        }
        if self.else_ is not None:
            body["Else"] = [_inner(i) for i in self.else_]
        return {"IfPresent": body}


def _inner(item: Any) -> Any:
    """Items nested in a structured placeholder stay JSON objects, not strings."""
    if isinstance(item, IfPresentPlaceholder | ConcatPlaceholder):
        return item.render()
    return render_item(item)


def render_item(item: Any) -> Any:
    """The IR form of one command/args item: a string, or a JSON dict for the
    structured placeholders (written as a JSON string, as kfp does)."""
    if isinstance(item, IfPresentPlaceholder | ConcatPlaceholder):
        return json.dumps(item.render())
    if isinstance(item, Placeholder):
        return item.render()
    if isinstance(item, ArtifactPlaceholders):
        raise DslError(
            "An artifact argument of a container component needs .path, .uri or .metadata "
            "to be used in a command."
        )
    if isinstance(item, str):
        return item
    if isinstance(item, bool | int | float):
        return str(item)
    raise DslError(
        f"Container command item {item!r} is not a string or placeholder. Pass strings, "
        "the component's own arguments, or dsl.ConcatPlaceholder/IfPresentPlaceholder."
    )
