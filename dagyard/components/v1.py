"""KFP v1 `component.yaml` (name, inputs, outputs, implementation.container) to a
`ComponentSpec`, following what kfp 2.17's loader makes of it
(`ComponentSpec.from_v1_component_spec` and
`placeholders.maybe_convert_v1_yaml_placeholder_to_v2_placeholder`):

- names: the component name in k8s style, input and output names lower-case with runs
  of other characters turned into `_` ("Input Text" -> `input_text`); placeholders
  refer to inputs and outputs by their original names;
- types: kfp's v1 parameter type names (String, Integer, Float, Boolean, JsonArray,
  List[str], ...) become parameters; artifact class names (Dataset, Model, ...) and
  `google.X` become those artifact types; anything else, including no type, a type
  given as a mapping and `system.*`, is `system.Artifact`;
- defaults, written as strings in v1, are converted to the parameter type ('5' -> 5).

Where kfp's conversion has known defects, we differ deliberately: defaults of
`List[...]`/`Dict[...]` types are JSON-decoded like those of `JsonArray` (kfp leaves them
as strings, which is invalid IR), an `else` branch holding a placeholder is converted
(kfp leaves it raw), and descriptions are kept. Reading IR documents is `ir.py`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dagyard.components.located import Located
from dagyard.components.yaml_component import LoadedSpec
from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.dsl import types as ty
from dagyard.dsl.placeholders import (
    PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER,
    ConcatPlaceholder,
    IfPresentPlaceholder,
    InputPathPlaceholder,
    InputUriPlaceholder,
    InputValuePlaceholder,
    OutputParameterPlaceholder,
    OutputPathPlaceholder,
    OutputUriPlaceholder,
    render_item,
)
from dagyard.runtime import artifacts as ar

# kfp's PARAMETER_TYPES_MAPPING: the only type names a v1 file can use for parameters.
# IR names such as STRUCT or NUMBER_INTEGER are not among them (kfp makes them artifacts).
_PARAMETER_TYPES = {
    "integer": st.NUMBER_INTEGER,
    "int": st.NUMBER_INTEGER,
    "double": st.NUMBER_DOUBLE,
    "float": st.NUMBER_DOUBLE,
    "string": st.STRING,
    "str": st.STRING,
    "text": st.STRING,
    "bool": st.BOOLEAN,
    "boolean": st.BOOLEAN,
    "dict": st.STRUCT,
    "list": st.LIST,
    "jsonobject": st.STRUCT,
    "jsonarray": st.LIST,
}
_GOOGLE_TYPE = re.compile(r"^google.[A-Za-z]+$")
_TOP_KEYS = ("name", "description", "metadata", "inputs", "outputs", "implementation", "version")
_INPUT_KEYS = ("name", "type", "description", "default", "optional", "annotations")
_OUTPUT_KEYS = ("name", "type", "description", "annotations")
_CONTAINER_KEYS = ("image", "command", "args", "env", "fileOutputs")
_PLACEHOLDERS = "inputValue, inputPath, inputUri, outputPath, outputUri, concat, if, executorInput"


def sanitize_io_name(name: str) -> str:
    """kfp's `sanitize_input_name`: lower-case, other characters to `_`."""
    return re.sub(r"[^_0-9a-z]+", "_", name.lower()).strip("_")


class _KfpIfPresent(IfPresentPlaceholder):
    """An IfPresent rendered as kfp renders a v1 `if`: a single `then` or `else` item
    stays a scalar and an empty `else` is dropped, so the IR is byte-identical to kfp's."""

    def __init__(self, input_name: str, then: Any, else_: Any) -> None:
        super().__init__(input_name, then, else_)
        self.then, self.else_ = then, else_

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {"InputName": self.input_name, "Then": _nested(self.then)}
        if self.else_:
            body["Else"] = _nested(self.else_)
        return {"IfPresent": body}


def _nested(item: Any) -> Any:
    if isinstance(item, list):
        return [_nested(i) for i in item]
    if isinstance(item, IfPresentPlaceholder | ConcatPlaceholder):
        return item.render()
    return render_item(item)


def load_v1(doc: Located) -> LoadedSpec:
    """The component described by a v1 `component.yaml` mapping."""
    doc.check_keys(_TOP_KEYS, "A v1 component.yaml")
    reader = _Reader(doc)
    implementation = doc.require(
        "implementation",
        "A v1 component needs implementation.container with image, command and args.",
    )
    if "graph" in implementation:
        raise implementation.error(
            "v1 graph components are not supported; write the graph as a @dsl.pipeline "
            "and call the components it uses from there."
        )
    implementation.check_keys(("container",), "implementation")
    container = implementation.require("container", "Give image, command and args.")
    container.check_keys(_CONTAINER_KEYS, "implementation.container")
    if container.get("fileOutputs") is not None:
        raise container.error(
            "fileOutputs is a KFP v1 feature that v2 does not support; pass each output's "
            "path with {outputPath: name} in command or args instead."
        )
    image = container.require("image").string()
    command = tuple(reader.arguments(container.get("command")))
    args = tuple(reader.arguments(container.get("args")))
    env = {key: value.string() for key, value in _items(container.get("env"))}
    name = context.k8s_name(doc.optional_string("name") or "name")
    spec = st.ComponentSpec(
        name=name,
        inputs={reader.input_names[key]: io for key, io in reader.inputs.items()},
        outputs={reader.output_names[key]: io for key, io in reader.outputs.items()},
        implementation=st.ContainerImplementation(image=image, command=command, args=args),
        description=doc.optional_string("description") or "",
    )
    return LoadedSpec(spec=spec, env=env)


