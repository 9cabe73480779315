"""Normalise a compiled PipelineSpec into a description that kfp and dagyard must share.

`describe(ir)` turns the IR dict of a compiled pipeline into plain, JSON-able data: the
pipeline info, the root's inputs and outputs, and recursively, for every DAG, its tasks
and outputs. Each task carries its referenced component resolved by structure: its input
and output definitions, and either its normalised DAG or its normalised executor. Two
compilers agree on a pipeline when `describe` returns equal values for their outputs.

Compared strictly (a difference is a bug unless it is listed below):
- pipelineInfo name/displayName/description, defaultPipelineRoot, schemaVersion;
- DAG task names (the `dag.tasks` keys) and `taskInfo.name` (set_display_name), so group
  names such as `condition-1`, `condition-branches-1`, `for-loop-2`, `exit-handler-1`
  and channel names such as `pipelinechannel--producer-Output` must match kfp's;
- per task: dependentTasks (as a sorted list), triggerPolicy, parameterIterator or
  artifactIterator, iteratorPolicy, retryPolicy, cachingOptions, every input parameter
  and artifact with its source and parameterExpressionSelector;
- per component: inputDefinitions/outputDefinitions (parameterType, defaultValue,
  isOptional, artifact type, isArtifactList), dag.outputs, and the executor: its kind
  (container/importer/...), and every field of it (image, resources, env, importer URI
  and metadata, ...), including command and args for container components.

Equivalent spellings that are normalised away:
- numbers compare numerically (kfp writes every number as a double, so `1` equals
  `1.0`), in constants, defaults, metadata, resources and `raw` loop items, which are
  parsed as JSON; a string never equals a number;
- dependentTasks and the tasks a task takes outputs from (kfp lists none for a task
  output given to a resource setter; KFP's backend adds them, as Dagyard's engine does);
- absent and false booleans (isOptional, isArtifactList, reimport, enableCache); absent
  and empty sections; `{"Concat": ...}`/`{"IfPresent": ...}` container arguments are
  compared as parsed JSON, so whitespace inside them does not matter.

Excluded by design:
- sdkVersion (`kfp-2.x` against dagyard's own);
- component and executor names, and how often identical components are emitted: kfp
  writes `comp-add`, `comp-add-2`, ... for one component used by several tasks, dagyard
  writes it once, so tasks refer to components by structure, never by name;
- command and args of lightweight Python components: kfp's command pip-installs kfp and
  runs `kfp.dsl.executor_main`, dagyard's embeds a small runtime. Only their other
  container fields (image, resources, env) are compared. An executor counts as a
  lightweight Python one when its command or args contain one of PYTHON_MARKERS;
- descriptions of inputs and outputs (kfp copies them from docstrings).
"""

from __future__ import annotations

import contextlib
import difflib
import json
from pathlib import Path
from typing import Any

import yaml

# Strings found in the command or args of a lightweight Python component's executor:
# kfp's launcher module and flag, and dagyard's runtime.
PYTHON_MARKERS = ("kfp.dsl.executor_main", "--function_to_execute", "dagyard.runtime")

_PLACEHOLDER_KEYS = ("Concat", "IfPresent")


def load(path: str | Path) -> dict[str, Any]:
    """Read a compiled pipeline: the first YAML document (a PlatformSpec may follow)."""
    with open(path) as f:
        return next(iter(yaml.safe_load_all(f)))


def describe(ir: dict[str, Any]) -> dict[str, Any]:
    """Return the comparable description of a compiled pipeline (see module docstring)."""
    resolver = _Resolver(ir, strict=False)
    info = ir.get("pipelineInfo", {})
    return _drop_empty(
        {
            "pipelineInfo": {
                k: info[k] for k in ("name", "displayName", "description") if k in info
            },
            "defaultPipelineRoot": ir.get("defaultPipelineRoot"),
            "schemaVersion": ir.get("schemaVersion"),
            "root": resolver.component_body(ir["root"]),
        }
    )


def component_signature(ir: dict[str, Any], name: str) -> str:
    """A name-independent key of component `name` that keeps every executor field.

    Unlike `describe`, this keeps the command and args of Python components, so two
    different Python functions with the same interface get different keys.
    """
    return _dumps(_Resolver(ir, strict=True).component(name))


def executor_signature(ir: dict[str, Any], label: str) -> str:
    """A key of executor `label` that keeps every field."""
    return _dumps(_Resolver(ir, strict=True).executor(label))


