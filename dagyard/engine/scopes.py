"""The shape of a run in memory: scopes (the root DAG, sub-DAGs, loop iterations), their
nodes, and what a finished node hands downstream. Plain state and pure reads of it; the
decisions are the driver's (`orchestrator.py`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from dagyard.engine.attempts import StagedFiles
from dagyard.executors.base import Launch
from dagyard.store.records import Artifact, Task, TaskState


@dataclasses.dataclass
class Result:
    """What downstream nodes read from a finished node."""

    state: TaskState
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = dataclasses.field(default_factory=dict)
    error: str | None = None


class Node:
    """One task of a DAG in one scope."""

    def __init__(self, scope: Scope, name: str, spec: dict[str, Any]) -> None:
        self.scope = scope
        self.name = name
        self.spec = spec
        self.path = f"{scope.path}/{name}" if scope.path else name
        self.task: Task | None = None
        # The id of this node's task record, known before the record is written (the
        # `{{$.pipeline_task_uuid}}` placeholder needs it while inputs are resolved).
        self.task_id = uuid.uuid4().hex
        self.result: Result | None = None
        self.child: Scope | None = None
        self.loop: Loop | None = None
        self.handle: str | None = None
        self.launch: Launch | None = None
        self.document: dict[str, Any] | None = None
        # The local copies of a remote store's files, for the attempt in flight.
        self.staged: StagedFiles | None = None
        self.not_before = 0.0
        self.inputs_params: dict[str, Any] = {}
        self.inputs_artifacts: dict[str, list[Artifact]] = {}
        # Finished by an earlier driver, its record taken as it is (`RunDriver._restore`).
        self.restored = False
        # What this node runs after (its scope's owner, an upstream node) is run again by
        # this driver, so an earlier record of it may not be taken as it is.
        self.fresh = False

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def dependencies(self) -> list[str]:
        return list(self.spec.get("dependentTasks", []))


class Scope:
    """A DAG being run: the root, a sub-DAG, or one loop iteration."""

    def __init__(
        self,
        *,
        path: str,
        component: dict[str, Any],
        parameters: dict[str, Any],
        artifacts: dict[str, list[Artifact]],
        task: Task | None,
        fresh: bool = False,
    ) -> None:
        self.path = path
        # Its owner runs again in this driver: see `Node.fresh`.
        self.fresh = fresh
        self.component = component
        self.parameters = parameters
        self.artifacts = artifacts
        self.task = task
        self.nodes = {
            name: Node(self, name, spec)
            for name, spec in component.get("dag", {}).get("tasks", {}).items()
        }

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


def dag_outputs(scope: Scope) -> Result:
    spec = scope.component.get("dag", {}).get("outputs", {})
    params: dict[str, Any] = {}
    for key, source in spec.get("parameters", {}).items():
        if "valueFromParameter" in source:
            selectors = [source["valueFromParameter"]]
        else:
            selectors = source.get("valueFromOneof", {}).get("parameterSelectors", [])
        for sel in selectors:
            producer = scope.nodes.get(sel.get("producerSubtask", ""))
            if (
                producer
                and producer.result
                and sel.get("outputParameterKey") in producer.result.parameters
            ):
                params[key] = producer.result.parameters[sel["outputParameterKey"]]
                break
    arts: dict[str, list[Artifact]] = {}
    for key, source in spec.get("artifacts", {}).items():
        for sel in source.get("artifactSelectors", []):
            producer = scope.nodes.get(sel.get("producerSubtask", ""))
            if (
                producer
                and producer.result
                and sel.get("outputArtifactKey") in producer.result.artifacts
            ):
                arts[key] = producer.result.artifacts[sel["outputArtifactKey"]]
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
