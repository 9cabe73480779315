"""The shape of a run in memory: scopes (the root DAG, sub-DAGs, loop iterations), their
nodes, and what a finished node hands downstream. Plain state and pure reads of it over
the typed plan (`dagyard.ir.pipeline`); deciding is `decisions.py`'s, writing the
driver's (`driver.py`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from dagyard.ir.pipeline import DagComponent, ImporterComponent, Task
from dagyard.store.records import Artifact, TaskKind, TaskState
from dagyard.store.records import Task as TaskRecord

if TYPE_CHECKING:
    from dagyard.engine.launches import Attempt
    from dagyard.engine.loops import Loop


@dataclasses.dataclass
class Result:
    """What downstream nodes read from a finished node."""

    state: TaskState
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = dataclasses.field(default_factory=dict)
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """As stored as a run's outputs: parameters, and artifacts by URI (a list of
        them for a collected output)."""
        recorded: dict[str, Any] = dict(self.parameters)
        for name, items in self.artifacts.items():
            recorded[name] = [a.uri for a in items] if len(items) != 1 else items[0].uri
        return recorded


@dataclasses.dataclass
class Inputs:
    """A node's resolved inputs: parameter values and input artifacts by input name."""

    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = dataclasses.field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """As stored on the task record (`Task.inputs`): artifacts by id."""
        return {
            "parameters": self.parameters,
            "artifacts": {k: [a.artifact_id for a in v] for k, v in self.artifacts.items()},
        }


class Node:
    """One task of a DAG in one scope. What belongs to one attempt of it (its handle,
    launch, files) is in `attempt`, set only while an attempt is queued or running."""

    def __init__(self, scope: Scope, spec: Task) -> None:
        self.scope = scope
        self.spec = spec
        self.name = spec.name
        self.path = f"{scope.path}/{spec.name}" if scope.path else spec.name
        self.kind = kind_of(spec)
        # Its record in the store, once there is one (this driver's or an earlier one's).
        self.task: TaskRecord | None = None
        # The id of this node's task record, known before the record is written (the
        # `{{$.pipeline_task_uuid}}` placeholder needs it while inputs are resolved).
        self.task_id = uuid.uuid4().hex
        self.result: Result | None = None
        self.child: Scope | None = None
        self.loop: Loop | None = None
        self.attempt: Attempt | None = None
        # A failed attempt's retry may not start before this (the driver's clock); 0: now.
        self.not_before = 0.0
        self.inputs = Inputs()
        # Finished by an earlier driver, its record taken as it is (`restore.py`).
        self.restored = False
        # What this node runs after (its scope's owner, an upstream node) is run again by
        # this driver, so an earlier record of it may not be taken as it is.
        self.fresh = False

    @property
    def done(self) -> bool:
        return self.result is not None


def kind_of(spec: Task) -> TaskKind:
    """The kind of task record a plan task makes."""
    if spec.iterator is not None:
        return TaskKind.LOOP
    if isinstance(spec.component, DagComponent):
        return TaskKind.DAG
    if isinstance(spec.component, ImporterComponent):
        return TaskKind.IMPORTER
    return TaskKind.CONTAINER


class Scope:
    """A DAG being run: the root, a sub-DAG, or one loop iteration."""

    def __init__(
        self,
        *,
        path: str,
        component: DagComponent,
        parameters: dict[str, Any],
        artifacts: dict[str, list[Artifact]],
        task: TaskRecord | None,
        fresh: bool = False,
    ) -> None:
        self.path = path
        # Its owner runs again in this driver: see `Node.fresh`.
        self.fresh = fresh
        self.component = component
        self.parameters = parameters
        self.artifacts = artifacts
        self.task = task
        self.nodes = {name: Node(self, spec) for name, spec in component.tasks.items()}

    @property
    def done(self) -> bool:
        return all(node.done for node in self.nodes.values())

    def state(self) -> TaskState:
        states = [n.result.state for n in self.nodes.values() if n.result is not None]
        if TaskState.FAILED in states:
            return TaskState.FAILED
        if TaskState.CANCELED in states:
            return TaskState.CANCELED
        return TaskState.SUCCEEDED

    def upstream(self, node: Node) -> list[Node]:
        """The nodes of this scope that `node` runs after."""
        return [self.nodes[d] for d in node.spec.dependent_tasks if d in self.nodes]


def dag_outputs(scope: Scope) -> Result:
    """A finished (or ending) scope's state and outputs: for each DAG output, the value of
    the first selector whose task produced it."""
    params: dict[str, Any] = {}
    for key, selectors in scope.component.parameter_outputs.items():
        for sel in selectors:
            producer = scope.nodes.get(sel.producer_subtask)
            if producer and producer.result and sel.output_key in producer.result.parameters:
                params[key] = producer.result.parameters[sel.output_key]
                break
    arts: dict[str, list[Artifact]] = {}
    for key, selectors in scope.component.artifact_outputs.items():
        for sel in selectors:
            producer = scope.nodes.get(sel.producer_subtask)
            if producer and producer.result and sel.output_key in producer.result.artifacts:
                arts[key] = producer.result.artifacts[sel.output_key]
                break
    return Result(scope.state(), params, arts)


def all_nodes(scope: Scope) -> list[Node]:
    nodes = []
    for node in scope.nodes.values():
        nodes.append(node)
        if node.child is not None:
            nodes.extend(all_nodes(node.child))
        if node.loop is not None:
            for child in node.loop.iterations.values():
                nodes.extend(all_nodes(child))
    return nodes


def iteration_index(scope: Scope) -> int | None:
    return scope.task.iteration_index if scope.task is not None else None
