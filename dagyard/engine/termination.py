"""Stopping a run: what a terminated run's tasks, groups and attempts end as, and how
long its exit tasks may take.

Terminate (the API's, or a signal to `dagyard run`) stops the running attempts (the
executor's grace period, then a kill), which end CANCELED; no task starts but those that
run whatever their upstream's outcome (exit tasks, which read CANCELLED as their group's
final status); every other task not started ends CANCELED, and with them every group,
loop and open iteration. After `DriverOptions.cancel_seconds` whatever still runs is
killed. Belongs here: that state, its words, and what stopping does to the attempts
in flight (the executor's `cancel`); waiting for them to end is the driver's. Also the
end of a run no driver drives (`end_undriven`) and the words of a run failed by a fault
of the engine's (`engine_error`).
"""

from __future__ import annotations

import dataclasses

from dagyard.engine.recorder import TaskRecorder, now
from dagyard.engine.scopes import Node, Result
from dagyard.errors import StoreError
from dagyard.executors.base import Executor
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Run, RunState, TaskState

NOT_RUN_TERMINATED = "not run: the run was terminated"
STOPPED_TERMINATED = "stopped: the run was terminated"
# The error of a task a run's engine failure leaves unfinished.
NOT_FINISHED_ENGINE_ERROR = "not finished: the run failed in the engine"

# Why a group (sub-DAG, exit handler, iteration) did not succeed, by its state.
GROUP_ERRORS = {
    TaskState.FAILED: "a task inside failed",
    TaskState.CANCELED: "canceled: the run was terminated",
}

# How long a run's cancelled attempts are waited for, so that the executor (shared by a
# server's runs) forgets them; bounded, in case a process ignores its signals for long.
COLLECT_SECONDS = 30.0


@dataclasses.dataclass
class Termination:
    """Whether the run was asked to stop, and by when (the driver's clock) its exit
    tasks must be done."""

    requested: bool = False
    deadline: float = float("inf")

    def begin(self, now: float, *, grace_seconds: float) -> None:
        self.requested = True
        self.deadline = now + grace_seconds


def stop_attempts(
    recorder: TaskRecorder, executor: Executor, *, queued: list[Node], running: dict[str, Node]
) -> None:
    """Terminate: attempts decided but not submitted end CANCELED without running; those
    running are stopped (the executor's grace period, then a kill) and shown CANCELING
    until their outcome comes."""
    for node in queued:
        node.attempt = None
        recorder.conclude(node, Result(TaskState.CANCELED, error=NOT_RUN_TERMINATED))
    queued.clear()
    for handle, node in running.items():
        assert node.attempt is not None
        executor.cancel(handle)
        node.attempt.stopping = True
        recorder.update(node, state=TaskState.CANCELING)


def kill_attempts(
    recorder: TaskRecorder, executor: Executor, *, queued: list[Node], running: dict[str, Node]
) -> None:
    """Cancel now: every attempt in flight is killed, and its task ends CANCELED."""
    for handle, node in running.items():
        executor.cancel(handle)
        if node.task is not None:
            recorder.update(node, state=TaskState.CANCELED, finished_at=now())
    for node in queued:  # never started
        node.attempt = None
        recorder.update(node, state=TaskState.CANCELED, finished_at=now())
    queued.clear()


def engine_error(error: BaseException) -> str:
    """The error of a run that failed by a fault of the engine's. The database's own
    messages name the database: those go to the log, not into the run's record."""
    if isinstance(error, StoreError) and error.status >= 500:
        return (
            f"engine error: the metadata database failed ({type(error).__name__}); the "
            "log of the process that drove the run says why"
        )
    return f"engine error: {error}"


def end_undriven(
    store: MetadataStore,
    run_id: str,
    *,
    state: RunState,
    error: str | None,
    task_error: str,
    fence: str | None,
) -> Run:
    """End run `run_id` in `state` (with `error`) where no driver will: none could
    start (a fault before: `engine_error`), or it was terminated while PENDING. Its
    unfinished tasks (an earlier driver's, or a retry's) end CANCELED with `task_error`
    first, as a driver closes its own."""
    TaskRecorder(store, run_id=run_id, fence=fence).close_unfinished(task_error)
    return store.update_run(run_id, state=state, error=error, fence=fence)
