"""IR for component interfaces and executors, and the table that emits each distinct
component once.

kfp writes one component and one executor per task, so 1,000 uses of one component
give 1,000 copies. Here a component is keyed by its content: identical ones share one
`comp-*` entry and one `exec-*` executor.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dagyard.dsl import structures as st
from dagyard.dsl.placeholders import render_item
from dagyard.dsl.task_config import TaskConfigPassthrough
from dagyard.errors import CompileError


def io_definitions(specs: dict[str, st.IOSpec]) -> dict[str, Any]:
    """`inputDefinitions`/`outputDefinitions` for a set of inputs or outputs."""
    parameters: dict[str, Any] = {}
    artifacts: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.is_artifact:
            entry: dict[str, Any] = {
                "artifactType": {
                    "schemaTitle": spec.artifact_type,
                    "schemaVersion": spec.schema_version,
                }
            }
            if spec.is_list:
                entry["isArtifactList"] = True
            if spec.optional:
                entry["isOptional"] = True
            if spec.description:
                entry["description"] = spec.description
            artifacts[name] = entry
        else:
            entry = {"parameterType": spec.parameter_type}
            if spec.has_default:
                entry["defaultValue"] = spec.default
            if spec.optional or spec.has_default:
                entry["isOptional"] = True
            if spec.description:
                entry["description"] = spec.description
            parameters[name] = entry
    result: dict[str, Any] = {}
    if artifacts:
        result["artifacts"] = artifacts
    if parameters:
        result["parameters"] = parameters
    return result


def interface(spec: st.ComponentSpec) -> dict[str, Any]:
    component: dict[str, Any] = {}
    if spec.inputs:
        component["inputDefinitions"] = io_definitions(spec.inputs)
    if spec.outputs:
        component["outputDefinitions"] = io_definitions(spec.outputs)
    if spec.task_config_passthroughs:
        component["taskConfigPassthroughs"] = [
            _passthrough(p) for p in spec.task_config_passthroughs
        ]
    return component


def _passthrough(passthrough: TaskConfigPassthrough) -> dict[str, Any]:
    """A task config passthrough as kfp writes it (`applyToTask` only when true)."""
    entry: dict[str, Any] = {"field": passthrough.field.name}
    if passthrough.apply_to_task:
        entry["applyToTask"] = True
    return entry


_MEMORY_UNITS = {
    "": 1e-9,
    "k": 1e-6,
    "K": 1e-6,
    "M": 1e-3,
    "G": 1.0,
    "T": 1e3,
    "P": 1e6,
    "E": 1e9,
    "Ki": 1024 / 1e9,
    "Mi": 1024**2 / 1e9,
    "Gi": 1024**3 / 1e9,
    "Ti": 1024**4 / 1e9,
    "Pi": 1024**5 / 1e9,
    "Ei": 1024**6 / 1e9,
}
_QUANTITY = re.compile(r"^([0-9]*\.?[0-9]+)([A-Za-z]*)$")


def _cpu_cores(value: str) -> float:
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def _memory_gb(value: str) -> float:
    match = _QUANTITY.match(value)
    if not match or match.group(2) not in _MEMORY_UNITS:
        raise CompileError(f"Memory quantity {value!r} is not valid; use e.g. '512Mi' or '2G'.")
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def resources(res: st.Resources) -> dict[str, Any]:
    """Container resources in KFP's layout: numbers for old readers, strings for new. A
    setting given by a pipeline value is a placeholder, written in the string form only."""
    out: dict[str, Any] = {}
    for field, key, number in (
        ("cpu_limit", "CpuLimit", _cpu_cores),
        ("cpu_request", "CpuRequest", _cpu_cores),
        ("memory_limit", "MemoryLimit", _memory_gb),
        ("memory_request", "MemoryRequest", _memory_gb),
    ):
        value = getattr(res, field)
        if value is None:
            continue
        if not _is_placeholder(value):
            out[key[0].lower() + key[1:]] = number(value)
        out[f"resource{key}"] = value
    if res.accelerator_type is not None or res.accelerator_count is not None:
        accelerator: dict[str, Any] = {}
        if res.accelerator_count is not None:
            if not _is_placeholder(res.accelerator_count):
                accelerator["count"] = res.accelerator_count
            accelerator["resourceCount"] = res.accelerator_count
        if res.accelerator_type is not None:
            if not _is_placeholder(res.accelerator_type):
                accelerator["type"] = res.accelerator_type
            accelerator["resourceType"] = res.accelerator_type
        out["accelerator"] = accelerator
    return out


def _is_placeholder(value: str) -> bool:
    return value.startswith("{{$")


def container_executor(
    impl: st.ContainerImplementation,
    *,
    image: str | None = None,
    env: dict[str, str] | None = None,
    res: st.Resources | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image or impl.image}
    if impl.command:
        container["command"] = [render_item(i) for i in impl.command]
    if impl.args:
        container["args"] = [render_item(i) for i in impl.args]
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    rendered = resources(res) if res is not None else {}
    if rendered:
        container["resources"] = rendered
    return {"container": container}


def importer_executor(impl: st.ImporterImplementation, constant_uri: str | None) -> dict[str, Any]:
    importer: dict[str, Any] = {
        "artifactUri": (
            {"constant": constant_uri}
            if constant_uri is not None
            else {"runtimeParameter": impl.artifact_uri}
        ),
        "typeSchema": {"schemaTitle": impl.schema_title, "schemaVersion": impl.schema_version},
    }
    if impl.metadata:
        importer["metadata"] = impl.metadata
    if impl.reimport:
        importer["reimport"] = True
    return {"importer": importer}


class ComponentTable:
    """`components` and `deploymentSpec.executors` of one document, without duplicates."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self.executors: dict[str, dict[str, Any]] = {}
        # The PlatformSpec's executors: {platform: {executor label: settings}}.
        self.platforms: dict[str, dict[str, Any]] = {}
        self._by_content: dict[str, str] = {}

    def add(
        self,
        base_name: str,
        component: dict[str, Any],
        executor: dict[str, Any] | None,
        platform: dict[str, Any] | None = None,
    ) -> str:
        """Register a component (and its executor, with its settings for other platforms,
        by platform); returns its `comp-*` name. Tasks share a component only if their
        platform settings are the same too."""
        key = json.dumps([component, executor, platform or {}], sort_keys=True, default=str)
        existing = self._by_content.get(key)
        if existing is not None:
            return existing
        name, n = base_name, 1
        while f"comp-{name}" in self.components:
            n += 1
            name = f"{base_name}-{n}"
        entry = dict(component)
        if executor is not None:
            entry["executorLabel"] = f"exec-{name}"
            self.executors[f"exec-{name}"] = executor
            for kind, settings in (platform or {}).items():
                self.platforms.setdefault(kind, {})[f"exec-{name}"] = settings
        self.components[f"comp-{name}"] = entry
        self._by_content[key] = f"comp-{name}"
        return f"comp-{name}"
