"""Loops (`dsl.ParallelFor`): the items a loop iterates over, how many iterations may be
open at once, what an iteration's scope starts with, and the loop's result.

Belongs here: the `Loop` state of a running loop node and pure functions over it and
the plan's iterators. Opening an iteration's record and advancing its scope are the
driver's (`driver.py`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from dagyard.engine.failures import TaskFailure
from dagyard.engine.scopes import Inputs, Result, Scope
from dagyard.ir.pipeline import DagComponent
from dagyard.ir.sources import ArtifactIterator, InputItems, Iterator, RawItems
from dagyard.store.records import Artifact, TaskState

# Beyond a few iterations per worker, more open iterations only cost scanning time:
# every one needs at least one task slot to make progress.
OPEN_PER_SLOT = 4


@dataclasses.dataclass
class Loop:
    """A ParallelFor node's iterations."""

    items: list[Any]
    item_input: str
    is_artifact: bool
    limit: int
    iterations: dict[int, Scope] = dataclasses.field(default_factory=dict)
    # Only the results of finished iterations are kept, not their scopes: in a loop of
    # 10,000 iterations, their nodes, records and launches would be hundreds of thousands
    # of objects for the collector to go through again and again.
    finished: dict[int, Result] = dataclasses.field(default_factory=dict)

    @property
    def next_index(self) -> int:
        return len(self.finished) + len(self.iterations)


def new_loop(iterator: Iterator, inputs: Inputs, *, path: str) -> Loop:
    """The loop `iterator` makes over a node's resolved inputs. TaskFailure if its items
    are not a list (or a JSON list)."""
    items: Any
    if isinstance(iterator, ArtifactIterator):
        items = inputs.artifacts.get(iterator.input_artifact, [])
    elif isinstance(iterator.items, RawItems):
        items = list(iterator.items.items)
    else:
        assert isinstance(iterator.items, InputItems)
        items = inputs.parameters.get(iterator.items.parameter)
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except json.JSONDecodeError as e:
            raise TaskFailure(
                f"Loop '{path}' needs a list to iterate over; got {items!r}, which is not "
                f"JSON ({e.msg})."
            ) from e
    if not isinstance(items, list):
        raise TaskFailure(f"Loop '{path}' needs a list to iterate over; got {items!r}.")
    return Loop(
        items=items,
        item_input=iterator.item_input,
        is_artifact=isinstance(iterator, ArtifactIterator),
        limit=iterator.parallelism_limit,
    )


def open_count(loop: Loop, *, max_parallel: int, stopping: bool) -> int:
    """How many more iterations to open now: up to the loop's parallelism limit and a
    few per slot of the run, none once the run is stopping."""
    if stopping:
        return 0
    cap = OPEN_PER_SLOT * max_parallel
    if loop.limit:
        cap = min(cap, loop.limit)
    return max(0, min(len(loop.items) - loop.next_index, cap - len(loop.iterations)))


def iteration_inputs(
    loop: Loop, index: int, inputs: Inputs, component: DagComponent
) -> tuple[dict[str, Any], dict[str, list[Artifact]]]:
    """The parameters and artifacts iteration `index` of `loop` starts its scope with."""
    item = loop.items[index]
    if loop.is_artifact:
        return child_parameters(component, inputs.parameters), {
            **inputs.artifacts,
            loop.item_input: [item],
        }
    params = child_parameters(component, inputs.parameters)
    params[loop.item_input] = item
    return params, dict(inputs.artifacts)


def child_parameters(component: DagComponent, given: dict[str, Any]) -> dict[str, Any]:
    """The parameters a sub-DAG's scope starts with: those given, then its defaults."""
    params = dict(given)
    for name, definition in component.inputs.parameters.items():
        if name not in params and definition.has_default:
            params[name] = definition.default
    return params


def ended(loop: Loop, *, stopping: bool) -> bool:
    """Whether the loop is over: every iteration finished, or (the run stopping) every
    open one (the others never start)."""
    return not loop.iterations and (len(loop.finished) == len(loop.items) or stopping)


def loop_result(loop: Loop) -> Result:
    """A finished loop's state and outputs: each output collected over its iterations, in
    order."""
    params: dict[str, list[Any]] = {}
    arts: dict[str, list[Artifact]] = {}
    states = []
    for index in sorted(loop.finished):
        result = loop.finished[index]
        states.append(result.state)
        for key, value in result.parameters.items():
            params.setdefault(key, []).append(value)
        for key, items in result.artifacts.items():
            arts.setdefault(key, []).extend(items)
    if TaskState.FAILED in states:
        state, error = TaskState.FAILED, "an iteration failed"
    elif TaskState.CANCELED in states or len(states) < len(loop.items):
        state, error = TaskState.CANCELED, f"{len(states)} of {len(loop.items)} iterations ran"
    else:
        state, error = TaskState.SUCCEEDED, None
    return Result(state, dict(params), arts, error)
