"""A KFP v2 IR document of a whole pipeline, to a component that runs it as a sub-DAG.

kfp 2.17 loads any pipeline IR as a component (structures.ComponentSpec.from_ir_dicts
gives it a graph implementation, the PipelineSpec itself), and its compiler folds it
into the pipeline that calls it: the loaded pipeline's components and executors join
the caller's, renamed where names clash, and its root becomes the task's sub-DAG
component (pipeline_spec_builder.merge_deployment_spec_and_component_spec). Here the
document is validated as a pipeline first (`dagyard.ir`), so a broken one is refused
when it is loaded, naming the place; its inputs and outputs are its root's.

Belongs here: reading such a document into a `ComponentSpec`. A document of one
component (a one-task wrapper) is `ir.py`'s; folding the pipeline into the caller is the
compiler's (`dagyard/compiler/loaded.py`).
"""

from __future__ import annotations

import copy
from typing import Any

from dagyard import ir
from dagyard.components.ir import definitions, description
from dagyard.components.located import Located
from dagyard.components.yaml_component import LoadedSpec
from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.errors import IRError


def load_pipeline_ir(doc: Located, platform: Located | None, text: str) -> LoadedSpec:
    """The component that runs the pipeline of `doc` (with the Kubernetes settings of
    its executors from `platform`, the PlatformSpec document, if any)."""
    platform_spec = platform.mapping() if platform is not None else None
    try:
        ir.from_dict(doc.mapping(), platform_spec)
    except IRError as e:
        raise doc.error(f"this pipeline is not valid pipeline IR: {e}") from e
    name = doc.require("pipelineInfo").require("name").string()
    root = doc.require("root")
    spec = st.ComponentSpec(
        name=context.k8s_name(name),
        inputs=definitions(root.get("inputDefinitions"), is_input=True),
        outputs=definitions(root.get("outputDefinitions"), is_input=False),
        implementation=st.PipelineSpecImplementation(
            pipeline_spec=copy.deepcopy(doc.mapping()),
            platform_executors=_platform_executors(platform_spec),
        ),
        description=description(doc, text),
    )
    return LoadedSpec(spec=spec)


def _platform_executors(platform_spec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The settings of each executor, by platform kind then label. A pipeline's own
    settings (its `pipelineConfig`) stay behind, as kfp's merge_platform_specs leaves
    them: the calling pipeline's own config holds for the whole run."""
    platforms = (platform_spec or {}).get("platforms") or {}
    found: dict[str, dict[str, Any]] = {}
    for kind, settings in platforms.items():
        executors = ((settings or {}).get("deploymentSpec") or {}).get("executors") or {}
        if executors:
            found[kind] = copy.deepcopy(executors)
    return found