def distinct_counts(ir: dict[str, Any]) -> tuple[int, int]:
    """Numbers of structurally distinct components and executors in `ir`."""
    components = {component_signature(ir, name) for name in ir.get("components", {})}
    executors = ir.get("deploymentSpec", {}).get("executors", {})
    return len(components), len({executor_signature(ir, label) for label in executors})


def referenced_names(ir: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Component names referenced by some task, and executor labels used by some component."""
    components: set[str] = set()
    pending = [ir["root"]]
    while pending:
        spec = pending.pop()
        for task in spec.get("dag", {}).get("tasks", {}).values():
            name = task["componentRef"]["name"]
            if name not in components:
                components.add(name)
                pending.append(ir["components"][name])
    executors = {
        ir["components"][name]["executorLabel"]
        for name in components
        if "executorLabel" in ir["components"][name]
    }
    return components, executors


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Paths where two descriptions differ, with both values, for an assertion message."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in left:
                found.append(f"{sub}: only in right = {_short(right[key])}")
            elif key not in right:
                found.append(f"{sub}: only in left = {_short(left[key])}")
            else:
                found.extend(differences(left[key], right[key], sub))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = []
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found.extend(differences(a, b, f"{path}[{index}]"))
        return found
    return [] if left == right else [f"{path}: {_short(left)} != {_short(right)}"]


def explain(left: Any, right: Any, *, names: tuple[str, str] = ("kfp", "dagyard")) -> str:
    """A readable report of how two descriptions differ: paths first, then a JSON diff."""
    paths = differences(left, right)
    diff = difflib.unified_diff(
        _dumps(left, indent=1).splitlines(),
        _dumps(right, indent=1).splitlines(),
        fromfile=names[0],
        tofile=names[1],
        n=4,
        lineterm="",
    )
    lines = list(diff)
    return "\n".join(
        [f"{len(paths)} difference(s) (left={names[0]}, right={names[1]}):"]
        + [f"  {p}" for p in paths[:40]]
        + (["  ..."] if len(paths) > 40 else [])
        + ["", "JSON diff:"]
        + lines[:300]
        + (["..."] if len(lines) > 300 else [])
    )


class _Resolver:
    """Walks one IR document, resolving componentRef and executorLabel by structure."""

    def __init__(self, ir: dict[str, Any], *, strict: bool) -> None:
        self._components: dict[str, Any] = ir.get("components", {})
        self._executors: dict[str, Any] = ir.get("deploymentSpec", {}).get("executors", {})
        self._strict = strict

    def component(self, name: str) -> dict[str, Any]:
        if name not in self._components:
            return {"missing-component": name}
        return self.component_body(self._components[name])

    def component_body(self, spec: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "inputDefinitions": _definitions(spec.get("inputDefinitions")),
            "outputDefinitions": _definitions(spec.get("outputDefinitions")),
        }
        if "dag" in spec:
            body["dag"] = self.dag(spec["dag"])
        if "executorLabel" in spec:
            body["executor"] = self.executor(spec["executorLabel"])
        extra = set(spec) - {"inputDefinitions", "outputDefinitions", "dag", "executorLabel"}
        for key in sorted(extra):
            body[key] = canonical(spec[key])
        return _drop_empty(body)

    def dag(self, dag: dict[str, Any]) -> dict[str, Any]:
        tasks = {key: self.task(task) for key, task in dag.get("tasks", {}).items()}
        return _drop_empty({"tasks": tasks, "outputs": canonical(dag.get("outputs", {}))})

    def task(self, task: dict[str, Any]) -> dict[str, Any]:
        caching = task.get("cachingOptions") or {}
        trigger = dict(task.get("triggerPolicy") or {})
        if trigger.get("strategy") == "TRIGGER_STRATEGY_UNSPECIFIED":
            del trigger["strategy"]
        described: dict[str, Any] = {
            "taskInfo.name": task.get("taskInfo", {}).get("name"),
            "dependentTasks": _dependencies(task),
            "triggerPolicy": trigger,
            "iterator": _iterator(task),
            "iteratorPolicy": canonical(task.get("iteratorPolicy", {})),
            "retryPolicy": canonical(task.get("retryPolicy", {})),
            "cachingOptions": _drop_empty(
                {
                    "enableCache": bool(caching.get("enableCache", False)),
                    "cacheKey": caching.get("cacheKey"),
                }
            ),
            "inputs": _drop_empty(
                {
                    "parameters": canonical(task.get("inputs", {}).get("parameters", {})),
                    "artifacts": canonical(task.get("inputs", {}).get("artifacts", {})),
                }
            ),
            "component": self.component(task.get("componentRef", {}).get("name", "")),
        }
        known = {
            "taskInfo",
            "dependentTasks",
            "triggerPolicy",
            "parameterIterator",
            "artifactIterator",
            "iteratorPolicy",
            "retryPolicy",
            "cachingOptions",
            "inputs",
            "componentRef",
        }
        for key in sorted(set(task) - known):
            described[key] = canonical(task[key])
        return _drop_empty(described)

    def executor(self, label: str) -> dict[str, Any]:
        if label not in self._executors:
            return {"missing-executor": label}
        ((kind, spec),) = self._executors[label].items()
        described = {"kind": kind}
        if kind == "container":
            python = _is_python(spec)
            for key, value in spec.items():
                if key in ("command", "args"):
                    if python and not self._strict:
                        continue
                    described[key] = [_argument(item) for item in value]
                else:
                    described[key] = canonical(value)
            if python:
                described["lightweight-python"] = True
        elif kind == "importer":
            described.update(canonical(spec))
            described["reimport"] = bool(spec.get("reimport", False))
        else:
            described.update(canonical(spec))
        return _drop_empty(described)


def canonical(value: Any) -> Any:
    """Copy `value` with integral floats turned into ints, so that 1.0 == 1 prints alike."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def _definitions(defs: dict[str, Any] | None) -> dict[str, Any]:
    defs = defs or {}
    parameters = {
        name: _drop_empty(
            {
                "parameterType": spec.get("parameterType"),
                "defaultValue": canonical(spec["defaultValue"]) if "defaultValue" in spec else None,
                "isOptional": bool(spec.get("isOptional", False)),
            },
            keep_false=True,
        )
        for name, spec in (defs.get("parameters") or {}).items()
    }
    artifacts = {
        name: {
            "artifactType": canonical(spec.get("artifactType", {})),
            "isArtifactList": bool(spec.get("isArtifactList", False)),
            "isOptional": bool(spec.get("isOptional", False)),
        }
        for name, spec in (defs.get("artifacts") or {}).items()
    }
    return _drop_empty({"parameters": parameters, "artifacts": artifacts})


def _dependencies(task: dict[str, Any]) -> list[str]:
    """dependentTasks with the tasks whose outputs the task takes, which KFP's backend
    adds when kfp leaves them out (addImplicitDependencies), as the engine does."""
    upstream = set(task.get("dependentTasks", []))
    inputs = task.get("inputs", {})
    for kind, source in (
        ("parameters", "taskOutputParameter"),
        ("artifacts", "taskOutputArtifact"),
    ):
        for value in (inputs.get(kind) or {}).values():
            if source in value:
                upstream.add(value[source]["producerTask"])
    return sorted(upstream)


def _iterator(task: dict[str, Any]) -> dict[str, Any]:
    for kind in ("parameterIterator", "artifactIterator"):
        if kind in task:
            spec = canonical(task[kind])
            items = dict(spec.get("items", {}))
            if isinstance(items.get("raw"), str):
                # Text that is not JSON is compared as it is.
                with contextlib.suppress(ValueError):
                    items["raw"] = canonical(json.loads(items["raw"]))
            return {"kind": kind, **spec, "items": items}
    return {}


def _argument(item: Any) -> Any:
    """A container argument, with kfp's JSON-encoded Concat/IfPresent parsed."""
    if isinstance(item, str) and item.startswith("{"):
        try:
            parsed = json.loads(item)
        except ValueError:
            return item
        if (
            isinstance(parsed, dict)
            and len(parsed) == 1
            and next(iter(parsed)) in _PLACEHOLDER_KEYS
        ):
            return {"placeholder": parsed}
    return canonical(item)


def _is_python(container: dict[str, Any]) -> bool:
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    return any(marker in word for word in words for marker in PYTHON_MARKERS)


def _drop_empty(mapping: dict[str, Any], *, keep_false: bool = False) -> dict[str, Any]:
    def keep(value: Any) -> bool:
        if value is False:
            return keep_false
        return value is not None and value != {} and value != []

    return {k: v for k, v in mapping.items() if keep(v)}


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, indent=indent, default=repr)


def _short(value: Any) -> str:
    text = _dumps(value)
    return text if len(text) <= 160 else text[:157] + "..."
