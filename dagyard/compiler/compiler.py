"""`Compiler`: writes a pipeline or a single component as a PipelineSpec document.

Assembling the document (pipeline info, root, components, executors) lives here; the
DAG routing is in `dag.py` and component/executor IR in `components.py`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from dagyard.compiler import components as cp
from dagyard.compiler.dag import DagCompiler
from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.component import BaseComponent, GraphComponent
from dagyard.dsl.pipeline_config import platform_config
from dagyard.errors import CompileError

SCHEMA_VERSION = "2.1.0"


def _sdk_version() -> str:
    from dagyard.version import __version__

    return f"dagyard-{__version__}"


class Compiler:
    """Compiles pipelines and components to KFP pipeline IR (YAML)."""

    def compile(
        self,
        pipeline_func: BaseComponent,
        package_path: str | os.PathLike[str],
        pipeline_name: str | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        type_check: bool = True,
    ) -> None:
        """Write `pipeline_func` (a pipeline or a component) as IR YAML to `package_path`."""
        document = compile_to_dict(
            pipeline_func, pipeline_name=pipeline_name, pipeline_parameters=pipeline_parameters
        )
        path = Path(package_path)
        if path.suffix not in (".yaml", ".yml", ".json"):
            raise CompileError(
                f"Cannot write IR to '{path}': the file name must end in .yaml, .yml or .json."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(document, json_format=path.suffix == ".json"))


def dumps(document: dict[str, Any], *, json_format: bool = False) -> str:
    """The text of what `compile_to_dict` returns: with a PlatformSpec, the YAML holds it
    as a second document, as kfp writes it (JSON: the `{pipeline_spec, platform_spec}`
    pair itself)."""
    if json_format:
        import json

        return json.dumps(document, indent=2, sort_keys=True) + "\n"
    spec, platform_spec = document.get("pipeline_spec", document), document.get("platform_spec")
    header = f"# PIPELINE DEFINITION\n# Name: {spec['pipelineInfo']['name']}\n"
    # The C emitter, when PyYAML has it, is several times faster on large pipelines.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = header + yaml.dump(spec, Dumper=dumper, sort_keys=True, width=100)
    if platform_spec:
        text += "---\n" + yaml.dump(platform_spec, Dumper=dumper, sort_keys=True, width=100)
    return text


def compile_to_dict(
    pipeline_func: BaseComponent,
    *,
    pipeline_name: str | None = None,
    pipeline_parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The IR of a pipeline or component, as a dict ready to dump; when a task has
    settings for another platform (`dagyard.kubernetes`), the `{pipeline_spec,
    platform_spec}` pair kfp's client sends, which `dumps` writes as two documents."""
    if not isinstance(pipeline_func, BaseComponent):
        raise CompileError(
            f"Compiler.compile needs a function decorated with @dsl.pipeline, @dsl.component "
            f"or @dsl.container_component; got {pipeline_func!r}."
        )
    if isinstance(pipeline_func.spec.implementation, st.PipelineSpecImplementation):
        return _loaded_pipeline(
            pipeline_func.spec.implementation,
            pipeline_name=pipeline_name,
            pipeline_parameters=pipeline_parameters,
        )
    config: dict[str, Any] = {}
    if isinstance(pipeline_func, GraphComponent):
        graph = pipeline_func.graph
        description = pipeline_func.description
        display_name = pipeline_func.display_name
        pipeline_root = pipeline_func.pipeline_root
        config = platform_config(pipeline_func.pipeline_config)
    else:
        graph = _wrap_component(pipeline_func)
        description, display_name, pipeline_root = "", None, None
    table = cp.ComponentTable()
    root = _compile_graph(graph, table, pipeline_func.spec)
    if pipeline_parameters:
        _override_defaults(root, pipeline_parameters)
    info: dict[str, Any] = {"name": pipeline_name or pipeline_func.name}
    if description:
        info["description"] = description
    if display_name:
        info["displayName"] = display_name
    document: dict[str, Any] = {
        "components": table.components,
        "deploymentSpec": {"executors": table.executors},
        "pipelineInfo": info,
        "root": root,
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": _sdk_version(),
    }
    if pipeline_root:
        document["defaultPipelineRoot"] = pipeline_root
    platforms: dict[str, Any] = {
        kind: {"deploymentSpec": {"executors": executors}}
        for kind, executors in table.platforms.items()
    }
    if config:
        # The pipeline's own settings (its workspace), where kfp writes them.
        platforms.setdefault("kubernetes", {})["pipelineConfig"] = config
    if platforms:
        return {"pipeline_spec": document, "platform_spec": {"platforms": platforms}}
    return document


def _loaded_pipeline(
    loaded: st.PipelineSpecImplementation,
    *,
    pipeline_name: str | None,
    pipeline_parameters: dict[str, Any] | None,
) -> dict[str, Any]:
    """A pipeline loaded from its IR, compiled on its own: its document as it was loaded
    (kfp writes it unchanged, not wrapped in a one-task pipeline), renamed and given
    defaults if asked, with the Kubernetes settings of its executors."""
    document = copy.deepcopy(loaded.pipeline_spec)
    if pipeline_name:
        document.setdefault("pipelineInfo", {})["name"] = pipeline_name
    if pipeline_parameters:
        _override_defaults(document.setdefault("root", {}), pipeline_parameters)
    if not loaded.platform_executors:
        return document
    platforms = {
        kind: {"deploymentSpec": {"executors": copy.deepcopy(executors)}}
        for kind, executors in loaded.platform_executors.items()
    }
    return {"pipeline_spec": document, "platform_spec": {"platforms": platforms}}


def _compile_graph(
    graph: context.Graph, table: cp.ComponentTable, spec: st.ComponentSpec
) -> dict[str, Any]:
    def compile_nested(inner: context.Graph) -> str:
        component = _compile_graph(inner, table, _spec_of(inner))
        return table.add(inner.name, component, None)

    root = DagCompiler(graph, table, compile_nested).compile()
    root.update(cp.interface(spec))
    return root


def _spec_of(graph: context.Graph) -> st.ComponentSpec:
    if graph.component_spec is None:
        raise CompileError(f"Nested pipeline '{graph.name}' has no component spec.")
    return graph.component_spec


def _wrap_component(component: BaseComponent) -> context.Graph:
    """A one-task pipeline around a component, as kfp compiles a lone component: every
    input, a PipelineTaskFinalStatus too, is the pipeline's own."""
    graph = context.Graph(component.name)
    for name, spec in component.spec.inputs.items():
        graph.inputs[name] = PipelineChannel(name, spec)
    with context.building(graph):
        # Through __call__, so a component class can apply its own task settings.
        task = component(**graph.inputs)
    graph.outputs = dict(task.outputs)
    return graph


def _override_defaults(root: dict[str, Any], parameters: dict[str, Any]) -> None:
    defined = root.get("inputDefinitions", {}).get("parameters", {})
    for name, value in parameters.items():
        if name not in defined:
            raise CompileError(
                f"pipeline_parameters names '{name}', which is not an input of the pipeline "
                f"(inputs: {', '.join(sorted(defined)) or 'none'})."
            )
        defined[name]["defaultValue"] = value
        defined[name]["isOptional"] = True
