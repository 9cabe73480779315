"""The task records of one run, as its driver writes and reads them back.

Belongs here: `TaskRecorder`, the driver's one way to its run's task records: a node's
record created or updated (through the `Journal`, written in batches), a node concluded
or finished with its artifacts and lineage, loop iterations opened and closed, the
unfinished records of a stopped run closed, and the records an earlier driver left read
back (`restore`, and the cache's look-up). No decisions and no executor: the driver
says what to write. Every store call goes through the driver's `Outages`, so that a
database that stops answering for a while is waited out wherever the driver meets it.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

from dagyard.engine import caching
from dagyard.engine.journal import Journal
from dagyard.engine.outages import Outages
from dagyard.engine.scopes import Node, Result, Scope, dag_outputs, iteration_index
from dagyard.errors import NotFound
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Artifact, Event, EventKind, Task, TaskKind, TaskState


def now() -> datetime:
    """The time records are stamped with."""
    return datetime.now(UTC)


class TaskRecorder:
    """Writes the task records of run `run_id`. `existing`: its records when the driver
    started (an earlier driver's, or those of the run being retried)."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        run_id: str,
        fence: str | None,
        outages: Outages | None = None,
        experiment_id: str | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.experiment_id = experiment_id
        # The run's namespace (its experiment's), read at the first cache look-up.
        self._namespace: str | None = None
        self.outages = outages or Outages(what=f"run {run_id}", budget_seconds=0)
        self.journal = Journal(store, fence=fence, outages=self.outages)
        self.existing = {t.path: t for t in self._tasks()}
        # Whether a task of the run ended FAILED (this driver's, or a restored one).
        self.failed = False

    # -- one node ------------------------------------------------------------------------
    def record(self, node: Node, /, **fields: Any) -> Task:
        """Write the node's task record with `fields`: created with them in one write when
        it is new, updated when a record exists (this run, or an earlier driver's)."""
        if node.task is None:
            node.task = self.existing.get(node.path)
        if node.task is None:
            parent = node.scope.task
            node.task = self.journal.create(
                Task(
                    task_id=node.task_id,
                    run_id=self.run_id,
                    path=node.path,
                    name=node.name,
                    kind=node.kind,
                    display_name=node.spec.display_name,
                    parent_task_id=parent.task_id if parent else None,
                    iteration_index=iteration_index(node.scope),
                    created_at=now(),
                    **fields,
                )
            )
            return node.task
        if fields:
            node.task = self.journal.update(node.task, **fields)
        return node.task

    def update(self, node: Node, /, **fields: Any) -> None:
        assert node.task is not None
        node.task = self.journal.update(node.task, **fields)

    def conclude(self, node: Node, result: Result, /) -> None:
        """Record a node's end without outputs of its own to store, and publish its
        result to downstream nodes."""
        self.record(
            node,
            state=result.state,
            outputs=result.parameters,
            error=result.error,
            finished_at=now(),
        )
        self.failed = self.failed or result.state == TaskState.FAILED
        node.result = result

    def finish(
        self,
        node: Node,
        result: Result,
        /,
        *,
        artifacts: list[Artifact] | None = None,
        events: list[Event] | None = None,
        **fields: Any,
    ) -> None:
        """Record a node's end with its new artifacts and its lineage, in one write, and
        publish its result."""
        assert node.task is not None
        node.task = self.journal.finish(
            node.task,
            artifacts=artifacts or [],
            events=events or [],
            state=result.state,
            outputs=result.parameters,
            error=result.error,
            finished_at=now(),
            **fields,
        )
        node.result = result

    def finish_group(self, node: Node, result: Result) -> None:
        """Record a sub-DAG's or a loop's end. Output artifacts are linked to the group's
        own task, so that a driver restarted later restores them with it."""
        self.finish(node, result, events=output_events(node, result.artifacts))

    # -- loop iterations -----------------------------------------------------------------
    def open_iteration(self, node: Node, index: int) -> Task:
        """The record of iteration `index` of loop `node`, RUNNING."""
        assert node.task is not None
        path = f"{node.path}/{index}"
        task = self.existing.get(path) or self.journal.create(
            Task(
                task_id=uuid.uuid4().hex,
                run_id=self.run_id,
                path=path,
                name=f"{node.name}-{index}",
                kind=TaskKind.DAG,
                display_name=f"{node.spec.display_name} #{index}",
                parent_task_id=node.task.task_id,
                iteration_index=index,
                state=TaskState.RUNNING,
                created_at=now(),
                started_at=now(),
            )
        )
        if node.fresh and task.state.terminal:  # run again: see `restore`
            task = self.journal.update(
                task, state=TaskState.RUNNING, started_at=now(), finished_at=None
            )
        return task

    def close_iteration(self, scope: Scope) -> Result:
        """Record a finished iteration's end; its result for the loop."""
        assert scope.task is not None
        outputs = dag_outputs(scope)
        scope.task = self.journal.update(
            scope.task, state=outputs.state, outputs=outputs.parameters, finished_at=now()
        )
        return outputs

    # -- the run -------------------------------------------------------------------------
    def close_unfinished(self, error: str | None = None) -> None:
        """Mark CANCELED (with `error`, if given: why) every task record of the run still
        unfinished: groups, loops and iterations that will not end otherwise, tasks left
        PENDING (an earlier driver's, or waiting for a retry) or RUNNING."""
        self.journal.flush()
        stamp = now()
        for task in self._tasks():
            if not task.state.terminal:
                changes: dict[str, Any] = {"state": TaskState.CANCELED, "finished_at": stamp}
                if error is not None:
                    changes["error"] = error
                self.journal.update(task, **changes)
        self.journal.flush()

    def failures(self) -> str:
        """The errors of the run's failed tasks, for the run's own."""
        failed = [t for t in self._tasks() if t.state == TaskState.FAILED]
        return "; ".join(f"{t.path}: {t.error}" for t in failed if t.error) or "a task failed"

    # -- reading back --------------------------------------------------------------------
    def restore(self, node: Node) -> bool:
        """Pick up a node's earlier record after a restart or a retry. True if it is
        finished and stays so. A finished node runs again when what it ran after runs
        again (`Node.fresh`): an exit task, when its group is retried, gets the group's
        new final status."""
        task = node.task = self.existing[node.path]
        if not task.state.terminal:
            return False
        if node.fresh:
            # No `started_at`: no attempt of it is live (engine/running_time.py).
            self.update(
                node, state=TaskState.PENDING, error=None, started_at=None, finished_at=None
            )
            return False
        node.restored = True
        self.failed = self.failed or task.state == TaskState.FAILED
        node.result = Result(
            task.state, dict(task.outputs), self.output_artifacts(task), task.error
        )
        return True

    def look_up(
        self, artifacts: ArtifactStore, fingerprint: str, staleness: float | None
    ) -> caching.Decision:
        """The cache's answer for `fingerprint`, this run's own unwritten successes
        included (they are written first, so that the look-up sees them)."""
        if self.journal.holds_success(fingerprint):
            self.journal.flush()
        return self.outages.call(
            caching.look_up,
            self.store,
            artifacts,
            fingerprint=fingerprint,
            staleness_seconds=staleness,
            output_artifacts=self._output_artifacts,  # retried as a whole
            namespace=self.namespace(),
        )

    def namespace(self) -> str:
        """The run's namespace: its experiment's, "" without one (or once it is gone).
        Its cache hits come from runs of the same namespace only."""
        if self._namespace is None:
            found = ""
            if self.experiment_id:
                with contextlib.suppress(NotFound):
                    found = self.outages.call(
                        self.store.get_experiment, self.experiment_id
                    ).namespace
            self._namespace = found
        return self._namespace

    def output_artifacts(self, task: Task) -> dict[str, list[Artifact]]:
        """A finished task's output artifacts by output name, in order."""
        return self.outages.call(self._output_artifacts, task)

    def _output_artifacts(self, task: Task) -> dict[str, list[Artifact]]:
        found: dict[str, list[tuple[int, Artifact]]] = {}
        for event in self.store.list_events(task_id=task.task_id):
            if event.kind == EventKind.OUTPUT:
                artifact = self.store.get_artifact(event.artifact_id)
                found.setdefault(event.key, []).append((event.index, artifact))
        return {k: [a for _, a in sorted(v, key=lambda p: p[0])] for k, v in found.items()}

    def _tasks(self) -> list[Task]:
        return self.outages.call(self.store.list_tasks, self.run_id)


def output_events(node: Node, outputs: dict[str, list[Artifact]]) -> list[Event]:
    return [
        Event(node.task_id, a.artifact_id, EventKind.OUTPUT, key, i)
        for key, items in outputs.items()
        for i, a in enumerate(items)
    ]


def input_events(node: Node) -> list[Event]:
    return [
        Event(node.task_id, a.artifact_id, EventKind.INPUT, key, i)
        for key, items in node.inputs.artifacts.items()
        for i, a in enumerate(items)
    ]
