"""Where a task's values come from, and how a task runs: typed views of a task's IR.

Belongs here: frozen dataclasses mirroring the parts of a `PipelineTaskSpec` that hold
no reference to other parts of the plan (input sources, DAG output selectors, trigger,
retry and caching policies, iterators). Each closed set of alternatives is a union of
small classes, so that a reader dispatches with `match` on the type and mypy sees every
case: a parameter comes from exactly one `ParameterSource`, an artifact from exactly one
`ArtifactSource`, a loop iterates over `RawItems` or `InputItems`.

Must not read documents or dicts (`planning.py` builds these views), and must not carry
behaviour: resolving a source, evaluating a condition or waiting for a retry is the
engine's. Names follow the IR's fields in snake_case; where the IR leaves a field out,
the value given here is the one kfp's SDK and backend use for it (stated per field).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

# -- parameter sources: `inputs.parameters.<name>` ------------------------------------


@dataclass(frozen=True, slots=True)
class Constant:
    """A value written into the IR: `runtimeValue.constant` (or the older
    `runtimeValue.constantValue`). A string may hold `{{$...}}` placeholders. A whole
    number for an input the component declares NUMBER_INTEGER is an int, even where
    kfp wrote it as a double."""

    value: Any


@dataclass(frozen=True, slots=True)
class RuntimeParameter:
    """`runtimeValue.runtimeParameter`: the value of the enclosing component's input
    parameter `name` (also how an importer names its URI's source)."""

    name: str


@dataclass(frozen=True, slots=True)
class ComponentInputParameter:
    """`componentInputParameter`: the enclosing DAG's input parameter `name`."""

    name: str


@dataclass(frozen=True, slots=True)
class TaskOutputParameter:
    """`taskOutputParameter`: output parameter `output_key` of sibling task
    `producer_task`."""

    producer_task: str
    output_key: str


@dataclass(frozen=True, slots=True)
class TaskFinalStatus:
    """`taskFinalStatus`: how sibling task `producer_task` ended (an exit task's input,
    PipelineTaskFinalStatus)."""

    producer_task: str


ConstantOrRuntimeParameter: TypeAlias = Constant | RuntimeParameter
"""`runtimeValue` / `artifactUri`: a value written in the IR, or an input's value."""

ParameterSource: TypeAlias = (
    Constant | RuntimeParameter | ComponentInputParameter | TaskOutputParameter | TaskFinalStatus
)
"""The closed set of places an input parameter's value comes from."""


@dataclass(frozen=True, slots=True)
class ParameterInput:
    """One input parameter of a task: its source, and `selector`, the
    `parameterExpressionSelector` (a CEL expression over the value, such as a loop
    item's field `parseJson(string_value)["a"]`), or None."""

    source: ParameterSource
    selector: str | None = None


# -- artifact sources: `inputs.artifacts.<name>` --------------------------------------


@dataclass(frozen=True, slots=True)
class TaskOutputArtifact:
    """`taskOutputArtifact`: output artifact `output_key` of sibling task
    `producer_task`."""

    producer_task: str
    output_key: str


@dataclass(frozen=True, slots=True)
class ComponentInputArtifact:
    """`componentInputArtifact`: the enclosing DAG's input artifact `name`."""

    name: str


ArtifactSource: TypeAlias = TaskOutputArtifact | ComponentInputArtifact
"""The closed set of places an input artifact comes from."""


# -- DAG outputs: `dag.outputs` ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutputSelector:
    """A DAG output taken from output `output_key` of the DAG's task `producer_subtask`
    (`valueFromParameter`, one of `valueFromOneof.parameterSelectors`, one of
    `artifactSelectors`)."""

    producer_subtask: str
    output_key: str


# -- when a task runs: `triggerPolicy` ------------------------------------------------


class TriggerStrategy(StrEnum):
    """`triggerPolicy.strategy`, named as in the IR."""

    UNSPECIFIED = "TRIGGER_STRATEGY_UNSPECIFIED"
    ALL_UPSTREAM_TASKS_SUCCEEDED = "ALL_UPSTREAM_TASKS_SUCCEEDED"
    ALL_UPSTREAM_TASKS_COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"


@dataclass(frozen=True, slots=True)
class TriggerPolicy:
    """`condition`: the CEL condition over `inputs.parameter_values[...]` the task runs
    under, None when it always runs. `strategy`: UNSPECIFIED when the IR gives none, which
    KFP treats as ALL_UPSTREAM_TASKS_SUCCEEDED."""

    condition: str | None = None
    strategy: TriggerStrategy = TriggerStrategy.UNSPECIFIED


# -- retries and caching --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retryPolicy`, durations in seconds. A task without one is retried 0 times; a
    field left out has the value of kfp's `set_retry` default (backoff 0 s, factor 2,
    at most 3600 s)."""

    max_retry_count: int = 0
    backoff_seconds: float = 0.0
    backoff_factor: float = 2.0
    backoff_max_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class CachingOptions:
    """`cachingOptions`: caching is off unless `enableCache` is true (kfp writes `{}`
    for off). `cache_key`: the custom key replacing the fingerprint, None if unset."""

    enabled: bool = False
    cache_key: str | None = None


# -- loops: `parameterIterator` / `artifactIterator` + `iteratorPolicy` ---------------


@dataclass(frozen=True, slots=True)
class RawItems:
    """Loop items written into the IR (`items.raw`), parsed from their JSON."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class InputItems:
    """Loop items read from the task's input parameter `parameter`
    (`items.inputParameter`): a list, or a string holding a JSON list."""

    parameter: str


@dataclass(frozen=True, slots=True)
class ParameterIterator:
    """A loop over parameter values: each item goes to the component's input parameter
    `item_input`. `parallelism_limit` (`iteratorPolicy.parallelismLimit`): at most that
    many iterations at once, 0 for no limit."""

    items: RawItems | InputItems
    item_input: str
    parallelism_limit: int = 0


@dataclass(frozen=True, slots=True)
class ArtifactIterator:
    """A loop over the artifacts of the task's input artifact `input_artifact`
    (`items.inputArtifact`), each going to the component's input artifact `item_input`.
    `parallelism_limit` as for `ParameterIterator`."""

    input_artifact: str
    item_input: str
    parallelism_limit: int = 0


Iterator: TypeAlias = ParameterIterator | ArtifactIterator
"""The closed set of loops a task can be."""
