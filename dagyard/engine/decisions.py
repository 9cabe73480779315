"""The decision for a ready node: what happens to a task whose upstream has finished.

Belongs here: `decide`, a function of typed data (the node, its scope, the upstream
results, the plan's task) and of a few facts the driver passes in (the time, whether
the run is stopping, whether a slot is free, the cache's answer), and the closed set of
answers it gives: wait, conclude without running (skipped, failed, canceled), reuse a
cached result, open a sub-DAG or a loop, import an artifact, start an attempt. No I/O
but the cache look-up, which is passed in; recording and starting are the driver's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeAlias

from dagyard.engine import caching, cel, loops
from dagyard.engine.commands import RuntimeContext
from dagyard.engine.executor_settings import resolve_metadata
from dagyard.engine.failures import TaskFailure
from dagyard.engine.inputs import resolve_inputs, with_defaults
from dagyard.engine.loops import Loop
from dagyard.engine.scopes import Inputs, Node, Result
from dagyard.engine.termination import NOT_RUN_TERMINATED
from dagyard.ir.pipeline import ContainerComponent, DagComponent, ImporterComponent
from dagyard.ir.sources import Constant, TriggerStrategy
from dagyard.store.records import TaskKind, TaskState

UPSTREAM_FAILED = "not run: an upstream task failed"

CacheLookUp: TypeAlias = Callable[[str, "float | None"], caching.Decision]
"""(fingerprint, maximum staleness in seconds or None) -> the cache's answer."""


@dataclasses.dataclass(frozen=True)
class CachePolicy:
    """The run's caching: whether it may reuse results at all (the run's and the
    driver's settings), the staleness that applies unless a task sets its own, and the
    look-up."""

    enabled: bool
    staleness_seconds: float | None
    look_up: CacheLookUp


@dataclasses.dataclass(frozen=True)
class Facts:
    """What `decide` knows beyond the plan and the node: `now` on the driver's clock,
    whether the run is `stopping` (terminated), whether a container attempt may start
    (`slot_free`), the run-level placeholders, and the cache."""

    now: float
    stopping: bool
    slot_free: bool
    context: RuntimeContext
    cache: CachePolicy


@dataclasses.dataclass(frozen=True)
class Wait:
    """Not now: its retry's backoff runs, or no slot is free."""


@dataclasses.dataclass(frozen=True)
class Conclude:
    """It ends without running: skipped, failed (`result.error` says why) or canceled."""

    result: Result


@dataclasses.dataclass(frozen=True)
class Cached:
    """An earlier task's result is reused (`decision.hit`, with its output artifacts)."""

    inputs: Inputs
    fingerprint: str
    decision: caching.Decision


@dataclasses.dataclass(frozen=True)
class OpenDag:
    """A sub-DAG starts, its scope with these parameters and artifacts."""

    inputs: Inputs
    component: DagComponent
    parameters: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class OpenLoop:
    """A loop starts over `loop.items`."""

    inputs: Inputs
    loop: Loop


@dataclasses.dataclass(frozen=True)
class Import:
    """An importer registers the artifact at `uri` with `metadata` (its pipeline values
    filled in)."""

    inputs: Inputs
    component: ImporterComponent
    uri: str
    metadata: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Start:
    """A container attempt starts with `parameters` (the component's defaults filled),
    recording `fingerprint` and why the cache did not serve it."""

    inputs: Inputs
    component: ContainerComponent
    parameters: dict[str, Any]
    fingerprint: str
    cache_reason: str


Decision: TypeAlias = Wait | Conclude | Cached | OpenDag | OpenLoop | Import | Start
"""The closed set of answers for a ready node."""


def runs_whatever_upstream(node: Node) -> bool:
    """Whether the node runs whatever its upstream's outcome (an exit task), even on a
    terminated run."""
    return node.spec.trigger.strategy == TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED


def decide(node: Node, facts: Facts) -> Decision:
    """What to do with `node`, every upstream node of which has finished."""
    always = runs_whatever_upstream(node)
    if facts.stopping and not always:
        return Conclude(Result(TaskState.CANCELED, error=NOT_RUN_TERMINATED))
    if node.not_before and facts.now < node.not_before:
        return Wait()
    bad = [u.result for u in node.scope.upstream(node) if u.result and not u.result.state.done_ok]
    if bad and not always:
        # Skipped by a condition upstream is passed on as skipped; anything else failed.
        skipped_only = all(r.state == TaskState.SKIPPED and r.error is None for r in bad)
        return Conclude(Result(TaskState.SKIPPED, error=None if skipped_only else UPSTREAM_FAILED))
    if node.kind == TaskKind.CONTAINER and not facts.slot_free:
        return Wait()
    try:
        inputs = resolve_inputs(node, facts.context)
        condition = node.spec.trigger.condition
        if condition and not cel.condition_holds(condition, inputs.parameters):
            return Conclude(Result(TaskState.SKIPPED))
        return _start(node, inputs, facts.cache, facts.context)
    except TaskFailure as e:
        return Conclude(Result(TaskState.FAILED, error=str(e)))


def _start(node: Node, inputs: Inputs, cache: CachePolicy, context: RuntimeContext) -> Decision:
    spec = node.spec
    component = spec.component
    if spec.iterator is not None:
        return OpenLoop(inputs, loops.new_loop(spec.iterator, inputs, path=node.path))
    if isinstance(component, DagComponent):
        return OpenDag(inputs, component, loops.child_parameters(component, inputs.parameters))
    if isinstance(component, ImporterComponent):
        source = component.importer.artifact_uri
        uri = (
            source.value if isinstance(source, Constant) else inputs.parameters.get(source.name, "")
        )
        if not uri:
            raise TaskFailure(f"Importer '{node.path}' has no artifact URI.")
        metadata = resolve_metadata(component.importer.metadata, inputs.parameters, context)
        return Import(inputs, component, str(uri), dict(metadata))
    if not isinstance(component, ContainerComponent):
        raise TaskFailure(
            f"Task '{node.path}' runs a {component.executor.kind} executor, which Dagyard "
            "does not run; only container and importer components run here."
        )
    params = with_defaults(component.inputs, inputs.parameters, task=node.path)
    fingerprint = caching.task_fingerprint(
        component_name=component.name,
        cache_key=spec.caching.cache_key,
        container=component.container.raw,
        parameters=params,
        artifacts=inputs.artifacts,
        output_definitions=component.outputs.raw,
    )
    if not spec.caching.enabled:
        answer = caching.Decision("miss: caching is disabled for this task")
    elif not cache.enabled:
        answer = caching.Decision("miss: caching is disabled for this run")
    else:
        # The most specific setting wins: the task's, then the run's, then the global.
        staleness = caching.task_staleness(component.container)
        if staleness is None:
            staleness = cache.staleness_seconds
        answer = cache.look_up(fingerprint, staleness)
    if answer.hit is not None:
        return Cached(inputs, fingerprint, answer)
    return Start(inputs, component, params, fingerprint, answer.reason)
