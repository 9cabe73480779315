"""A KFP v2 IR document that holds one component, to a `ComponentSpec`.

Compiling a lone component (kfp's `Compiler().compile(component_func, path)`, or ours)
writes a PipelineSpec whose root DAG has exactly one task, which forwards every pipeline
input to the same-named component input. That component's input and output definitions
and its executor are the loaded component; its name is `pipelineInfo.name`. Command and
args are kept as the exact strings found, so recompiling writes them byte for byte (the
`pip install kfp` command of kfp's Python components and our embedded runtime alike).

Beyond kfp 2.17: the executor's env and resources are kept (kfp drops resources and
fails on env), and an importer executor loads as an importer (kfp makes it a sub-DAG).

Anything else - several tasks, a nested DAG, a task with constants, conditions, loops or
retries - is a pipeline: `NotOneComponent` says so, and `pipeline_ir.py` loads it.
Parsing v1 `component.yaml` files is `v1.py`.
"""

from __future__ import annotations

import re
from typing import Any

from dagyard.components.located import Located
from dagyard.components.yaml_component import LoadedSpec
from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.errors import ComponentLoadError

_CONTAINER_KEYS = ("image", "command", "args", "env", "resources")
_IMPORTER_KEYS = ("artifactUri", "typeSchema", "metadata", "reimport", "downloadToWorkspace")
_WRAPPER_TASK_KEYS = ("taskInfo", "componentRef", "inputs", "cachingOptions")
_FORWARDED = {"parameters": "componentInputParameter", "artifacts": "componentInputArtifact"}
_DEFAULT_TYPES: dict[str, tuple[type, ...]] = {
    st.STRING: (str,),
    st.NUMBER_INTEGER: (int, float),
    st.NUMBER_DOUBLE: (int, float),
    st.BOOLEAN: (bool,),
    st.LIST: (list,),
    st.STRUCT: (dict,),
}
# Placeholders in command and args and the I/O they name: (inputs or outputs, what it
# must be, pattern). `{{$.inputs.parameters['x']}}` needs a parameter input 'x'.
_REFERENCES = (
    ("input", "parameter", re.compile(r"\{\{\$\.inputs\.parameters\['([^']*)'\]")),
    ("input", "artifact", re.compile(r"\{\{\$\.inputs\.artifacts\['([^']*)'\]")),
    ("input", "", re.compile(r'"InputName":\s*"([^"]*)"')),
    ("output", "parameter", re.compile(r"\{\{\$\.outputs\.parameters\['([^']*)'\]")),
    ("output", "artifact", re.compile(r"\{\{\$\.outputs\.artifacts\['([^']*)'\]")),
)


def load_ir(doc: Located, text: str) -> LoadedSpec:
    """The single component of an IR document compiled from one component."""
    name = doc.require("pipelineInfo").require("name").string()
    component = _the_component(doc)
    inputs = definitions(component.get("inputDefinitions"), is_input=True)
    outputs = definitions(component.get("outputDefinitions"), is_input=False)
    label = component.require(
        "executorLabel",
        "The component has no executor; only container and importer components can be loaded.",
    ).string()
    executor = doc.require("deploymentSpec").require("executors").require(label)
    env: dict[str, str] = {}
    resources = st.Resources()
    implementation: st.ContainerImplementation | st.ImporterImplementation
    if "container" in executor:
        implementation, env, resources = _container(executor.require("container"), inputs, outputs)
    elif "importer" in executor:
        implementation = _importer(executor.require("importer"), inputs)
    else:
        kinds = ", ".join(executor.mapping()) or "nothing"
        raise executor.error(
            f"the executor holds {kinds}; only container and importer executors can be "
            "loaded as components."
        )
    spec = st.ComponentSpec(
        name=context.k8s_name(name),
        inputs=inputs,
        outputs=outputs,
        implementation=implementation,
        description=description(doc, text),
    )
    return LoadedSpec(spec=spec, env=env, resources=resources)


class NotOneComponent(ComponentLoadError):
    """The document is a pipeline, not one compiled component: `pipeline_ir.py` loads it."""


def _pipeline_error(node: Located, why: str) -> Exception:
    return NotOneComponent(node.error(f"this is a pipeline ({why})").args[0])


