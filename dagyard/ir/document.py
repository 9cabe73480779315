"""A validated PipelineSpec document, and the two ways to get one from a dict.

Belongs here: `PipelineDocument` (the raw dict plus typed protobuf views and a few read
helpers), `from_dict` and `validate`, and `stored_form`, the document as one dict. The
document carries no behaviour beyond reading: planning, running and compiling live in
other packages. Text and files are in `codec.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagyard.errors import IRError
from dagyard.ir import semantics, structure
from dagyard.ir.schema import JsonDict, Message, pipeline_spec_pb2


@dataclass(frozen=True, slots=True)
class PipelineDocument:
    """A PipelineSpec that passed validation, as kfp 2.x or Dagyard's compiler wrote it.

    - `raw`: the document exactly as loaded (integers stay integers). Treat as read-only.
    - `spec`: the same content as a `pipeline_spec_pb2.PipelineSpec` message, for typed
      reads. Protobuf stores every number in a `Value` or `Struct` (default values,
      constants, `deploymentSpec`) as a float: read numbers from `raw` when it matters.
    - `deployment`: `deploymentSpec` as a `PipelineDeploymentConfig` message (in `spec`
      it is an untyped Struct).
    - `platform_spec`: the optional second YAML document (`{platforms: {...}}`), checked
      only for shape.
    """

    raw: JsonDict
    spec: Message
    deployment: Message
    platform_spec: JsonDict | None = None

    @property
    def name(self) -> str:
        """`pipelineInfo.name`."""
        name: str = self.spec.pipeline_info.name
        return name

    @property
    def root_inputs(self) -> Message:
        """The pipeline's parameters and artifacts: `root.inputDefinitions`."""
        return self.spec.root.input_definitions

    def component(self, name: str) -> Message:
        """The `ComponentSpec` called `name` (as in `componentRef.name`, e.g. `comp-add`)."""
        if name not in self.spec.components:
            raise KeyError(
                f"No component '{name}'; known: {', '.join(sorted(self.spec.components))}"
            )
        return self.spec.components[name]

    def executor(self, label: str) -> Message:
        """The `ExecutorSpec` for `label` (as in `executorLabel`, e.g. `exec-add`)."""
        executors = self.deployment.executors
        if label not in executors:
            raise KeyError(f"No executor '{label}'; known: {', '.join(sorted(executors))}")
        return executors[label]


def from_dict(
    spec: Mapping[str, Any], platform_spec: Mapping[str, Any] | None = None
) -> PipelineDocument:
    """Validate a PipelineSpec dict (and optional PlatformSpec dict) and wrap it. `spec`
    may also be the `{pipeline_spec, platform_spec}` pair (`stored_form`).

    The dicts are copied, so later changes to them do not reach the document.
    Raises IRError naming the first problem and where it is.
    """
    if platform_spec is None and "pipeline_spec" in spec and "root" not in spec:
        spec, platform_spec = spec["pipeline_spec"], spec.get("platform_spec")
    return build(_copy(spec), _copy(platform_spec))


def stored_form(document: PipelineDocument) -> JsonDict:
    """The document as one dict, as kfp's client sends it and a run keeps it: the
    PipelineSpec, or with a PlatformSpec the `{pipeline_spec, platform_spec}` pair."""
    if document.platform_spec is None:
        return document.raw
    return {"pipeline_spec": document.raw, "platform_spec": document.platform_spec}


def validate(spec: Mapping[str, Any], platform_spec: Mapping[str, Any] | None = None) -> None:
    """Raise IRError if `spec` is not a valid PipelineSpec; return None if it is."""
    build(spec, platform_spec)


def build(raw: object, platform_spec: object = None) -> PipelineDocument:
    """Validate and wrap dicts this package owns (no copy). Internal to `dagyard.ir`."""
    if isinstance(raw, Mapping) and not isinstance(raw, dict):
        raw = dict(raw)
    if not isinstance(raw, dict):
        raise IRError(f"a PipelineSpec must be a mapping, got {type(raw).__name__}")
    message = structure.parse(raw, pipeline_spec_pb2.PipelineSpec)
    deployment_raw = raw.get("deploymentSpec") or {}
    deployment = structure.parse(
        deployment_raw, pipeline_spec_pb2.PipelineDeploymentConfig, path="deploymentSpec"
    )
    semantics.check(raw)
    platform: JsonDict | None = None
    if platform_spec is not None:
        if isinstance(platform_spec, Mapping) and not isinstance(platform_spec, dict):
            platform_spec = dict(platform_spec)
        if not isinstance(platform_spec, dict):
            raise IRError(f"a PlatformSpec must be a mapping, got {type(platform_spec).__name__}")
        structure.parse(platform_spec, pipeline_spec_pb2.PlatformSpec)
        platform = platform_spec
    return PipelineDocument(raw=raw, spec=message, deployment=deployment, platform_spec=platform)


def _copy(data: object) -> object:
    return copy.deepcopy(dict(data) if isinstance(data, Mapping) else data)
