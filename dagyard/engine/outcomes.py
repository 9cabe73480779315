"""How a task that runs no DAG ends: served from the cache, imported, or by the outcome
of its attempt (succeeded, failed and maybe retried, lost with its host and run again).

Belongs here: turning a `decisions.Cached` or `decisions.Import`, or an executor's
`Outcome`, into the task's records through the run's `TaskRecorder`. The retry
arithmetic is `retries.py`'s; waiting and the executor are the driver's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from dagyard.engine import attempts, retries
from dagyard.engine.decisions import Cached, Import
from dagyard.engine.failures import TaskFailure
from dagyard.engine.launches import Attempt
from dagyard.engine.recorder import TaskRecorder, input_events, now, output_events
from dagyard.engine.scopes import Node, Result
from dagyard.engine.termination import STOPPED_TERMINATED
from dagyard.errors import StoreError
from dagyard.executors.base import Outcome
from dagyard.ir.pipeline import ContainerComponent
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.records import Artifact, Event, EventKind, TaskState


def reuse_cached(recorder: TaskRecorder, node: Node, decision: Cached) -> None:
    """The node ends with an earlier task's outputs (`decision.hit`)."""
    hit = decision.decision.hit
    assert hit is not None
    outputs = decision.decision.outputs
    recorder.record(node)
    recorder.finish(
        node,
        Result(TaskState.CACHED, dict(hit.outputs), outputs),
        events=output_events(node, outputs) + input_events(node),
        fingerprint=decision.fingerprint,
        cache_hit=True,
        cached_from_task_id=hit.task_id,
        cache_reason=decision.decision.reason,
        inputs=node.inputs.record(),
        started_at=now(),
    )


def register_import(
    recorder: TaskRecorder, node: Node, decision: Import, *, artifacts: ArtifactStore
) -> None:
    """The importer node ends with the artifact at `decision.uri` as its output."""
    importer = decision.component.importer
    uri = decision.uri
    task = recorder.record(node)
    local = artifacts.is_within(uri) or Path(uri).exists()
    artifact = Artifact(
        artifact_id=uuid.uuid4().hex,
        run_id=recorder.run_id,
        name="artifact",
        uri=uri,
        schema_title=importer.type.schema_title or "system.Artifact",
        schema_version=importer.type.schema_version or "0.0.1",
        metadata=decision.metadata,
        # The digest makes a changed file under the same URI a cache miss downstream.
        digest=artifacts.digest(uri) if local else None,
        producer_task_id=task.task_id,
        output_key="artifact",
    )
    recorder.finish(
        node,
        Result(TaskState.SUCCEEDED, {}, {"artifact": [artifact]}),
        artifacts=[artifact],
        events=[Event(task.task_id, artifact.artifact_id, EventKind.OUTPUT, "artifact")],
        inputs=node.inputs.record(),
        started_at=now(),
    )


def record_outcome(
    recorder: TaskRecorder,
    node: Node,
    attempt: Attempt,
    outcome: Outcome,
    *,
    artifacts: ArtifactStore,
    clock: Callable[[], float],
) -> None:
    """Record how `attempt` of `node` ended. One stopped by the run's terminate that
    succeeded all the same counts as succeeded."""
    assert node.task is not None
    known = node.task.warnings
    added = [w for w in outcome.warnings if w not in known]
    if added:  # what the executor could not honour of this attempt
        recorder.update(node, warnings=[*known, *added])
    if attempt.stopping and not outcome.ok:
        recorder.conclude(node, Result(TaskState.CANCELED, error=STOPPED_TERMINATED))
        return
    if outcome.ok:
        component = node.spec.component
        assert isinstance(component, ContainerComponent)
        try:
            attempts.fetch_results(artifacts, attempt.staged)
            params, arts = attempts.collect_outputs(
                outputs=component.outputs,
                document=attempt.document,
                store=artifacts,
                run_id=recorder.run_id,
                task_id=node.task.task_id,
                staged=attempt.staged,
            )
        except TaskFailure as e:
            _failed(recorder, node, str(e), clock)
            return
        recorder.finish(
            node,
            Result(TaskState.SUCCEEDED, params, arts),
            artifacts=[a for items in arts.values() for a in items],
            events=output_events(node, arts) + input_events(node),
            node=outcome.host,
        )
        return
    message = outcome.error or f"exited with code {outcome.exit_code}"
    if outcome.host and outcome.host != node.task.node:
        # Where the failed (or lost) attempt ran: the place to look when it fails.
        recorder.update(node, node=outcome.host)
    if outcome.lost:
        _lost(recorder, node, message)
        return
    _failed(recorder, node, message + _log_tail(node, attempt, artifacts), clock)


def _lost(recorder: TaskRecorder, node: Node, message: str) -> None:
    """The attempt's host or worker died under it: run it again at once (the executor
    places it on a host still alive), up to MAX_SYSTEM_RETRIES times, without touching
    the task's retry budget."""
    assert node.task is not None
    lost = node.task.system_retries + 1
    exhausted = retries.system_retries_exhausted(lost)
    if exhausted is not None:
        recorder.conclude(node, Result(TaskState.FAILED, error=f"{exhausted}; last: {message}"))
        return
    node.not_before = 0.0
    recorder.update(
        node, state=TaskState.PENDING, system_retries=lost, error=message, started_at=None
    )


def _failed(recorder: TaskRecorder, node: Node, message: str, clock: Callable[[], float]) -> None:
    assert node.task is not None
    # Attempts lost with their host were system retries, not the policy's.
    failures = node.task.attempts - node.task.system_retries
    delay = retries.retry_delay(node.spec.retry, failures=failures)
    if delay is None:
        recorder.conclude(node, Result(TaskState.FAILED, error=message))
        return
    node.not_before = clock() + delay
    # Not running while it waits: its next attempt sets `started_at` anew.
    recorder.update(node, state=TaskState.PENDING, error=message, started_at=None)


# How much of the end of a failed attempt's log is read for its last lines: a bound, so
# that a task printing hundreds of MiB costs no memory when it fails.
LOG_TAIL_BYTES = 64 << 10


def _log_tail(node: Node, attempt: Attempt, artifacts: ArtifactStore) -> str:
    """The last lines of the attempt's log, for the task's error; read from the end."""
    path = attempt.launch.log_path
    try:
        if path.exists():
            data = artifacts.read_tail(str(path), LOG_TAIL_BYTES)
        else:  # the attempt ran on another host: its log is in the store
            log_uri = node.task.log_uri if node.task is not None else None
            data = artifacts.read_tail(log_uri, LOG_TAIL_BYTES) if log_uri else b""
    except StoreError:
        return ""
    lines = data.decode("utf-8", errors="replace").strip().splitlines()[-5:]
    return ("\n" + "\n".join(lines)) if lines else ""