def _the_component(doc: Located) -> Located:
    """The component of the root's only task, checked to be a plain wrapper task."""
    root = doc.require("root")
    dag = root.get("dag")
    if dag is None:
        raise root.error("the root has no dag; a compiled component has a one-task root DAG.")
    tasks = list(dag.require("tasks").items())
    if len(tasks) != 1:
        raise _pipeline_error(dag.require("tasks"), f"its root DAG has {len(tasks)} tasks")
    task_name, task = tasks[0]
    extra = sorted(set(task.mapping()) - set(_WRAPPER_TASK_KEYS))
    if extra:
        raise _pipeline_error(task, f"task '{task_name}' sets {', '.join(extra)}")
    inputs = task.get("inputs")
    for section, source in _FORWARDED.items():
        for key, argument in _items(None if inputs is None else inputs.get(section)):
            if argument.mapping() != {source: key}:
                raise _pipeline_error(
                    argument,
                    f"task '{task_name}' input '{key}' is {argument.value!r}, not the "
                    "pipeline input of the same name",
                )
    ref = task.require("componentRef").require("name")
    components = doc.require("components")
    component = components.get(ref.string())
    if component is None:
        raise ref.error(f"component '{ref.value}' is not under components.")
    if "dag" in component:
        raise _pipeline_error(component, f"task '{task_name}' runs a nested pipeline")
    return component


def _items(node: Located | None) -> list[tuple[str, Located]]:
    return [] if node is None else list(node.items())


def definitions(node: Located | None, *, is_input: bool) -> dict[str, st.IOSpec]:
    specs: dict[str, st.IOSpec] = {}
    if node is None:
        return specs
    node.check_keys(("parameters", "artifacts"), node.path.rsplit(".", 1)[-1])
    for name, entry in _items(node.get("parameters")):
        specs[name] = _parameter(entry, is_input=is_input)
    for name, entry in _items(node.get("artifacts")):
        if name in specs:
            raise entry.error(f"'{name}' is defined both as a parameter and as an artifact.")
        specs[name] = _artifact(entry, is_input=is_input)
    return specs


def _parameter(entry: Located, *, is_input: bool) -> st.IOSpec:
    type_node = entry.require("parameterType")
    parameter_type = type_node.string()
    if parameter_type not in st.PARAMETER_TYPES:
        raise type_node.error(
            f"parameter type {parameter_type!r} is not supported; expected one of "
            f"{', '.join(st.PARAMETER_TYPES)}."
        )
    extra: dict[str, Any] = {}
    default = entry.get("defaultValue") if is_input else None
    if default is not None:
        extra["default"] = _default(default, parameter_type)
    # IR written by kfp<=2.0.0b8 has defaults without isOptional, as kfp's loader notes.
    optional = entry.optional_boolean("isOptional") or default is not None
    return st.IOSpec(
        parameter_type=parameter_type,
        optional=optional and is_input,
        description=entry.optional_string("description") or "",
        **extra,
    )


def _default(node: Located, parameter_type: str) -> Any:
    value = node.value
    allowed = _DEFAULT_TYPES.get(parameter_type, ())
    if isinstance(value, bool) != (parameter_type == st.BOOLEAN) or not isinstance(value, allowed):
        raise node.error(f"default {value!r} is not a {parameter_type} value.")
    if parameter_type == st.NUMBER_INTEGER and isinstance(value, float):
        # Protobuf's Value holds every number as a double, so kfp writes 5 as 5.0.
        if not value.is_integer():
            raise node.error(f"default {value!r} is not a whole number (NUMBER_INTEGER).")
        return int(value)
    return value


def _artifact(entry: Located, *, is_input: bool) -> st.IOSpec:
    schema = entry.require("artifactType")
    return st.IOSpec(
        artifact_type=schema.require("schemaTitle").string(),
        schema_version=schema.require("schemaVersion").string(),
        is_list=entry.optional_boolean("isArtifactList"),
        optional=entry.optional_boolean("isOptional") and is_input,
        description=entry.optional_string("description") or "",
    )