def _items(node: Located | None) -> list[tuple[str, Located]]:
    return [] if node is None else list(node.items())


def _elements(node: Located | None) -> list[Located]:
    return [] if node is None else list(node.elements())


class _Reader:
    """Inputs and outputs of one v1 document (keyed by their original names), and the
    conversion of its command-line arguments, which refer to them."""

    def __init__(self, doc: Located) -> None:
        self.inputs: dict[str, st.IOSpec] = {}
        self.outputs: dict[str, st.IOSpec] = {}
        self.input_names: dict[str, str] = {}
        self.output_names: dict[str, str] = {}
        for node in _elements(doc.get("inputs")):
            node.check_keys(_INPUT_KEYS, "An input")
            name = self._name(node, self.input_names, "input")
            self.inputs[name] = _input_spec(node)
        for node in _elements(doc.get("outputs")):
            node.check_keys(_OUTPUT_KEYS, "An output")
            name = self._name(node, self.output_names, "output")
            self.outputs[name] = _output_spec(node)

    @staticmethod
    def _name(node: Located, names: dict[str, str], kind: str) -> str:
        name_node = node.require("name")
        name = name_node.string()
        sanitized = sanitize_io_name(name)
        if name in names:
            raise name_node.error(f"{kind} '{name}' is declared twice; rename one of them.")
        if not sanitized:
            raise name_node.error(f"{kind} name {name!r} has no letters or digits.")
        clash = [other for other, s in names.items() if s == sanitized]
        if clash:
            raise name_node.error(
                f"{kind} names {clash[0]!r} and {name!r} both become '{sanitized}'; "
                "rename one of them."
            )
        names[name] = sanitized
        return name

    def arguments(self, node: Located | None) -> list[Any]:
        return [self.argument(item) for item in _elements(node)]

    def argument(self, item: Located) -> Any:
        value = item.value
        if isinstance(value, str):
            return value
        if not isinstance(value, dict) or len(value) != 1:
            raise item.error(
                f"a command-line item must be a string or a placeholder with one key "
                f"({_PLACEHOLDERS}); got {value!r}. Quote numbers and booleans."
            )
        ((key, _),) = value.items()
        if key == "executorInput":
            return PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER
        inner = item.require(key)
        if key == "inputValue":
            return InputValuePlaceholder(self._input(inner, key, artifact=False))
        if key == "inputPath":
            return InputPathPlaceholder(self._input(inner, key, artifact=True))
        if key == "inputUri":
            return InputUriPlaceholder(self._input(inner, key, artifact=True))
        if key == "outputPath":
            original = self._output(inner, key, artifact=None)
            sanitized = self.output_names[original]
            if self.outputs[original].is_artifact:
                return OutputPathPlaceholder(sanitized)
            return OutputParameterPlaceholder(sanitized)
        if key == "outputUri":
            return OutputUriPlaceholder(self.output_names[self._output(inner, key, artifact=True)])
        if key == "concat":
            return self._concat(inner)
        if key == "if":
            return self._if(inner)
        raise item.error(f"unknown placeholder {key!r}; supported: {_PLACEHOLDERS}.")

    def _input(self, node: Located, key: str, *, artifact: bool | None) -> str:
        name = node.string()
        if name not in self.input_names:
            known = ", ".join(self.input_names) or "none"
            raise node.error(
                f"placeholder {{{key}: {name}}} names input '{name}', which the component "
                f"does not declare (inputs: {known}). Add it under inputs or fix the name."
            )
        _check_kind(node, key, name, "input", self.inputs[name], artifact)
        return self.input_names[name]

    def _output(self, node: Located, key: str, *, artifact: bool | None) -> str:
        """The original name of the output `node` names."""
        name = node.string()
        if name not in self.output_names:
            known = ", ".join(self.output_names) or "none"
            raise node.error(
                f"placeholder {{{key}: {name}}} names output '{name}', which the component "
                f"does not declare (outputs: {known}). Add it under outputs or fix the name."
            )
        _check_kind(node, key, name, "output", self.outputs[name], artifact)
        return name

    def _concat(self, node: Located) -> ConcatPlaceholder:
        items = [self.argument(element) for element in node.elements()]
        for element, item in zip(node.elements(), items, strict=True):
            if isinstance(item, IfPresentPlaceholder) and (
                isinstance(item.then, list) or isinstance(item.else_, list)
            ):
                raise element.error(
                    "an `if` inside `concat` must have a single `then` item and a single "
                    "`else` item, not lists (kfp rejects this too)."
                )
        return ConcatPlaceholder(items)

    def _if(self, node: Located) -> _KfpIfPresent:
        node.check_keys(("cond", "then", "else"), "An `if` placeholder")
        cond = node.require("cond")
        if not isinstance(cond.value, dict) or "isPresent" not in cond.value:
            raise cond.error(
                "only {isPresent: input} conditions are supported; got "
                f"{cond.value!r}. Use {{if: {{cond: {{isPresent: name}}, then: [...]}}}}."
            )
        input_name = self._input(cond.require("isPresent"), "isPresent", artifact=None)
        then = self._branch(node.require("then"))
        else_node = node.get("else")
        return _KfpIfPresent(
            input_name, then, None if else_node is None else self._branch(else_node)
        )

    def _branch(self, node: Located) -> Any:
        if isinstance(node.value, list):
            return self.arguments(node)
        return self.argument(node)


