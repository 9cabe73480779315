"""A pipeline loaded from its IR (`components.load_component_from_*` of a whole
pipeline), folded into the pipeline that calls it.

kfp copies the loaded pipeline's executors and components into the caller's, renaming
those whose names clash, and uses its root as the calling task's sub-DAG component
(pipeline_spec_builder.merge_deployment_spec_and_component_spec); the Kubernetes
settings of its executors follow their renamed labels. Here every component goes
through the caller's `ComponentTable`, leaves first, so names are made unique the same
way and a component identical to one the caller has is written once.

Belongs here: that fold. Not here: reading the document (`dagyard.components`).
"""

from __future__ import annotations

import copy
from typing import Any

from dagyard.compiler import components as cp
from dagyard.dsl import structures as st
from dagyard.errors import CompileError


def add_loaded_pipeline(
    table: cp.ComponentTable, name: str, implementation: st.PipelineSpecImplementation
) -> str:
    """Add the loaded pipeline's components and executors to `table`; returns the name
    of the component of its root, a DAG named after the pipeline (`name`)."""
    source = implementation.pipeline_spec
    components: dict[str, Any] = source.get("components") or {}
    executors: dict[str, Any] = (source.get("deploymentSpec") or {}).get("executors") or {}
    added: dict[str, str] = {}

    def add(component_name: str) -> str:
        if component_name in added:
            return added[component_name]
        if component_name not in components:
            raise CompileError(
                f"Loaded pipeline '{name}' refers to component '{component_name}', which it "
                "does not hold; load a pipeline file as the compiler wrote it."
            )
        component = copy.deepcopy(components[component_name])
        base = component_name.removeprefix("comp-")
        if "dag" in component:
            _rename_refs(component, add)
            added[component_name] = table.add(base, component, None)
        else:
            label = component.pop("executorLabel", None)
            if label not in executors:
                raise CompileError(
                    f"Loaded pipeline '{name}': component '{component_name}' runs executor "
                    f"{label!r}, which it does not hold; load a pipeline file as the "
                    "compiler wrote it."
                )
            platform = {
                kind: settings[label]
                for kind, settings in implementation.platform_executors.items()
                if label in settings
            }
            added[component_name] = table.add(
                base, component, copy.deepcopy(executors[label]), platform or None
            )
        return added[component_name]

    root = copy.deepcopy(source["root"])
    _rename_refs(root, add)
    return table.add(name, root, None)


def _rename_refs(component: dict[str, Any], add: Any) -> None:
    for task in component.get("dag", {}).get("tasks", {}).values():
        ref = task["componentRef"]
        ref["name"] = add(ref["name"])
