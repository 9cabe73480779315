"""The data that describes a component: its inputs, outputs and implementation.

Plain data only. Turning a Python function into these objects lives in `component.py`
and `types.py`; writing them as IR lives in `dagyard.compiler`; reading them from YAML
lives in `dagyard.components`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagyard.dsl.context import Graph
    from dagyard.dsl.task_config import TaskConfigPassthrough

# IR parameter types (PipelineSpec ParameterType enum names).
STRING = "STRING"
NUMBER_INTEGER = "NUMBER_INTEGER"
NUMBER_DOUBLE = "NUMBER_DOUBLE"
BOOLEAN = "BOOLEAN"
LIST = "LIST"
STRUCT = "STRUCT"
TASK_FINAL_STATUS = "TASK_FINAL_STATUS"
TASK_CONFIG = "TASK_CONFIG"
PARAMETER_TYPES = (
    STRING,
    NUMBER_INTEGER,
    NUMBER_DOUBLE,
    BOOLEAN,
    LIST,
    STRUCT,
    TASK_FINAL_STATUS,
    TASK_CONFIG,
)

_NO_DEFAULT = object()


@dataclasses.dataclass(frozen=True)
class IOSpec:
    """One input or output of a component.

    `parameter_type` is set for parameters; `artifact_type` (a schema title such as
    `system.Dataset`) for artifacts. `default` is `NO_DEFAULT` when there is none.
    """

    parameter_type: str | None = None
    artifact_type: str | None = None
    schema_version: str = "0.0.1"
    is_list: bool = False
    default: Any = _NO_DEFAULT
    optional: bool = False
    description: str = ""
    # For LIST parameters: the IR type of the items, and of the values when the items are
    # dicts, when the annotation says so (List[int], List[Dict[str, float]]). Not in IR.
    item_type: str | None = None
    item_value_type: str | None = None

    @property
    def is_artifact(self) -> bool:
        return self.artifact_type is not None

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    @property
    def type_name(self) -> str:
        """A readable name for messages: `NUMBER_INTEGER`, `system.Dataset`, `List[...]`."""
        name = self.artifact_type or self.parameter_type or "?"
        return f"List[{name}]" if self.is_list else name


NO_DEFAULT: Any = _NO_DEFAULT


@dataclasses.dataclass(frozen=True)
class Resources:
    """A task's resource settings: quantities as text, or a `PipelineChannel` where a
    pipeline value gives one (the compiler writes a placeholder for it, as kfp does)."""

    cpu_request: Any = None
    cpu_limit: Any = None
    memory_request: Any = None
    memory_limit: Any = None
    accelerator_type: Any = None
    accelerator_count: Any = None


@dataclasses.dataclass(frozen=True)
class ContainerImplementation:
    """An executable: image, command and arguments (which may hold placeholders)."""

    image: str
    command: tuple[Any, ...] = ()
    args: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class ImporterImplementation:
    """Registers an existing URI as an artifact. `artifact_uri` is a constant or the
    name of the component input that carries it."""

    artifact_uri: str
    uri_from_input: bool
    schema_title: str
    schema_version: str
    reimport: bool
    metadata: dict[str, Any]


@dataclasses.dataclass
class GraphImplementation:
    """A DAG of tasks, built by calling a pipeline function."""

    graph: Graph


@dataclasses.dataclass(frozen=True)
class PipelineSpecImplementation:
    """A whole pipeline loaded from its IR (`dagyard.components`): the PipelineSpec as a
    dict, and the Kubernetes settings of its executors by label (the PlatformSpec's
    `platforms.<kind>.deploymentSpec.executors`, by kind). The compiler writes its
    components and executors into the pipeline that uses it, its root as a sub-DAG, as
    kfp does. Read only: the compiler copies what it writes."""

    pipeline_spec: dict[str, Any]
    platform_executors: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


Implementation = (
    ContainerImplementation
    | ImporterImplementation
    | GraphImplementation
    | PipelineSpecImplementation
)


@dataclasses.dataclass
class ComponentSpec:
    name: str
    inputs: dict[str, IOSpec]
    outputs: dict[str, IOSpec]
    implementation: Implementation
    description: str = ""
    # Which of the task's settings its TaskConfig input receives (`dsl.task_config`).
    task_config_passthroughs: tuple[TaskConfigPassthrough, ...] = ()