def _check_kind(
    node: Located, key: str, name: str, kind: str, spec: st.IOSpec, artifact: bool | None
) -> None:
    """kfp refuses these pairings when the component is called; we refuse them at load."""
    if artifact is None or spec.is_artifact == artifact:
        return
    if artifact:
        fix = f"use {{inputValue: {name}}}" if kind == "input" else f"use {{outputPath: {name}}}"
        raise node.error(
            f"placeholder {{{key}: {name}}} needs an artifact, but {kind} '{name}' is a "
            f"{spec.type_name} parameter; {fix}, or give it an artifact type such as Dataset."
        )
    raise node.error(
        f"placeholder {{{key}: {name}}} needs a parameter, but {kind} '{name}' is an artifact "
        f"({spec.type_name}); use {{inputPath: {name}}} or {{inputUri: {name}}}, or give it "
        "a parameter type such as String."
    )


def _type_name(node: Located) -> str | None:
    """kfp's canonical form of a v1 type: `typing.List[str]` -> `List`; None when the
    type is absent or not a string (a mapping such as {GCSPath: ...})."""
    type_node = node.get("type")
    if type_node is None or isinstance(type_node.value, dict):
        return None
    name = type_node.string().removeprefix("typing.")
    if name.lower().startswith(("list", "dict")):
        name = name.split("[")[0]
    return name


def _artifact(type_name: str | None, **extra: Any) -> st.IOSpec:
    if type_name is not None and _GOOGLE_TYPE.match(type_name):
        return st.IOSpec(artifact_type=type_name, schema_version="0.0.1", **extra)
    # Only bare class names count: kfp makes `system.Dataset` a plain Artifact.
    cls = ty.artifact_class_of(type_name) if type_name and "." not in type_name else None
    return ty.artifact_io(cls or ar.Artifact, **extra)


def _input_spec(node: Located) -> st.IOSpec:
    type_name = _type_name(node)
    description = node.optional_string("description") or ""
    default_node = node.get("default")
    optional = node.optional_boolean("optional") or default_node is not None
    if type_name == "PipelineTaskFinalStatus":
        return st.IOSpec(parameter_type=st.TASK_FINAL_STATUS, optional=True)
    parameter_type = _PARAMETER_TYPES.get((type_name or "").lower())
    if parameter_type is None:
        return _artifact(type_name, optional=optional, description=description)
    extra: dict[str, Any] = {}
    if default_node is not None:
        extra["default"] = _default(default_node, parameter_type)
    return st.IOSpec(
        parameter_type=parameter_type, optional=optional, description=description, **extra
    )


def _output_spec(node: Located) -> st.IOSpec:
    type_name = _type_name(node)
    description = node.optional_string("description") or ""
    parameter_type = _PARAMETER_TYPES.get((type_name or "").lower())
    if parameter_type is None:
        return _artifact(type_name, description=description)
    return st.IOSpec(parameter_type=parameter_type, description=description)


_TRUE = ("y", "yes", "t", "true", "on", "1")
_FALSE = ("n", "no", "f", "false", "off", "0")


def _default(node: Located, parameter_type: str) -> Any:
    """A v1 default (usually a string) as a value of `parameter_type`, as kfp converts it."""
    value = node.value
    try:
        if parameter_type == st.STRING:
            return str(value)
        if parameter_type == st.NUMBER_INTEGER:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError
            return int(value)
        if parameter_type == st.NUMBER_DOUBLE:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            return float(value)
        if parameter_type == st.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text not in _TRUE + _FALSE:
                raise ValueError
            return text in _TRUE
        expected = list if parameter_type == st.LIST else dict
        decoded = json.loads(value) if isinstance(value, str) else value
        if not isinstance(decoded, expected):
            raise ValueError
        return decoded
    except ValueError as e:
        example = {
            st.NUMBER_INTEGER: "'5'",
            st.NUMBER_DOUBLE: "'0.5'",
            st.BOOLEAN: "'True' or 'False'",
            st.LIST: "'[1, 2]'",
            st.STRUCT: "'{\"a\": 1}'",
        }[parameter_type]
        raise node.error(
            f"default {value!r} is not a valid {parameter_type} value; write e.g. {example}."
        ) from e
