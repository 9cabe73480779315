"""The run driver: walks a run's plan, starts what is ready, and records every state
change in the metadata store.

A run is a tree of scopes (the root DAG, sub-DAGs, loop iterations), each with nodes (the
DAG's tasks; `scopes.py`). The driver loops: advance every scope (each ready node gets
its decision, `decisions.py`, which the driver carries out), then wait for the executor
to report a finished attempt (`outcomes.py` says what its outcome makes of the task).
All of a run's state is in the store, keyed by each node's stable path, so a driver
started on a run that another process left half-done picks up where it stopped:
finished nodes are read back (`TaskRecorder.restore`), never run again. Records are
written in batches (`journal.py`): one transaction for each pass of the loop, and the
attempts the pass decided are submitted only after it.

How a driver stops, besides the run's end: terminated or interrupted (`cancel`: the run
and its unfinished tasks end CANCELED); its lease lost, or the metadata database away
for longer than `DriverOptions.outage_seconds` (`outages.py` waits out shorter
outages): it abandons the run, recording nothing, so that the run stays unfinished for
the next driver, as after a crash; a fault of its own or of the database's (a
StoreFailure): the run ends FAILED with its attempts killed and its unfinished tasks
closed. No run ends with a task of it PENDING or RUNNING.

Belongs here: the loop, the only caller of the executor's submit and wait, and the only
holder of the run's `TaskRecorder`; stopping a run (`termination.py` says how).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagyard import ir
from dagyard.engine import decisions, launches, loops, outcomes, termination, workspace
from dagyard.engine.commands import RuntimeContext
from dagyard.engine.decisions import CachePolicy, Facts
from dagyard.engine.failures import TaskFailure
from dagyard.engine.launches import Place
from dagyard.engine.outages import Outages
from dagyard.engine.platform_settings import timed_out
from dagyard.engine.recorder import TaskRecorder, now
from dagyard.engine.retries import next_retry_delay
from dagyard.engine.scopes import Node, Result, Scope, all_nodes, dag_outputs
from dagyard.engine.volumes import Volumes
from dagyard.errors import DagyardError, LeaseLost, StoreError, StoreUnavailable
from dagyard.executors.base import Executor
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Run, RunState, TaskState

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclasses.dataclass
class DriverOptions:
    """How the driver runs: where attempts work, how many run at once, caching."""

    work_root: Path
    max_parallel: int
    cache_enabled: bool = True
    max_cache_staleness_seconds: float | None = None
    poll_seconds: float = 0.5
    # How long a terminated run's exit tasks may take (and its stopped attempts to end)
    # before whatever still runs is killed and the run ends CANCELED all the same.
    cancel_seconds: float = 300.0
    # The most bytes each attempt's log keeps (DAGYARD_TASK_LOG_LIMIT); 0: no cap.
    task_log_limit: int = 0
    # How long the metadata database may not answer before the driver leaves the run
    # unfinished (DAGYARD_STORE_OUTAGE_SECONDS); the running attempts go on meanwhile.
    outage_seconds: float = 120.0
    # Where volume claims (kfp-kubernetes' CreatePVC, mount_pvc) keep their folders
    # (<home>/volumes); None: tasks cannot have volumes.
    volumes_root: Path | None = None
    # At most this many attempts of the runs of one namespace at once, on an executor
    # that holds slots (DAGYARD_NAMESPACE_MAX_TASKS); 0: no such limit.
    namespace_max_tasks: int = 0


class RunDriver:
    """Drives one run to a terminal state. Not thread-safe; one driver per run."""

    def __init__(
        self,
        *,
        run: Run,
        store: MetadataStore,
        artifacts: ArtifactStore,
        executor: Executor,
        options: DriverOptions,
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
        self.options = options
        self.clock = clock
        self.plan = ir.plan(ir.from_dict(run.pipeline_spec))
        # Every store call of the driver waits out an outage of the database through it.
        self.outages = Outages(
            what=f"run {run.run_id}", budget_seconds=options.outage_seconds, stop=self.stop
        )
        # Task writes wait in its journal until the driver is about to wait, read or end.
        self.recorder = TaskRecorder(
            store,
            run_id=run.run_id,
            fence=lease_owner,
            outages=self.outages,
            experiment_id=run.experiment_id,
        )
        # Nodes with an attempt submitted, by handle; and decided in this pass, to submit.
        self.running: dict[str, Node] = {}
        self.queued: list[Node] = []
        # When the executor last said which attempts it holds back for capacity.
        self.waiting_checked = now()
        self.termination = termination.Termination()
        # How many attempts may be submitted at once: twice `max_parallel` when the
        # executor holds each run to it itself (`Launch.slots`): the extra ones start as
        # soon as a slot frees, while this loop still records the attempt that ended.
        holds = executor.holds_slots
        self._submit_limit = options.max_parallel * (2 if holds else 1)
        self.place = Place(
            options.work_root,
            artifacts,
            options.max_parallel if holds else None,
            log_limit=options.task_log_limit,
            kubernetes=self.plan.kubernetes,
            volumes=(
                Volumes(options.volumes_root, store, experiment_id=run.experiment_id)
                if options.volumes_root is not None
                else None
            ),
        )
        if holds and options.namespace_max_tasks > 0:
            self.place = dataclasses.replace(
                self.place,
                namespace=self.recorder.namespace(),
                namespace_slots=options.namespace_max_tasks,
            )
        self.cache = CachePolicy(
            enabled=run.cache_enabled and options.cache_enabled,
            staleness_seconds=(
                run.max_cache_staleness_seconds
                if run.max_cache_staleness_seconds is not None
                else options.max_cache_staleness_seconds
            ),
            look_up=functools.partial(self.recorder.look_up, artifacts),
        )
        created = run.created_at or datetime.now(UTC)
        # What the run-level placeholders stand for; the task's name and id set per node.
        self.context = RuntimeContext(
            job_name=run.display_name,
            job_id=run.run_id,
            task_name="",
            task_id="",
            pipeline_root=run.runtime_config.get("pipeline_root") or artifacts.root_uri,
            create_time=created.isoformat(),
            schedule_time=(run.scheduled_at or created).isoformat(),
            # Beside the tasks' folders; no task path starts with a dot.
            workspace_path=str(options.work_root / run.run_id / ".workspace"),
        )

    # -- the loop ----------------------------------------------------------------------
    def drive(self) -> Run:
        """Run until every node is finished; return the final run record (as last seen,
        unfinished, if the driver lost its lease). StoreUnavailable when the database did
        not answer for too long: the run is left unfinished, as after a crash. Any other
        error: the run is recorded FAILED (if the store can) and the error raised."""
        root = Scope(
            path="",
            component=self.plan.root,
            parameters=dict(self.run.runtime_config.get("parameters", {})),
            artifacts={},
            task=None,
        )
        next_check = self.clock() + self.options.poll_seconds
        try:
            if self.run.state == RunState.CANCELING:
                self._begin_terminate()  # asked to stop while no driver had it
            else:
                shortage = self._workspace_check(workspace.shortfall)
                if shortage is not None:  # refused before anything (more) runs
                    self.recorder.close_unfinished(shortage)
                    self.run = self._update_run(state=RunState.FAILED, error=shortage)
                    return self.run
                self.run = self._update_run(state=RunState.RUNNING)
            while True:
                if self.stop():
                    return self._abandon()
                self._advance(root)
                if root.done:
                    break
                if self.termination.requested:
                    if self.clock() >= self.termination.deadline:
                        self.cancel()
                        return self.run
                elif self.clock() >= next_check:
                    # Someone else (the API's terminate) may have asked this run to stop.
                    next_check = self.clock() + self.options.poll_seconds
                    asked = self.outages.call(self.store.get_run, self.run.run_id)
                    if asked.state == RunState.CANCELING:
                        self._begin_terminate()
                        continue
                # What this pass decided becomes durable (and visible) in one write, and
                # only then do its attempts start: no task runs without its record.
                self.recorder.journal.flush()
                self._submit_queued()
                delay = next_retry_delay(all_nodes(root), self.clock())
                pause = self.options.poll_seconds
                if delay is not None:
                    pause = min(delay, pause)
                pause = self._stop_timed_out(pause)
                if not self.running:
                    if delay is None:
                        raise DagyardError(
                            f"Run {self.run.run_id} cannot progress: no task is ready or "
                            "running. This is a fault of Dagyard's; please report it."
                        )
                    time.sleep(pause)
                    continue
                outcomes_ = self.executor.wait(list(self.running), pause)
                if self.stop():
                    return self._abandon()
                for handle, outcome in outcomes_.items():
                    node = self.running.pop(handle)
                    attempt = node.attempt
                    assert attempt is not None
                    node.attempt = None
                    if attempt.waiting is not None:
                        # Held when last asked, it has started and ended since.
                        self.recorder.update(node, started_at=self.waiting_checked)
                    if attempt.timed_out and attempt.timeout_seconds is not None:
                        error = timed_out(attempt.timeout_seconds)
                        outcome = dataclasses.replace(outcome, exit_code=None, error=error)
                    if outcome.ok:
                        over = self._workspace_check(workspace.overflow)
                        if over is not None:
                            outcome = dataclasses.replace(outcome, exit_code=None, error=over)
                    outcomes.record_outcome(
                        self.recorder,
                        node,
                        attempt,
                        outcome,
                        artifacts=self.artifacts,
                        clock=self.clock,
                    )
                self._note_waiting()
            return self._finish_run(root)
        except LeaseLost as e:
            log.warning("Abandoning run %s: %s", self.run.run_id, e)
            return self._abandon()
        except StoreUnavailable:
            self._abandon()  # the database stayed away: the run waits for the next driver
            raise
        except KeyboardInterrupt:
            self.cancel()
            raise
        except Exception as error:
            self._fail(error)
            raise

    def _workspace_check(self, check: Callable[[Path, str], str | None]) -> str | None:
        """What `check` says of the run's workspace, when the pipeline sets its size."""
        size = self.plan.workspace_size
        if size is None:
            return None
        return check(Path(self.context.workspace_path), size)

    def _update_run(self, **changes: Any) -> Run:
        return self.outages.call(
            self.store.update_run, self.run.run_id, fence=self.fence, **changes
        )

    def _submit_queued(self) -> None:
        for node in self.queued:
            assert node.attempt is not None
            node.attempt.handle = self.executor.submit(node.attempt.launch)
            self.running[node.attempt.handle] = node
        self.queued.clear()

    def _stop_timed_out(self, pause: float) -> float:
        """Stop the attempts past their time limit (set_timeout); how long the loop may
        wait before the next one is due, at most `pause`."""
        now_ = self.clock()
        for handle, node in self.running.items():
            attempt = node.attempt
            if attempt is None or attempt.timeout_seconds is None or attempt.timed_out:
                continue
            if attempt.deadline is None:  # submitted in this pass: its time starts now
                attempt.deadline = now_ + attempt.timeout_seconds
            if now_ >= attempt.deadline:
                attempt.timed_out = True
                self.executor.cancel(handle)
            else:
                pause = min(pause, attempt.deadline - now_)
        return pause

    def _note_waiting(self) -> None:
        self.waiting_checked = now()
        reported = self.executor.waiting(list(self.running)) if self.running else {}
        launches.note_waiting(self.recorder, self.running, reported)

    def _finish_run(self, root: Scope) -> Run:
        self.recorder.journal.flush()
        outputs = dag_outputs(root)
        state = RunState.FAILED if self.recorder.failed else RunState.SUCCEEDED
        error = None
        if self.termination.requested:
            self.recorder.close_unfinished()
            state = RunState.CANCELED
        elif self.recorder.failed:
            self.recorder.close_unfinished()  # none is left but by a fault of ours
            error = self.recorder.failures()
        self.run = self._update_run(state=state, error=error, outputs=outputs.record())
        return self.run

    # -- advancing a scope -------------------------------------------------------------
    def _advance(self, scope: Scope) -> None:
        progressed = True
        while progressed:
            progressed = False
            for node in scope.nodes.values():
                if node.done or node.attempt is not None:
                    continue
                if node.child is not None:
                    self._advance(node.child)
                    if node.child.done:
                        result = dag_outputs(node.child)
                        result.error = termination.GROUP_ERRORS.get(result.state)
                        self.recorder.finish_group(node, result)
                        progressed = True
                    continue
                if node.loop is not None:
                    progressed = self._advance_loop(node) or progressed
                    continue
                progressed = self._try_start(node) or progressed

    def _try_start(self, node: Node) -> bool:
        """Decide a node whose upstream is finished, and carry the decision out. True if
        it changed."""
        upstream = node.scope.upstream(node)
        if not all(u.done for u in upstream):
            return False
        existing = self.recorder.existing.get(node.path)
        if node.task is None:
            # Inputs may differ from what an earlier record of this node was run with: its
            # scope's owner or an upstream node is run again by this driver.
            node.fresh = node.scope.fresh or not all(u.restored for u in upstream)
            if existing is not None and self.recorder.restore(node):
                return True
        if existing is not None:
            node.task_id = existing.task_id
        busy = len(self.running) + len(self.queued)
        facts = Facts(
            now=self.clock(),
            stopping=self.termination.requested,
            slot_free=busy < self._submit_limit,
            context=dataclasses.replace(self.context, task_name=node.name, task_id=node.task_id),
            cache=self.cache,
        )
        decision = decisions.decide(node, facts)
        if isinstance(decision, decisions.Wait):
            return False
        if isinstance(decision, decisions.Conclude):
            self.recorder.conclude(node, decision.result)
            return True
        node.inputs = decision.inputs
        match decision:
            case decisions.Cached():
                outcomes.reuse_cached(self.recorder, node, decision)
            case decisions.Import():
                outcomes.register_import(self.recorder, node, decision, artifacts=self.artifacts)
            case decisions.Start():
                try:
                    # kfp-kubernetes' CreatePVC and DeletePVC are done here, run nothing.
                    claimed = launches.claim_result(decision, place=self.place)
                    if claimed is None:
                        node.attempt = launches.start_attempt(
                            self.recorder, node, decision, context=facts.context, place=self.place
                        )
                except TaskFailure as e:
                    self.recorder.conclude(node, Result(TaskState.FAILED, error=str(e)))
                    return True
                if claimed is not None:
                    self.recorder.record(node, inputs=node.inputs.record(), started_at=now())
                    self.recorder.conclude(node, claimed)
                    return True
                self.queued.append(node)
            case decisions.OpenDag() | decisions.OpenLoop():
                self.recorder.record(
                    node, state=TaskState.RUNNING, started_at=now(), inputs=node.inputs.record()
                )
                if isinstance(decision, decisions.OpenLoop):
                    node.loop = decision.loop
                else:
                    node.child = Scope(
                        path=node.path,
                        component=decision.component,
                        parameters=decision.parameters,
                        artifacts=dict(node.inputs.artifacts),
                        task=node.task,
                        fresh=node.fresh,
                    )
        return True

    def _advance_loop(self, node: Node) -> bool:
        loop = node.loop
        assert loop is not None
        changed = False
        for index, scope in list(loop.iterations.items()):
            self._advance(scope)
            if scope.done:
                loop.finished[index] = self.recorder.close_iteration(scope)
                del loop.iterations[index]
                changed = True
        stopping = self.termination.requested
        count = loops.open_count(loop, max_parallel=self.options.max_parallel, stopping=stopping)
        component = node.spec.component
        assert isinstance(component, ir.pipeline.DagComponent)
        for index in range(loop.next_index, loop.next_index + count):
            params, arts = loops.iteration_inputs(loop, index, node.inputs, component)
            task = self.recorder.open_iteration(node, index)
            loop.iterations[index] = Scope(
                path=task.path,
                component=component,
                parameters=params,
                artifacts=arts,
                task=task,
                fresh=node.fresh,
            )
            changed = True
        # A terminated run's loop ends with its open iterations; the others never start.
        if loops.ended(loop, stopping=stopping):
            node.loop = None
            self.recorder.finish_group(node, loops.loop_result(loop))
            changed = True
        return changed

    # -- stopping ----------------------------------------------------------------------
    def _begin_terminate(self) -> None:
        """The run was asked to stop (terminate): see `termination.py`. The loop goes on
        until its exit tasks are done, for at most `DriverOptions.cancel_seconds`, then
        `cancel` kills what is left."""
        self.termination.begin(self.clock(), grace_seconds=self.options.cancel_seconds)
        self._update_run(state=RunState.CANCELING)
        termination.stop_attempts(
            self.recorder, self.executor, queued=self.queued, running=self.running
        )

    def cancel(self) -> None:
        """Stop now: kill the running attempts, run nothing more (exit tasks included)
        and mark the run and every unfinished task of it CANCELED. For an interrupted
        `dagyard run`, and for a terminated run whose exit tasks overran."""
        self.termination.requested = True
        self.recorder.journal.flush()
        self._update_run(state=RunState.CANCELING)
        termination.kill_attempts(
            self.recorder, self.executor, queued=self.queued, running=self.running
        )
        self.recorder.journal.flush()
        self._collect()
        self.recorder.close_unfinished()
        self.run = self._update_run(state=RunState.CANCELED)

    def _fail(self, error: Exception) -> None:
        """A fault of the engine's or of the database's (not an outage): kill the
        attempts and record the run FAILED, its unfinished tasks CANCELED with the reason.
        What the store refuses stays as it was: the run is then unfinished, and its next
        driver tries again."""
        with contextlib.suppress(StoreError):  # what was recorded before the fault holds
            self.recorder.journal.flush()
        self._abandon()
        try:
            self.recorder.close_unfinished(termination.NOT_FINISHED_ENGINE_ERROR)
            self.run = self._update_run(
                state=RunState.FAILED, error=termination.engine_error(error)
            )
        except StoreError as e:
            log.warning("Could not record that run %s failed: %s", self.run.run_id, e)

    def _abandon(self) -> Run:
        """Stop driving without writing to the store: kill the running attempts and
        return the run as last seen. Their tasks stay RUNNING in the store; whoever
        drives the run next restores them as unfinished and runs them again (as after
        a crash), and never re-runs a task recorded as finished."""
        self.recorder.journal.discard()
        self.queued.clear()
        for handle in self.running:
            self.executor.cancel(handle)
        self._collect()
        return self.run

    def _collect(self) -> None:
        """Wait for the cancelled attempts to end, so that the executor (shared by a
        server's runs) forgets them; at most `termination.COLLECT_SECONDS`."""
        pending = list(self.running)
        deadline = self.clock() + termination.COLLECT_SECONDS
        while pending and self.clock() < deadline:
            done = self.executor.wait(pending, 1.0)
            pending = [h for h in pending if h not in done]
        self.running.clear()
