"""Semantic validation: do the parts of a structurally valid PipelineSpec fit together?

Belongs here: the rules protobuf cannot express (references between tasks, components,
executors and inputs; dependency cycles; iterators), each raising IRError with the
dotted path of the offending place. The rules accept everything kfp 2.x compiles,
including what its compiler injects (see `_injected`).

Works on the raw dict, which `structure.py` has already checked (camelCase names, right
types), so the error paths and the "first error" follow the document's own order.
Must not parse protobuf, read files, or know about running pipelines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence

from dagyard.errors import IRError
from dagyard.ir.schema import JsonDict

_SCHEMA_VERSION = re.compile(r"2\.\d+\.\d+")
_UNSPECIFIED_TYPE = "PARAMETER_TYPE_ENUM_UNSPECIFIED"
# kfp's compiler adds task inputs its component does not declare: channels referenced from
# f-strings (`pipelinechannel--...`), and for `set_container_image(param)` or resource
# setters given a pipeline parameter, these names holding a placeholder constant.
_INJECTED_PREFIX = "pipelinechannel--"
_INJECTED_NAMES = frozenset(
    {
        "base_image",
        "cpu_request",
        "cpu_limit",
        "memory_request",
        "memory_limit",
        "accelerator_type",
        "accelerator_count",
    }
)
_CONDITION_INPUT = re.compile(r"inputs\.parameter_values\[\s*['\"]([^'\"]*)['\"]\s*\]")


def check(spec: JsonDict) -> None:
    """Raise IRError for the first inconsistency in a structurally valid PipelineSpec."""
    _check_header(spec)
    components = _obj(spec, "components")
    executors = _obj(_obj(spec, "deploymentSpec"), "executors")
    root = _obj(spec, "root")
    if not root:
        raise IRError("the document has no root component; kfp writes one with a dag", path="root")
    for label, executor in executors.items():
        container = _obj(executor, "container")
        if "container" in executor and not container.get("image"):
            raise IRError(
                "container executor has no image; set container.image",
                path=f"deploymentSpec.executors.{label}.container.image",
            )
    # A component that contains itself would make every later message misleading.
    _check_component_cycles(components)
    scopes = [("root", root), *((f"components.{n}", c) for n, c in components.items())]
    for path, component in scopes:
        _check_component(path, component, components, executors)


def _check_header(spec: JsonDict) -> None:
    version = spec.get("schemaVersion")
    if not version:
        raise IRError("schemaVersion is missing; kfp 2.x writes '2.1.0'", path="schemaVersion")
    if not _SCHEMA_VERSION.fullmatch(version):
        raise IRError(
            f"schemaVersion '{version}' is not supported; Dagyard reads 2.x (kfp 2 writes 2.1.0)",
            path="schemaVersion",
        )
    if not _obj(spec, "pipelineInfo").get("name"):
        raise IRError("the pipeline has no name; set pipelineInfo.name", path="pipelineInfo.name")


def _check_component(
    path: str, component: JsonDict, components: JsonDict, executors: JsonDict
) -> None:
    for side in ("inputDefinitions", "outputDefinitions"):
        for name, definition in _obj(_obj(component, side), "parameters").items():
            kind = definition.get("parameterType")
            if not kind or kind == _UNSPECIFIED_TYPE:
                raise IRError(
                    f"parameter '{name}' has no parameterType; kfp 2 writes one, e.g. STRING",
                    path=f"{path}.{side}.parameters.{name}.parameterType",
                )
    if "dag" in component:
        _check_dag(path, component, components)
    elif label := component.get("executorLabel"):
        if label not in executors:
            raise IRError(
                f"executor '{label}' is not in deploymentSpec.executors ({_names(executors)}); "
                "add it or fix the label",
                path=f"{path}.executorLabel",
            )
    else:
        raise IRError("the component has neither a dag nor an executorLabel; give one", path=path)


def _check_dag(path: str, component: JsonDict, components: JsonDict) -> None:
    dag_path = f"{path}.dag"
    tasks = _obj(component["dag"], "tasks")
    for name, task in tasks.items():
        task_path = f"{dag_path}.tasks.{name}"
        ref = _obj(task, "componentRef").get("name")
        if not ref or ref not in components:
            raise IRError(
                f"component '{ref or ''}' is not in components ({_names(components)}); "
                "add it or fix componentRef.name",
                path=f"{task_path}.componentRef.name",
            )
        for index, dependency in enumerate(task.get("dependentTasks") or []):
            if dependency not in tasks:
                raise IRError(
                    f"dependent task '{dependency}' is not a task of this DAG ({_names(tasks)})",
                    path=f"{task_path}.dependentTasks[{index}]",
                )
    scope = _Scope(component, tasks, components)
    for name, task in tasks.items():
        _check_task(f"{dag_path}.tasks.{name}", task, scope)
    _check_dag_outputs(dag_path, component, scope)
    cycle = _find_cycle({name: list(_upstream(task)) for name, task in tasks.items()})
    if cycle:
        raise IRError(
            f"tasks depend on each other in a cycle: {' -> '.join(cycle)}; break one dependency",
            path=f"{dag_path}.tasks.{cycle[0]}",
        )


class _Scope:
    """What a task of one DAG can see: its siblings, the enclosing inputs, all components."""

    def __init__(self, component: JsonDict, tasks: JsonDict, components: JsonDict) -> None:
        inputs = _obj(component, "inputDefinitions")
        self.parameters = _obj(inputs, "parameters")
        self.artifacts = _obj(inputs, "artifacts")
        self.tasks = tasks
        self.components = components

    def callee(self, task: JsonDict) -> JsonDict:
        return _obj(self.components, _obj(task, "componentRef").get("name", ""))

    def sibling(self, name: str, path: str) -> JsonDict:
        """The task `name` of this DAG; IRError at `path` if there is none."""
        if name not in self.tasks:
            raise IRError(
                f"producer task '{name}' is not a task of this DAG ({_names(self.tasks)}); "
                "values from other DAGs arrive through component inputs",
                path=path,
            )
        task: JsonDict = self.tasks[name]
        return task

    def outputs_of(self, name: str, kind: str, path: str) -> JsonDict:
        """Output `kind` ("parameters" or "artifacts") of sibling task `name`."""
        callee = self.callee(self.sibling(name, path))
        return _obj(_obj(callee, "outputDefinitions"), kind)


def _check_task(path: str, task: JsonDict, scope: _Scope) -> None:
    ref = _obj(task, "componentRef")["name"]
    declared = _obj(scope.callee(task), "inputDefinitions")
    inputs = _obj(task, "inputs")
    _check_iterators(path, task, ref, declared, inputs)
    for kind in ("parameters", "artifacts"):
        wanted = _obj(declared, kind)
        given = _obj(inputs, kind)
        for name, value in given.items():
            here = f"{path}.inputs.{kind}.{name}"
            if name not in wanted and not _injected(name, value):
                raise IRError(
                    f"component '{ref}' has no input {kind[:-1]} '{name}' ({_names(wanted)}); "
                    "remove it or fix the name",
                    path=here,
                )
            _check_input_source(here, value, kind, scope)
        iterator = _obj(task, "parameterIterator" if kind == "parameters" else "artifactIterator")
        from_iterator = iterator.get("itemInput")
        for name, definition in wanted.items():
            optional = definition.get("isOptional") or definition.get("defaultValue") is not None
            if not optional and name not in given and name != from_iterator:
                raise IRError(
                    f"required input {kind[:-1]} '{name}' of component '{ref}' gets no value; "
                    "pass one, or mark it isOptional in the component",
                    path=f"{path}.inputs.{kind}.{name}",
                )
    condition = _obj(task, "triggerPolicy").get("condition") or ""
    for name in _CONDITION_INPUT.findall(condition):
        if name not in _obj(inputs, "parameters"):
            raise IRError(
                f"the condition reads '{name}', which is not an input parameter of this task",
                path=f"{path}.triggerPolicy.condition",
            )


def _check_input_source(path: str, value: JsonDict, kind: str, scope: _Scope) -> None:
    if kind == "parameters":
        enclosing = scope.parameters
        local, output, key = "componentInputParameter", "taskOutputParameter", "outputParameterKey"
    else:
        enclosing = scope.artifacts
        local, output, key = "componentInputArtifact", "taskOutputArtifact", "outputArtifactKey"
    if local in value:
        if value[local] not in enclosing:
            raise IRError(
                f"'{value[local]}' is not an input {kind[:-1]} of the enclosing component "
                f"({_names(enclosing)})",
                path=f"{path}.{local}",
            )
    elif output in value:
        source = _obj(value, output)
        outputs = scope.outputs_of(
            source.get("producerTask", ""), kind, f"{path}.{output}.producerTask"
        )
        if source.get(key) not in outputs:
            raise IRError(
                f"task '{source['producerTask']}' has no output {kind[:-1]} "
                f"'{source.get(key, '')}' ({_names(outputs)})",
                path=f"{path}.{output}.{key}",
            )
    elif "taskFinalStatus" in value:
        producer = _obj(value, "taskFinalStatus").get("producerTask", "")
        scope.sibling(producer, f"{path}.taskFinalStatus.producerTask")
    elif "runtimeValue" not in value:
        raise IRError(f"the input gives no value; set one of {local}, {output}, ...", path=path)


def _check_iterators(
    path: str, task: JsonDict, ref: str, declared: JsonDict, inputs: JsonDict
) -> None:
    for iterator_key, kind, source_key in (
        ("parameterIterator", "parameters", "inputParameter"),
        ("artifactIterator", "artifacts", "inputArtifact"),
    ):
        if iterator_key not in task:
            continue
        here = f"{path}.{iterator_key}"
        iterator = _obj(task, iterator_key)
        item = iterator.get("itemInput", "")
        if item not in _obj(declared, kind):
            raise IRError(
                f"itemInput '{item}' is not an input {kind[:-1]} of component '{ref}'",
                path=f"{here}.itemInput",
            )
        items = _obj(iterator, "items")
        if source := items.get(source_key):
            if source not in _obj(inputs, kind):
                raise IRError(
                    f"the loop iterates over '{source}', which is not an input of this task",
                    path=f"{here}.items.{source_key}",
                )
        elif "raw" in items:
            _check_raw_items(items["raw"], f"{here}.items.raw")
        else:
            raise IRError(f"the loop has no items; set items.{source_key}", path=f"{here}.items")
    if "iteratorPolicy" in task and not ("parameterIterator" in task or "artifactIterator" in task):
        raise IRError("iteratorPolicy applies only to a loop task", path=f"{path}.iteratorPolicy")


def _check_raw_items(raw: str, path: str) -> None:
    try:
        items = json.loads(raw)
    except ValueError as e:
        raise IRError(f"items.raw must be a JSON list, got {raw!r}: {e}", path=path) from e
    if not isinstance(items, list):
        raise IRError(f"items.raw must be a JSON list, got {raw!r}", path=path)


def _check_dag_outputs(dag_path: str, component: JsonDict, scope: _Scope) -> None:
    outputs = _obj(component["dag"], "outputs")
    declared = _obj(component, "outputDefinitions")
    for kind, key in (("parameters", "outputParameterKey"), ("artifacts", "outputArtifactKey")):
        for name, spec in _obj(outputs, kind).items():
            here = f"{dag_path}.outputs.{kind}.{name}"
            if name not in _obj(declared, kind):
                raise IRError(
                    f"DAG output '{name}' is not declared in outputDefinitions.{kind}",
                    path=here,
                )
            selectors = list(_selectors(here, spec))
            if not selectors:
                raise IRError("the DAG output names no producer subtask", path=here)
            for selector_path, selector in selectors:
                outputs_of = scope.outputs_of(
                    selector.get("producerSubtask", ""), kind, f"{selector_path}.producerSubtask"
                )
                if selector.get(key) not in outputs_of:
                    raise IRError(
                        f"task '{selector['producerSubtask']}' has no output {kind[:-1]} "
                        f"'{selector.get(key, '')}' ({_names(outputs_of)})",
                        path=f"{selector_path}.{key}",
                    )


def _selectors(path: str, spec: JsonDict) -> Iterator[tuple[str, JsonDict]]:
    if "valueFromParameter" in spec:
        yield f"{path}.valueFromParameter", _obj(spec, "valueFromParameter")
    oneof = _obj(spec, "valueFromOneof").get("parameterSelectors") or []
    for index, selector in enumerate(oneof):
        yield f"{path}.valueFromOneof.parameterSelectors[{index}]", selector
    for index, selector in enumerate(spec.get("artifactSelectors") or []):
        yield f"{path}.artifactSelectors[{index}]", selector


def _upstream(task: JsonDict) -> Iterator[str]:
    """Sibling tasks that must finish before `task`: declared and implied by inputs."""
    yield from task.get("dependentTasks") or []
    inputs = _obj(task, "inputs")
    for kind in ("parameters", "artifacts"):
        for value in _obj(inputs, kind).values():
            for source in ("taskOutputParameter", "taskOutputArtifact", "taskFinalStatus"):
                if producer := _obj(value, source).get("producerTask"):
                    yield producer


def _check_component_cycles(components: JsonDict) -> None:
    uses = {
        name: [_obj(task, "componentRef").get("name", "") for task in _dag_tasks(component)]
        for name, component in components.items()
    }
    cycle = _find_cycle(uses)
    if cycle:
        raise IRError(
            f"components contain each other in a cycle: {' -> '.join(cycle)}",
            path=f"components.{cycle[0]}",
        )


def _dag_tasks(component: JsonDict) -> Iterator[JsonDict]:
    yield from _obj(_obj(component, "dag"), "tasks").values()


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle in `graph` (node -> nodes it needs) as [a, b, ..., a], or [] if none.

    Nodes are visited in the mapping's order, so the same document always reports the
    same cycle. Edges to nodes outside `graph` are ignored (reported elsewhere).
    """
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(graph[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                pending.pop()
            elif step in on_path:
                return [*path[path.index(step) :], step]
            elif step in graph and step not in done:
                path.append(step)
                on_path.add(step)
                pending.append(iter(graph[step]))
    return []


def _injected(name: str, value: JsonDict) -> bool:
    if name.startswith(_INJECTED_PREFIX):
        return True
    constant = _obj(value, "runtimeValue").get("constant")
    return name in _INJECTED_NAMES and isinstance(constant, str) and "{{$." in constant


def _obj(holder: JsonDict, key: str) -> JsonDict:
    """`holder[key]` when it is a mapping, else an empty one (null means unset)."""
    value = holder.get(key)
    return value if isinstance(value, dict) else {}


def _names(mapping: JsonDict) -> str:
    names = list(mapping)
    if not names:
        return "there are none"
    shown = ", ".join(names[:8])
    return f"known: {shown}{', ...' if len(names) > 8 else ''}"
