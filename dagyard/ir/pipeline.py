"""The plan of a pipeline: a validated PipelineSpec as frozen, typed views.

Belongs here: the dataclasses for the pipeline (`PipelinePlan`), its components (a
closed set: `DagComponent`, `ContainerComponent`, `ImporterComponent`, and
`UnsupportedComponent` for executors Dagyard does not run), their input and output
definitions, their executors, and the tasks of a DAG (`Task`). What a task's inputs
come from and how it is retried, cached and looped are in `sources.py`.

    plan = dagyard.ir.plan(document)
    for name, task in plan.root.tasks.items():
        match task.component:
            case ContainerComponent(container=container): ...

Values are as the document means them: integers stay integers (kfp writes `2.0` for an
integer default), durations are seconds, enums are `StrEnum`s named as in the IR,
mappings are read-only and keep the document's order.

Must not read documents or dicts (`planning.py` builds the plan) and must not carry
behaviour: deciding, resolving and running live in the engine. The only raw IR kept is
where a digest must stay the same as the document's own text (`Container.raw`,
`Definitions.raw`): cache fingerprints are stored, and must not change with the views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from dagyard.ir.kubernetes import KubernetesSettings
from dagyard.ir.sources import (
    ArtifactSource,
    CachingOptions,
    ConstantOrRuntimeParameter,
    Iterator,
    OutputSelector,
    ParameterInput,
    RetryPolicy,
    TriggerPolicy,
)

# -- input and output definitions -----------------------------------------------------


class ParameterType(StrEnum):
    """A parameter's `parameterType`, named as in the IR."""

    STRING = "STRING"
    NUMBER_INTEGER = "NUMBER_INTEGER"
    NUMBER_DOUBLE = "NUMBER_DOUBLE"
    BOOLEAN = "BOOLEAN"
    LIST = "LIST"
    STRUCT = "STRUCT"
    TASK_FINAL_STATUS = "TASK_FINAL_STATUS"
    TASK_CONFIG = "TASK_CONFIG"


@dataclass(frozen=True, slots=True)
class ParameterDefinition:
    """An input or output parameter of a component.

    `default`: `defaultValue`, meaningful only when `has_default` (a default may be
    null); a whole number is an int when `type` is NUMBER_INTEGER. Output parameters
    have neither default nor `is_optional`."""

    type: ParameterType
    has_default: bool = False
    default: Any = None
    is_optional: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class ArtifactType:
    """`artifactType` / `typeSchema`: empty strings for what the IR leaves out (exactly
    one of `schema_title`, `schema_uri`, `instance_schema` is normally set)."""

    schema_title: str = ""
    schema_version: str = ""
    schema_uri: str = ""
    instance_schema: str = ""


@dataclass(frozen=True, slots=True)
class ArtifactDefinition:
    """An input or output artifact of a component. `is_list`: `isArtifactList` (a
    `List[Dataset]`). `is_optional` is for inputs; `metadata` for outputs."""

    type: ArtifactType
    is_list: bool = False
    is_optional: bool = False
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Definitions:
    """`inputDefinitions` or `outputDefinitions` of a component. `raw`: the section as
    the document writes it, for digests only (see the module docstring)."""

    parameters: Mapping[str, ParameterDefinition]
    artifacts: Mapping[str, ArtifactDefinition]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


# -- executors: `deploymentSpec.executors` --------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Accelerator:
    """`resources.accelerator`: `type` and `count` as kfp writes them, or the newer
    `resource_type` and `resource_count` (a string that may hold a placeholder)."""

    type: str = ""
    count: int = 0
    resource_type: str = ""
    resource_count: str = ""


@dataclass(frozen=True, slots=True)
class Resources:
    """`container.resources`: numbers in CPUs and GB (`cpu_limit`, ...) or the newer
    Kubernetes-style strings (`resource_cpu_limit: "500m"`); None where unset."""

    cpu_limit: float | None = None
    memory_limit: float | None = None
    cpu_request: float | None = None
    memory_request: float | None = None
    resource_cpu_limit: str | None = None
    resource_memory_limit: str | None = None
    resource_cpu_request: str | None = None
    resource_memory_request: str | None = None
    accelerator: Accelerator | None = None