def _container(
    container: Located, inputs: dict[str, st.IOSpec], outputs: dict[str, st.IOSpec]
) -> tuple[st.ContainerImplementation, dict[str, str], st.Resources]:
    container.check_keys(_CONTAINER_KEYS, "The container executor")
    command = [_argument(item, inputs, outputs) for item in _elements(container.get("command"))]
    args = [_argument(item, inputs, outputs) for item in _elements(container.get("args"))]
    implementation = st.ContainerImplementation(
        image=container.require("image").string(), command=tuple(command), args=tuple(args)
    )
    env: dict[str, str] = {}
    for variable in _elements(container.get("env")):
        variable.check_keys(("name", "value"), "An env entry")
        value = variable.get("value")
        env[variable.require("name").string()] = "" if value is None else value.string()
    resources = container.get("resources")
    return implementation, env, st.Resources() if resources is None else _resources(resources)


def _elements(node: Located | None) -> list[Located]:
    return [] if node is None else list(node.elements())


def _argument(item: Located, inputs: dict[str, st.IOSpec], outputs: dict[str, st.IOSpec]) -> str:
    """One command or args string, checked to name only declared inputs and outputs."""
    text = item.string()
    for direction, kind, pattern in _REFERENCES:
        declared = inputs if direction == "input" else outputs
        for name in pattern.findall(text):
            found = declared.get(name)
            if found is None or (kind and found.is_artifact != (kind == "artifact")):
                known = ", ".join(declared) or "none"
                what = f"{direction} {kind}" if kind else direction
                raise item.error(
                    f"a placeholder refers to {what} '{name}', which the component does not "
                    f"define ({direction}s: {known})."
                )
    return text


def _resources(node: Located) -> st.Resources:
    """Our Resources from either spelling kfp writes: Kubernetes quantity strings
    (`resourceCpuLimit: 500m`) or the older numbers (`cpuLimit: 0.5`, memory in GB)."""
    values: dict[str, str] = {}
    for field, new, old, unit in (
        ("cpu_limit", "resourceCpuLimit", "cpuLimit", ""),
        ("cpu_request", "resourceCpuRequest", "cpuRequest", ""),
        ("memory_limit", "resourceMemoryLimit", "memoryLimit", "G"),
        ("memory_request", "resourceMemoryRequest", "memoryRequest", "G"),
    ):
        quantity = _quantity(node, new, old, unit)
        if quantity is not None:
            values[field] = quantity
    accelerator = node.get("accelerator")
    if accelerator is not None:
        for field, new, old in (
            ("accelerator_type", "resourceType", "type"),
            ("accelerator_count", "resourceCount", "count"),
        ):
            quantity = _quantity(accelerator, new, old, "")
            if quantity is not None:
                values[field] = quantity
    return st.Resources(**values)


def _quantity(node: Located, new: str, old: str, unit: str) -> str | None:
    text = node.get(new)
    if text is not None:
        return text.string()
    number = node.get(old)
    if number is None:
        return None
    if isinstance(number.value, str):
        return number.value
    if isinstance(number.value, bool) or not isinstance(number.value, int | float):
        raise number.error(f"expected a number or a quantity string, got {number.value!r}.")
    return f"{number.value:g}{unit}"


def _importer(importer: Located, inputs: dict[str, st.IOSpec]) -> st.ImporterImplementation:
    importer.check_keys(_IMPORTER_KEYS, "The importer executor")
    if importer.optional_boolean("downloadToWorkspace"):
        raise importer.error("downloadToWorkspace is not supported yet; remove it.")
    uri = importer.require("artifactUri")
    parameter = uri.get("runtimeParameter")
    if parameter is None:
        # A constant URI only arises from a task with a constant argument, which
        # `_the_component` has already refused as a pipeline.
        raise uri.error(
            "only an artifactUri taken from a component input (runtimeParameter) can be "
            "loaded; compile the importer with its URI as a pipeline parameter."
        )
    name = parameter.string()
    if name not in inputs or inputs[name].parameter_type != st.STRING:
        raise parameter.error(f"'{name}' is not a STRING input of the component.")
    schema = importer.require("typeSchema")
    metadata = importer.get("metadata")
    return st.ImporterImplementation(
        artifact_uri=name,
        uri_from_input=True,
        schema_title=schema.require("schemaTitle").string(),
        schema_version=schema.require("schemaVersion").string(),
        reimport=importer.optional_boolean("reimport"),
        metadata=dict(metadata.mapping()) if metadata is not None else {},
    )


def description(doc: Located, text: str) -> str:
    """pipelineInfo.description, else the `# Description:` header kfp writes."""
    described = doc.require("pipelineInfo").optional_string("description")
    if described:
        return described
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# Description: "):
            return line.removeprefix("# Description: ")
    return ""
