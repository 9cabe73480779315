"""The run driver: walks a PipelineSpec's DAGs, starts what is ready, and records every
state change in the metadata store.

A run is a tree of scopes (the root DAG, sub-DAGs, loop iterations), each with nodes (the
DAG's tasks). The driver loops: advance every scope (decide skipped, cached, started),
then wait for an executor to report a finished attempt. All of a run's state is in the
store, keyed by each node's stable path, so a driver started on a run that another
process left half-done picks up where it stopped: finished nodes are read back, never
run again. Records are written in batches (`journal.py`): one transaction for each pass
of the loop, and the attempts the pass decided are submitted only after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagyard.engine import attempts, caching, cel, python_functions
from dagyard.engine.commands import RuntimeContext, resolve_argv, resolve_constant
from dagyard.engine.journal import Journal
from dagyard.engine.scopes import Loop, Node, Result, Scope, all_nodes, dag_outputs, iteration_index
from dagyard.engine.values import from_ir
from dagyard.errors import LeaseLost, RunError, StoreError
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.store.artifacts import ArtifactStore
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import (
    Artifact,
    Event,
    EventKind,
    Run,
    RunState,
    Task,
    TaskKind,
    TaskState,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]
ALL_COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"
# How often a task's attempt may be lost with its node (`Outcome.lost`) and run again
# before the task fails: system retries, apart from the pipeline's retryPolicy.
MAX_SYSTEM_RETRIES = 3
UPSTREAM_FAILED = "not run: an upstream task failed"
NOT_RUN_TERMINATED = "not run: the run was terminated"
STOPPED_TERMINATED = "stopped: the run was terminated"


@dataclasses.dataclass
class Settings:
    """How the driver runs: where attempts work, how many run at once, caching."""

    work_root: Path
    max_parallel: int
    cache_enabled: bool = True
    max_cache_staleness_seconds: float | None = None
    poll_seconds: float = 0.5
    # How long a terminated run's exit tasks may take (and its stopped attempts to end)
    # before whatever still runs is killed and the run ends CANCELED all the same.
    cancel_seconds: float = 300.0


class RunDriver:
    """Drives one run to a terminal state. Not thread-safe; one driver per run."""

    def __init__(
        self,
        *,
        run: Run,
        store: MetadataStore,
        artifacts: ArtifactStore,
        executor: Executor,
        settings: Settings,
        clock: Clock = time.monotonic,
        stop: Callable[[], bool] | None = None,
        lease_owner: str | None = None,
    ) -> None:
        self.run = run
        # Asked between steps: True means this process may no longer drive the run (its
        # lease was lost), so the driver abandons it without recording anything more.
        self.stop = stop or (lambda: False)
        # The lease owner this driver writes as: every write to the run and its tasks is
        # fenced by it in the database, so a driver that missed the loss of its lease
        # (paused longer than the lease, say) is refused (LeaseLost) and abandons the run.
        self.fence = lease_owner
        self.store = store
        self.artifacts = artifacts
        self.executor = executor
        self.settings = settings
        self.clock = clock
        self.spec = run.pipeline_spec
        self.components = self.spec.get("components", {})
        self.executors = self.spec.get("deploymentSpec", {}).get("executors", {})
        self.existing = {t.path: t for t in store.list_tasks(run.run_id)}
        # Task writes wait here until the driver is about to wait, read or end.
        self.journal = Journal(store, fence=lease_owner)
        self.running: dict[str, Node] = {}
        # Attempts decided in this pass of the loop, submitted once their records are
        # written (their handle is QUEUED until then).
        self.queued: list[Node] = []
        # Running handles the executor holds back for capacity, with the reason shown
        # on their task (PENDING) until they start (`_note_waiting`).
        self.waiting: dict[str, str] = {}
        # When the executor last said which of them it holds.
        self.waiting_checked = _now()
        self.cancel_requested = False
        # Handles of the attempts stopped because the run was terminated.
        self.stopping: set[str] = set()
        self.cancel_deadline = float("inf")
        self.failed = False
        # How many attempts may be submitted at once: `max_parallel`, or twice that
        # when the executor holds each run to `max_parallel` itself (`Launch.slots`).
        # The extra ones wait there and start as soon as a slot frees, while this
        # loop is still recording the attempt that ended.
        ahead = settings.max_parallel if executor.holds_slots else 0
        self._submit_limit = settings.max_parallel + ahead
        created = run.created_at or datetime.now(UTC)
        self.create_time = created.isoformat()
        self.schedule_time = (run.scheduled_at or created).isoformat()

    # -- the loop ----------------------------------------------------------------------
    def drive(self) -> Run:
        """Run until every node is finished; return the final run record (as last seen,
        unfinished, if the driver had to abandon the run)."""
        root = Scope(
            path="",
            component=self.spec["root"],
            parameters=dict(self.run.runtime_config.get("parameters", {})),
            artifacts={},
            task=None,
        )
        next_check = self.clock() + self.settings.poll_seconds
        try:
            self.run = self._update_run(state=RunState.RUNNING)
            while True:
                if self.stop():
                    return self._abandon()
                self._advance(root)
                if root.done:
                    break
                if self.cancel_requested:
                    if self.clock() >= self.cancel_deadline:
                        self.cancel()
                        return self.run
                elif self.clock() >= next_check:
                    # Someone else (the API's terminate) may have asked this run to stop.
                    next_check = self.clock() + self.settings.poll_seconds
                    if self.store.get_run(self.run.run_id).state == RunState.CANCELING:
                        self._begin_cancel()
                        continue
                # What this pass decided becomes durable (and visible) in one write, and
                # only then do its attempts start: no task runs without its record.
                self.journal.flush()
                self._submit_queued()
                if not self.running:
                    delay = self._next_retry_delay(root)
                    if delay is None:
                        raise RunError("The run cannot progress: no task is ready or running.")
                    self._sleep(min(delay, self.settings.poll_seconds))
                    continue
                outcomes = self.executor.wait(list(self.running), self._wait_timeout(root))
                if self.stop():
                    return self._abandon()
                for handle, outcome in outcomes.items():
                    node = self.running.pop(handle)
                    if self.waiting.pop(handle, None) is not None:
                        # Held when last asked, it has started and ended since.
                        self._update(node, started_at=self.waiting_checked)
                    stopped = handle in self.stopping
                    self.stopping.discard(handle)
                    self._finish_attempt(node, outcome, stopped=stopped)
                self._note_waiting()
            return self._finish_run(root)
        except LeaseLost as e:
            log.warning("Abandoning run %s: %s", self.run.run_id, e)
            return self._abandon()
        except KeyboardInterrupt:
            self.cancel()
            raise
        except Exception:
            # What was recorded before the failure still holds: keep it if the store can.
            with contextlib.suppress(StoreError):
                self.journal.flush()
            raise

    def _update_run(self, **changes: Any) -> Run:
        return self.store.update_run(self.run.run_id, fence=self.fence, **changes)

    def _submit_queued(self) -> None:
        for node in self.queued:
            assert node.launch is not None
            node.handle = self.executor.submit(node.launch)
            self.running[node.handle] = node
        self.queued.clear()

    def _note_waiting(self) -> None:
        """Show a submitted attempt that the executor has not started for lack of
        capacity as PENDING with the reason (in `error`, as for a retry's back-off), and
        as RUNNING again once it starts. Written only when that changes."""
        for handle in [h for h in self.waiting if h not in self.running]:
            del self.waiting[handle]  # cancelled meanwhile
        self.waiting_checked = _now()
        reported = self.executor.waiting(list(self.running)) if self.running else {}
        for handle, node in self.running.items():
            reason = reported.get(handle)
            if reason == self.waiting.get(handle):
                continue
            if reason is None:
                del self.waiting[handle]
                self._update(node, state=TaskState.RUNNING, error=None, started_at=_now())
            else:
                self.waiting[handle] = reason
                self._update(node, state=TaskState.PENDING, error=reason, started_at=None)

    def _begin_cancel(self) -> None:
        """The run was asked to stop (terminate). Its running attempts are stopped (the
        executor's grace period, then a kill) and end CANCELED; from now on no task
        starts but those that run whatever their upstream's outcome (exit tasks, which
        read CANCELLED as the final status of their group); every other task not started
        ends CANCELED, and with them every group, loop and iteration. The loop goes on
        until that is done, for at most `Settings.cancel_seconds`, then `cancel` kills
        what is left."""
        self.cancel_requested = True
        self.cancel_deadline = self.clock() + self.settings.cancel_seconds
        self._update_run(state=RunState.CANCELING)
        for node in self.queued:  # decided in this pass, never submitted
            node.handle = None
            self._conclude(
                node, Result(TaskState.CANCELED, error=NOT_RUN_TERMINATED), TaskKind.CONTAINER
            )
        self.queued.clear()
        for handle, node in self.running.items():
            self.executor.cancel(handle)
            self.stopping.add(handle)
            self._update(node, state=TaskState.CANCELING)

    def cancel(self) -> None:
        """Stop now: kill the running attempts, run nothing more (exit tasks included)
        and mark the run and every unfinished task of it CANCELED. For an interrupted
        `dagyard run`, and for a terminated run whose exit tasks overran."""
        self.cancel_requested = True
        self.journal.flush()
        self._update_run(state=RunState.CANCELING)
        for handle, node in list(self.running.items()):
            self.executor.cancel(handle)
            if node.task is not None:
                self._update(node, state=TaskState.CANCELED, finished_at=_now())
        for node in self.queued:  # never started
            node.handle = None
            self._update(node, state=TaskState.CANCELED, finished_at=_now())
        self.queued.clear()
        self.journal.flush()
        # Collect the cancelled attempts, so the executor (shared by a server's runs)
        # forgets them; bounded, in case a process ignores its signals for long.
        pending = list(self.running)
        deadline = self.clock() + 30
        while pending and self.clock() < deadline:
            done = self.executor.wait(pending, 1.0)
            pending = [h for h in pending if h not in done]
        self.running.clear()
        self._close_records()
        self.run = self._update_run(state=RunState.CANCELED)

    def _close_records(self) -> None:
        """Mark CANCELED every task record of the run still unfinished: groups, loops and
        iterations that will not end otherwise, and tasks left PENDING (an earlier
        driver's, or waiting for a retry)."""
        self.journal.flush()
        now = _now()
        for task in self.store.list_tasks(self.run.run_id):
            if not task.state.terminal:
                self.journal.update(task, state=TaskState.CANCELED, finished_at=now)
        self.journal.flush()

    def _abandon(self) -> Run:
        """Stop driving without writing to the store: kill the running attempts and
        return the run as last seen. Their tasks stay RUNNING in the store; whoever
        drives the run next restores them as unfinished and runs them again (as after
        a crash), and never re-runs a task recorded as finished."""
        self.journal.discard()
        self.queued.clear()
        for handle in self.running:
            self.executor.cancel(handle)
        pending = list(self.running)
        deadline = self.clock() + 30
        while pending and self.clock() < deadline:
            done = self.executor.wait(pending, 1.0)
            pending = [h for h in pending if h not in done]
        self.running.clear()
        return self.run

    def _finish_run(self, root: Scope) -> Run:
        self.journal.flush()
        outputs = dag_outputs(root)
        state = RunState.FAILED if self.failed else RunState.SUCCEEDED
        error = None
        if self.cancel_requested:
            self._close_records()
            state = RunState.CANCELED
        elif self.failed:
            failed = [
                t for t in self.store.list_tasks(self.run.run_id) if t.state == TaskState.FAILED
            ]
            error = "; ".join(f"{t.path}: {t.error}" for t in failed if t.error) or "a task failed"
        recorded: dict[str, Any] = dict(outputs.parameters)
        for name, items in outputs.artifacts.items():
            recorded[name] = [a.uri for a in items] if len(items) != 1 else items[0].uri
        self.run = self._update_run(state=state, error=error, outputs=recorded)
        return self.run

    def _wait_timeout(self, root: Scope) -> float:
        delay = self._next_retry_delay(root)
        return (
            self.settings.poll_seconds if delay is None else min(delay, self.settings.poll_seconds)
        )

    def _next_retry_delay(self, scope: Scope) -> float | None:
        delays = []
        for node in all_nodes(scope):
            if not node.done and node.not_before and node.handle is None:
                delays.append(max(0.0, node.not_before - self.clock()))
        return min(delays) if delays else None

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- advancing a scope -------------------------------------------------------------
    def _advance(self, scope: Scope) -> None:
        progressed = True
        while progressed:
            progressed = False
            for node in scope.nodes.values():
                if node.done:
                    continue
                if node.child is not None:
                    self._advance(node.child)
                    if node.child.done:
                        self._finish_dag(node)
                        progressed = True
                    continue
                if node.loop is not None:
                    if self._advance_loop(node):
                        progressed = True
                    continue
                if node.handle is not None:
                    continue
                if self._try_start(node):
                    progressed = True

    def _try_start(self, node: Node) -> bool:
        """Decide a node whose upstream is finished. True if it changed."""
        scope = node.scope
        upstream = [scope.nodes[d] for d in node.dependencies if d in scope.nodes]
        if not all(u.done for u in upstream):
            return False
        existing = self.existing.get(node.path)
        if node.task is None:
            # Inputs may differ from what an earlier record of this node was run with: its
            # scope's owner or an upstream node is run again by this driver.
            node.fresh = node.scope.fresh or not all(u.restored for u in upstream)
            if existing is not None and self._restore(node, existing):
                return True
        strategy = node.spec.get("triggerPolicy", {}).get("strategy")
        if self.cancel_requested and strategy != ALL_COMPLETED:
            self._conclude(node, Result(TaskState.CANCELED, error=NOT_RUN_TERMINATED))
            return True
        if node.not_before and self.clock() < node.not_before:
            return False
        bad = [u for u in upstream if u.result and not u.result.state.done_ok]
        if bad and strategy != ALL_COMPLETED:
            skipped_only = all(
                u.result and u.result.state == TaskState.SKIPPED and u.result.error is None
                for u in bad
            )
            self._conclude(
                node, Result(TaskState.SKIPPED, error=None if skipped_only else UPSTREAM_FAILED)
            )
            return True
        kind = self._safe_kind(node)
        busy = len(self.running) + len(self.queued)
        if kind == TaskKind.CONTAINER and busy >= self._submit_limit:
            return False
        try:
            if existing is not None:
                node.task_id = existing.task_id
            self._resolve_inputs(node)
            condition = node.spec.get("triggerPolicy", {}).get("condition")
            if condition and not cel.condition_holds(condition, node.inputs_params):
                self._conclude(node, Result(TaskState.SKIPPED), kind=kind)
                return True
            self._start(node, kind)
        except RunError as e:
            self._conclude(node, Result(TaskState.FAILED, error=str(e)), kind=kind)
        return True

    def _restore(self, node: Node, task: Task) -> bool:
        """Pick up a node's earlier record after a restart or a retry. True if it is
        finished and stays so. A finished node runs again when what it ran after runs
        again (`Node.fresh`): an exit task, when its group is retried, gets the group's
        new final status."""
        node.task = task
        if not task.state.terminal:
            return False
        if node.fresh:
            self._update(node, state=TaskState.PENDING, error=None, finished_at=None)
            return False
        node.restored = True
        if task.state in (TaskState.FAILED, TaskState.CANCELED):
            self.failed = self.failed or task.state == TaskState.FAILED
        node.result = Result(
            task.state, dict(task.outputs), self._output_artifacts(task), task.error
        )
        return True

    def _output_artifacts(self, task: Task) -> dict[str, list[Artifact]]:
        found: dict[str, list[tuple[int, Artifact]]] = {}
        for event in self.store.list_events(task_id=task.task_id):
            if event.kind == EventKind.OUTPUT:
                artifact = self.store.get_artifact(event.artifact_id)
                found.setdefault(event.key, []).append((event.index, artifact))
        return {k: [a for _, a in sorted(v, key=lambda p: p[0])] for k, v in found.items()}

    def _kind(self, node: Node) -> TaskKind:
        if "parameterIterator" in node.spec or "artifactIterator" in node.spec:
            return TaskKind.LOOP
        component = self._component(node)
        if "dag" in component:
            return TaskKind.DAG
        executor = self.executors.get(component.get("executorLabel", ""), {})
        return TaskKind.IMPORTER if "importer" in executor else TaskKind.CONTAINER

    def _component(self, node: Node) -> dict[str, Any]:
        name = node.spec.get("componentRef", {}).get("name", "")
        if name not in self.components:
            raise RunError(f"Task '{node.path}' refers to unknown component '{name}'.")
        return dict(self.components[name])

    # -- inputs --------------------------------------------------------------------------
    def _resolve_inputs(self, node: Node) -> None:
        scope = node.scope
        inputs = node.spec.get("inputs", {})
        params: dict[str, Any] = {}
        constants: dict[str, str] = {}
        for name, source in inputs.get("parameters", {}).items():
            found, value = self._parameter(node, source)
            if not found:
                continue
            if "parameterExpressionSelector" in source:
                value = cel.select(source["parameterExpressionSelector"], value)
            if "runtimeValue" in source and isinstance(value, str):
                constants[name] = value
            params[name] = value
        context = self._context(node)
        for name, value in constants.items():
            params[name] = resolve_constant(value, params, context)
        arts: dict[str, list[Artifact]] = {}
        for name, source in inputs.get("artifacts", {}).items():
            if "componentInputArtifact" in source:
                key = source["componentInputArtifact"]
                if key in scope.artifacts:
                    arts[name] = scope.artifacts[key]
            elif "taskOutputArtifact" in source:
                ref = source["taskOutputArtifact"]
                producer = scope.nodes.get(ref.get("producerTask", ""))
                if (
                    producer
                    and producer.result
                    and ref.get("outputArtifactKey") in producer.result.artifacts
                ):
                    arts[name] = producer.result.artifacts[ref["outputArtifactKey"]]
        node.inputs_params = params
        node.inputs_artifacts = arts

    def _parameter(self, node: Node, source: dict[str, Any]) -> tuple[bool, Any]:
        scope = node.scope
        if "componentInputParameter" in source:
            key = source["componentInputParameter"]
            return (key in scope.parameters, scope.parameters.get(key))
        if "taskOutputParameter" in source:
            ref = source["taskOutputParameter"]
            producer = scope.nodes.get(ref.get("producerTask", ""))
            key = ref.get("outputParameterKey", "")
            if producer and producer.result and key in producer.result.parameters:
                return True, producer.result.parameters[key]
            return False, None
        if "runtimeValue" in source:
            return True, source["runtimeValue"].get("constant")
        if "taskFinalStatus" in source:
            producer = scope.nodes.get(source["taskFinalStatus"].get("producerTask", ""))
            state = producer.result.state if producer and producer.result else TaskState.FAILED
            error = producer.result.error if producer and producer.result else None
            return True, {
                "state": {"SUCCEEDED": "SUCCEEDED", "CANCELED": "CANCELLED"}.get(state, "FAILED"),
                "pipelineJobResourceName": self.run.display_name,
                "pipelineTaskName": producer.name if producer else "",
                "error": {"code": 0 if state == TaskState.SUCCEEDED else 1, "message": error or ""},
            }
        return False, None

    def _context(self, node: Node) -> RuntimeContext:
        return RuntimeContext(
            job_name=self.run.display_name,
            job_id=self.run.run_id,
            task_name=node.name,
            task_id=node.task_id,
            pipeline_root=self.run.runtime_config.get("pipeline_root") or self.artifacts.root_uri,
            create_time=self.create_time,
            schedule_time=self.schedule_time,
        )

    # -- starting ------------------------------------------------------------------------
    def _record(self, node: Node, kind: TaskKind, **fields: Any) -> Task:
        """Write the node's task record with `fields`: created with them in one write when
        it is new, updated when a record exists (this run, or an earlier driver's)."""
        if node.task is None:
            node.task = self.existing.get(node.path)
        if node.task is None:
            parent = node.scope.task
            node.task = self.journal.create(
                Task(
                    task_id=node.task_id,
                    run_id=self.run.run_id,
                    path=node.path,
                    name=node.name,
                    kind=kind,
                    display_name=node.spec.get("taskInfo", {}).get("name", node.name),
                    parent_task_id=parent.task_id if parent else None,
                    iteration_index=iteration_index(node.scope),
                    created_at=_now(),
                    **fields,
                )
            )
            return node.task
        if fields:
            node.task = self.journal.update(node.task, **fields)
        return node.task

    def _update(self, target: Node, /, **fields: Any) -> None:
        assert target.task is not None
        target.task = self.journal.update(target.task, **fields)

    def _conclude(self, node: Node, result: Result, kind: TaskKind | None = None) -> None:
        """Record a node's end and publish its result to downstream nodes."""
        self._record(
            node,
            kind or self._safe_kind(node),
            state=result.state,
            outputs=result.parameters,
            error=result.error,
            finished_at=_now(),
        )
        if result.state == TaskState.FAILED:
            self.failed = True
        node.result = result

    def _finish(
        self,
        target: Node,
        result: Result,
        *,
        artifacts: list[Artifact] | None = None,
        events: list[Event] | None = None,
        **fields: Any,
    ) -> None:
        """Record a task's end with its new artifacts and its lineage, in one write."""
        assert target.task is not None
        target.task = self.journal.finish(
            target.task,
            artifacts=artifacts or [],
            events=events or [],
            state=result.state,
            outputs=result.parameters,
            error=result.error,
            finished_at=_now(),
            **fields,
        )
        target.result = result

    def _safe_kind(self, node: Node) -> TaskKind:
        try:
            return self._kind(node)
        except RunError:
            return TaskKind.CONTAINER

    def _start(self, node: Node, kind: TaskKind) -> None:
        if kind == TaskKind.LOOP:
            self._start_loop(node)
        elif kind == TaskKind.DAG:
            self._record(
                node,
                kind,
                state=TaskState.RUNNING,
                started_at=_now(),
                inputs=self._inputs_record(node),
            )
            node.child = self._child_scope(node, node.path, self._component(node))
        elif kind == TaskKind.IMPORTER:
            self._run_importer(node)
        else:
            self._start_container(node)

    def _inputs_record(self, node: Node) -> dict[str, Any]:
        return {
            "parameters": node.inputs_params,
            "artifacts": {k: [a.artifact_id for a in v] for k, v in node.inputs_artifacts.items()},
        }

    def _child_scope(
        self,
        node: Node,
        path: str,
        component: dict[str, Any],
        extra: dict[str, Any] | None = None,
        extra_artifacts: dict[str, list[Artifact]] | None = None,
    ) -> Scope:
        params = dict(node.inputs_params)
        for name, definition in component.get("inputDefinitions", {}).get("parameters", {}).items():
            if name not in params and "defaultValue" in definition:
                params[name] = from_ir(definition["defaultValue"], definition.get("parameterType"))
        params.update(extra or {})
        arts = dict(node.inputs_artifacts)
        arts.update(extra_artifacts or {})
        return Scope(
            path=path,
            component=component,
            parameters=params,
            artifacts=arts,
            task=node.task,
            fresh=node.fresh,
        )

    def _run_importer(self, node: Node) -> None:
        component = self._component(node)
        importer = self.executors[component["executorLabel"]]["importer"]
        source = importer.get("artifactUri", {})
        uri = source.get("constant") or node.inputs_params.get(
            source.get("runtimeParameter", ""), ""
        )
        if not uri:
            raise RunError(f"Importer '{node.path}' has no artifact URI.")
        task = self._record(node, TaskKind.IMPORTER)
        type_ = importer.get("typeSchema", {})
        local = self.artifacts.is_within(uri) or Path(uri).exists()
        artifact = Artifact(
            artifact_id=uuid.uuid4().hex,
            run_id=self.run.run_id,
            name="artifact",
            uri=uri,
            schema_title=type_.get("schemaTitle", "system.Artifact"),
            schema_version=type_.get("schemaVersion", "0.0.1"),
            metadata=dict(importer.get("metadata", {})),
            # The digest makes a changed file under the same URI a cache miss downstream.
            digest=self.artifacts.digest(uri) if local else None,
            producer_task_id=task.task_id,
            output_key="artifact",
        )
        self._finish(
            node,
            Result(TaskState.SUCCEEDED, {}, {"artifact": [artifact]}),
            artifacts=[artifact],
            events=[Event(task.task_id, artifact.artifact_id, EventKind.OUTPUT, "artifact")],
            inputs=self._inputs_record(node),
            started_at=_now(),
        )

    def _start_container(self, node: Node) -> None:
        component = self._component(node)
        container = self.executors.get(component.get("executorLabel", ""), {}).get("container")
        if container is None:
            raise RunError(f"Task '{node.path}' has no container executor.")
        params = self._with_defaults(component, node.inputs_params)
        cache_fields = self._try_cache(node, component, container, params)
        if cache_fields is None:
            return
        prior = node.task or self.existing.get(node.path)
        attempt = (prior.attempts if prior else 0) + 1
        # Made by executor_input below, with its outputs folder.
        workdir = self.settings.work_root / self.run.run_id / node.path / f"attempt-{attempt}"
        uris = {
            name: self.artifacts.uri_for(self.run.run_id, node.path, name)
            for name in component.get("outputDefinitions", {}).get("artifacts", {})
        }
        log_uri = self.artifacts.log_uri(self.run.run_id, node.path, attempt)
        # On an object-store root the task works on local copies, made on its host; on a
        # local root, on the store's own files, with nothing to copy.
        staged = attempts.staged_files(
            self.artifacts,
            run_id=self.run.run_id,
            task_path=node.path,
            attempt=attempt,
            workdir=workdir,
            inputs=node.inputs_artifacts,
            output_uris=uris,
            output_parameters=list(component.get("outputDefinitions", {}).get("parameters", {})),
            log_uri=log_uri,
        )
        inputs, output_uris, task_root = staged.inputs, staged.output_uris, staged.task_root
        document = attempts.executor_input(
            component=component,
            parameters=params,
            artifacts=inputs,
            output_uris=output_uris,
            workdir=workdir,
            task_root=task_root,
        )
        context = self._context(node)
        if staged.names:
            context = dataclasses.replace(context, stored_uri=staged.to_store)
        argv = resolve_argv(
            list(container.get("command", [])) + list(container.get("args", [])),
            document,
            context,
        )
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        # Written before the attempt is submitted, with the rest of this pass's records.
        self._record(
            node,
            TaskKind.CONTAINER,
            state=TaskState.RUNNING,
            attempts=attempt,
            # When this attempt starts: earlier attempts, a retry's back-off and (once the
            # executor reports it) a wait for capacity are not part of a task's duration.
            started_at=_now(),
            log_uri=log_uri,
            error=None,
            inputs=self._inputs_record(node),
            **cache_fields,
        )
        launch = Launch(
            task_id=node.task_id,
            run_id=self.run.run_id,
            attempt=attempt,
            command=python_functions.task_command(argv),
            image=container.get("image", ""),
            env=env,
            workdir=workdir,
            log_path=staged.log_path,
            resources=dict(container.get("resources", {})),
            mounts=self._mounts(),
            staging=staged.staging,
            slots=self.settings.max_parallel if self.executor.holds_slots else None,
        )
        node.document = document
        node.launch = launch
        node.staged = staged
        node.handle = QUEUED
        self.queued.append(node)

    def _mounts(self) -> tuple[Path, ...]:
        """Host folders a task's paths point into, for executors that use containers."""
        folders = [self.settings.work_root]
        if (
            self.artifacts.is_within(self.artifacts.root_uri)
            and "://" not in self.artifacts.root_uri
        ):
            folders.append(Path(self.artifacts.root_uri))
        return tuple(folders)

    def _with_defaults(self, component: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        params = dict(given)
        for name, definition in component.get("inputDefinitions", {}).get("parameters", {}).items():
            ptype = definition.get("parameterType")
            if name in params:
                params[name] = from_ir(params[name], ptype)
            elif "defaultValue" in definition:
                params[name] = from_ir(definition["defaultValue"], ptype)
            elif not definition.get("isOptional"):
                raise RunError(
                    f"Task '{component.get('executorLabel')}' is missing required input '{name}'."
                )
        return params

    # -- caching -------------------------------------------------------------------------
    def _try_cache(
        self,
        node: Node,
        component: dict[str, Any],
        container: dict[str, Any],
        params: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Reuse an earlier result if the cache allows. None if the node was served from
        the cache; otherwise the cache fields to record when the attempt starts."""
        options = node.spec.get("cachingOptions", {})
        fingerprint = caching.task_fingerprint(
            component_name=node.spec.get("componentRef", {}).get("name", ""),
            cache_key=options.get("cacheKey"),
            container=container,
            parameters=params,
            artifacts=node.inputs_artifacts,
            output_definitions=component.get("outputDefinitions", {}),
        )
        if not options.get("enableCache"):
            decision = caching.Decision("miss: caching is disabled for this task")
        elif not (self.run.cache_enabled and self.settings.cache_enabled):
            decision = caching.Decision("miss: caching is disabled for this run")
        else:
            # The most specific setting wins: the task's, then the run's, then the global.
            staleness = caching.task_staleness(container)
            if staleness is None:
                staleness = self.run.max_cache_staleness_seconds
            if staleness is None:
                staleness = self.settings.max_cache_staleness_seconds
            if self.journal.holds_success(fingerprint):  # this run made it: let it be seen
                self.journal.flush()
            decision = caching.look_up(
                self.store,
                self.artifacts,
                fingerprint=fingerprint,
                staleness_seconds=staleness,
                output_artifacts=self._output_artifacts,
            )
        hit = decision.hit
        if hit is None:
            return {"fingerprint": fingerprint, "cache_reason": decision.reason}
        result = Result(TaskState.CACHED, dict(hit.outputs), decision.outputs)
        self._record(node, TaskKind.CONTAINER)
        self._finish(
            node,
            result,
            events=self._output_events(node, decision.outputs) + self._input_events(node),
            fingerprint=fingerprint,
            cache_hit=True,
            cached_from_task_id=hit.task_id,
            cache_reason=decision.reason,
            inputs=self._inputs_record(node),
            started_at=_now(),
        )
        return None

    def _output_events(self, node: Node, outputs: dict[str, list[Artifact]]) -> list[Event]:
        return [
            Event(node.task_id, a.artifact_id, EventKind.OUTPUT, key, i)
            for key, items in outputs.items()
            for i, a in enumerate(items)
        ]

    def _input_events(self, node: Node) -> list[Event]:
        return [
            Event(node.task_id, a.artifact_id, EventKind.INPUT, key, i)
            for key, items in node.inputs_artifacts.items()
            for i, a in enumerate(items)
        ]

    # -- finishing -----------------------------------------------------------------------
    def _finish_attempt(self, node: Node, outcome: Outcome, *, stopped: bool = False) -> None:
        """Record how an attempt ended. `stopped`: the run's terminate stopped it (one
        that succeeded all the same counts as succeeded)."""
        node.handle = None
        assert node.task is not None and node.document is not None
        if stopped and not outcome.ok:
            self._conclude(
                node, Result(TaskState.CANCELED, error=STOPPED_TERMINATED), TaskKind.CONTAINER
            )
            return
        if outcome.ok:
            try:
                if node.staged is not None:
                    attempts.fetch_results(self.artifacts, node.staged)
                params, arts = attempts.collect_outputs(
                    component=self._component(node),
                    document=node.document,
                    store=self.artifacts,
                    run_id=self.run.run_id,
                    task_id=node.task.task_id,
                    staged=node.staged,
                )
            except RunError as e:
                self._attempt_failed(node, str(e))
                return
            self._finish(
                node,
                Result(TaskState.SUCCEEDED, params, arts),
                artifacts=[a for items in arts.values() for a in items],
                events=self._output_events(node, arts) + self._input_events(node),
                node=outcome.node,
            )
            return
        message = outcome.error or f"exited with code {outcome.exit_code}"
        if outcome.node and outcome.node != node.task.node:
            # Where the failed (or lost) attempt ran: the place to look when it fails.
            self._update(node, node=outcome.node)
        if outcome.lost:
            self._attempt_lost(node, message)
            return
        self._attempt_failed(node, message + self._log_tail(node))

    def _log_tail(self, node: Node) -> str:
        if node.launch is None:
            return ""
        if node.launch.log_path.exists():
            text = node.launch.log_path.read_text(errors="replace")
        else:  # the attempt ran on another node: its log is in the store
            try:
                log_uri = node.task.log_uri if node.task is not None else None
                text = self.artifacts.read_text(log_uri) if log_uri else ""
            except StoreError:
                return ""
        lines = text.strip().splitlines()[-5:]
        return ("\n" + "\n".join(lines)) if lines else ""

    def _attempt_lost(self, node: Node, message: str) -> None:
        """The attempt's node or worker died under it: run it again at once (the
        executor places it on a node still alive), up to MAX_SYSTEM_RETRIES times, without
        touching the task's retry budget."""
        assert node.task is not None
        lost = node.task.system_retries + 1
        if lost > MAX_SYSTEM_RETRIES:
            self._conclude(
                node,
                Result(
                    TaskState.FAILED,
                    error=f"The node running this task was lost {lost} times (at most "
                    f"{MAX_SYSTEM_RETRIES} system retries); last: {message}",
                ),
                TaskKind.CONTAINER,
            )
            return
        node.not_before = 0.0
        self._update(
            node, state=TaskState.PENDING, system_retries=lost, error=message, started_at=None
        )

    def _attempt_failed(self, node: Node, message: str) -> None:
        assert node.task is not None
        policy = node.spec.get("retryPolicy", {})
        # Attempts lost with their node were system retries, not the policy's.
        failures = node.task.attempts - node.task.system_retries
        retries_left = int(policy.get("maxRetryCount", 0)) - (failures - 1)
        if retries_left > 0:
            base = _seconds(policy.get("backoffDuration", "0s"))
            factor = float(policy.get("backoffFactor", 2.0))
            ceiling = _seconds(policy.get("backoffMaxDuration", "3600s"))
            delay = min(base * factor ** (failures - 1), ceiling)
            node.not_before = self.clock() + delay
            # Not running while it waits: its next attempt sets `started_at` anew.
            self._update(node, state=TaskState.PENDING, error=message, started_at=None)
            return
        self._conclude(node, Result(TaskState.FAILED, error=message), TaskKind.CONTAINER)

    def _finish_dag(self, node: Node) -> None:
        assert node.child is not None
        child = node.child
        state = child.state()
        outputs = dag_outputs(child)
        result = Result(
            state,
            outputs.parameters,
            outputs.artifacts,
            _GROUP_ERRORS.get(state),
        )
        # Output artifacts are linked to the DAG's own task, so that a driver restarted
        # later restores them with it (`_restore`) instead of handing downstream nothing.
        self._finish(node, result, events=self._output_events(node, outputs.artifacts))

    # -- loops ---------------------------------------------------------------------------
    def _start_loop(self, node: Node) -> None:
        spec = node.spec
        if "parameterIterator" in spec:
            iterator = spec["parameterIterator"]
            items_spec = iterator.get("items", {})
            if "raw" in items_spec:
                items = json.loads(items_spec["raw"])
            else:
                items = node.inputs_params.get(items_spec.get("inputParameter", ""))
            is_artifact = False
        else:
            iterator = spec["artifactIterator"]
            items = node.inputs_artifacts.get(
                iterator.get("items", {}).get("inputArtifact", ""), []
            )
            is_artifact = True
        if isinstance(items, str):
            items = json.loads(items)
        if not isinstance(items, list):
            raise RunError(f"Loop '{node.path}' needs a list to iterate over; got {items!r}.")
        limit = int(spec.get("iteratorPolicy", {}).get("parallelismLimit", 0) or 0)
        self._record(
            node,
            TaskKind.LOOP,
            state=TaskState.RUNNING,
            started_at=_now(),
            inputs=self._inputs_record(node),
        )
        node.loop = Loop(
            items=items,
            item_input=iterator.get("itemInput", ""),
            is_artifact=is_artifact,
            limit=limit,
        )

    def _advance_loop(self, node: Node) -> bool:
        loop = node.loop
        assert loop is not None
        changed = False
        for index, scope in list(loop.iterations.items()):
            self._advance(scope)
            if scope.done:
                loop.finished[index] = self._finish_iteration(scope)
                del loop.iterations[index]
                changed = True
        next_index = len(loop.finished) + len(loop.iterations)
        # Beyond a few iterations per worker, more open iterations only cost scanning
        # time: every one needs at least one task slot to make progress.
        cap = 4 * self.settings.max_parallel
        if loop.limit:
            cap = min(cap, loop.limit)
        while (
            not self.cancel_requested
            and next_index < len(loop.items)
            and len(loop.iterations) < cap
        ):
            self._start_iteration(node, next_index)
            next_index += 1
            changed = True
        # A terminated run's loop ends with its open iterations; the others never start.
        if not loop.iterations and (len(loop.finished) == len(loop.items) or self.cancel_requested):
            self._finish_loop(node)
            changed = True
        return changed

    def _start_iteration(self, node: Node, index: int) -> None:
        loop = node.loop
        assert loop is not None and node.task is not None
        path = f"{node.path}/{index}"
        task = self.existing.get(path) or self.journal.create(
            Task(
                task_id=uuid.uuid4().hex,
                run_id=self.run.run_id,
                path=path,
                name=f"{node.name}-{index}",
                kind=TaskKind.DAG,
                display_name=f"{node.spec.get('taskInfo', {}).get('name', node.name)} #{index}",
                parent_task_id=node.task.task_id,
                iteration_index=index,
                state=TaskState.RUNNING,
                created_at=_now(),
                started_at=_now(),
            )
        )
        if node.fresh and task.state.terminal:  # run again: see `_restore`
            task = self.journal.update(
                task, state=TaskState.RUNNING, started_at=_now(), finished_at=None
            )
        item = loop.items[index]
        scope = self._child_scope(
            node,
            path,
            self._component(node),
            extra=None if loop.is_artifact else {loop.item_input: item},
            extra_artifacts={loop.item_input: [item]} if loop.is_artifact else None,
        )
        scope.task = task
        loop.iterations[index] = scope

    def _finish_iteration(self, scope: Scope) -> Result:
        assert scope.task is not None
        state = scope.state()
        outputs = dag_outputs(scope)
        scope.task = self.journal.update(
            scope.task, state=state, outputs=outputs.parameters, finished_at=_now()
        )
        return outputs

    def _finish_loop(self, node: Node) -> None:
        loop = node.loop
        assert loop is not None
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
        node.loop = None
        result = Result(state, dict(params), arts, error)
        # Like a sub-DAG's: the collected artifacts must survive a restart of the driver.
        self._finish(node, result, events=self._output_events(node, arts))


# Why a group (sub-DAG, exit handler, iteration) did not succeed, by its state.
_GROUP_ERRORS = {
    TaskState.FAILED: "a task inside failed",
    TaskState.CANCELED: "canceled: the run was terminated",
}

# The handle of an attempt decided but not submitted yet (`RunDriver.queued`).
QUEUED = "queued"


def _seconds(duration: str) -> float:
    text = str(duration).strip()
    return float(text[:-1]) if text.endswith("s") else float(text or 0)


def _now() -> datetime:
    return datetime.now(UTC)