@dataclass(frozen=True, slots=True)
class Exec:
    """A command run beside the task's own (`lifecycle.preCacheCheck`)."""

    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Container:
    """A container executor. `command` and `args` may hold `{{$...}}` placeholders and
    JSON-encoded `{"IfPresent": ...}` / `{"Concat": ...}` items. `raw`: the executor's
    `container` as the document writes it, for digests only."""

    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    resources: Resources | None = None
    pre_cache_check: Exec | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Importer:
    """An importer executor: registers the artifact at `artifact_uri` (a constant, or
    the value of one of the component's input parameters) as its output `artifact`."""

    artifact_uri: ConstantOrRuntimeParameter
    type: ArtifactType
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reimport: bool = False
    download_to_workspace: bool = False


@dataclass(frozen=True, slots=True)
class UnsupportedExecutor:
    """An executor the IR defines and Dagyard does not run: `kind` is its field name
    (`resolver`, `customJob`)."""

    kind: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


Executor: TypeAlias = Container | Importer | UnsupportedExecutor
"""The closed set of executors of `deploymentSpec.executors`."""


# -- tasks and components ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    """A task of a DAG (`dag.tasks.<name>`).

    `component`: the component it runs (`componentRef.name` is `component.name`).
    `display_name`: `taskInfo.name`, else `name`. `dependent_tasks`: the sibling tasks
    the IR lists as upstream. `iterator`: None unless the task is a loop, whose
    iterations each run `component` with the item."""

    name: str
    display_name: str
    component: Component = field(repr=False)
    dependent_tasks: tuple[str, ...] = ()
    parameters: Mapping[str, ParameterInput] = field(default_factory=dict)
    artifacts: Mapping[str, ArtifactSource] = field(default_factory=dict)
    trigger: TriggerPolicy = field(default_factory=TriggerPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    caching: CachingOptions = field(default_factory=CachingOptions)
    iterator: Iterator | None = None


@dataclass(frozen=True, slots=True)
class DagComponent:
    """A component made of tasks (`dag`): the pipeline's root, a sub-pipeline, or a
    group the compiler made (`comp-condition-1`, `comp-for-loop-2`, ...).

    `tasks` in the document's order. `parameter_outputs` / `artifact_outputs`: for each
    DAG output, where its value comes from, in order: the first selector whose task
    produced it wins (one selector, or several for `dsl.OneOf`)."""

    name: str
    inputs: Definitions
    outputs: Definitions
    tasks: Mapping[str, Task]
    parameter_outputs: Mapping[str, tuple[OutputSelector, ...]] = field(default_factory=dict)
    artifact_outputs: Mapping[str, tuple[OutputSelector, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerComponent:
    """A component run as a process or container (`executorLabel` -> `container`)."""

    name: str
    inputs: Definitions
    outputs: Definitions
    executor_label: str
    container: Container
    # `taskConfigPassthroughs`: by field (TaskConfigField's name, such as RESOURCES or
    # ENV), whether the task applies the setting to itself as well (`applyToTask`).
    # Empty: the component passes nothing through and the task applies everything.
    task_config_passthroughs: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImporterComponent:
    """A component that imports an existing artifact (`executorLabel` -> `importer`)."""

    name: str
    inputs: Definitions
    outputs: Definitions
    executor_label: str
    importer: Importer


@dataclass(frozen=True, slots=True)
class UnsupportedComponent:
    """A component whose executor Dagyard does not run (see `UnsupportedExecutor`)."""

    name: str
    inputs: Definitions
    outputs: Definitions
    executor_label: str
    executor: UnsupportedExecutor


Component: TypeAlias = DagComponent | ContainerComponent | ImporterComponent | UnsupportedComponent
"""The closed set of component kinds."""


# -- the pipeline --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PipelineInfo:
    """`pipelineInfo`."""

    name: str
    display_name: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class PipelinePlan:
    """A whole PipelineSpec.

    `root`: the pipeline's DAG, named "root"; its `inputs` are the pipeline's parameters
    and artifacts, with their defaults. `components`: by name (`comp-...`), as tasks
    refer to them. `executors`: by label (`exec-...`). `default_pipeline_root`: None
    unless the pipeline sets one. `platform_spec`: the document's PlatformSpec
    (`{platforms: {...}}`) as written, or None. `kubernetes`: its Kubernetes settings
    (kfp-kubernetes'), by executor label: `dagyard.ir.kubernetes`. `workspace_size`:
    the size of the run's workspace the pipeline asks for ("10Gi"), or None."""

    info: PipelineInfo
    root: DagComponent
    components: Mapping[str, Component]
    executors: Mapping[str, Executor]
    schema_version: str
    sdk_version: str = ""
    default_pipeline_root: str | None = None
    platform_spec: Mapping[str, Any] | None = field(default=None, repr=False)
    kubernetes: Mapping[str, KubernetesSettings] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    workspace_size: str | None = None
