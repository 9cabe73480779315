"""Every way a run ends leaves no task of it PENDING or RUNNING: a fault in the engine
(here a real one, a table gone from the database mid-run), a stored run no driver can
start, a run asked to stop while no driver had it, one terminated while PENDING. Real
runs on SQLite, real task processes, the background run worker."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa
from conditions import eventually

from dagyard.compiler import compile_to_dict
from dagyard.engine.termination import NOT_FINISHED_ENGINE_ERROR, NOT_RUN_TERMINATED
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.store.records import Run, RunState, Task, TaskKind, TaskState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from run_outages import gated, held_beside_a_producer

UNFINISHED = {TaskState.PENDING, TaskState.RUNNING, TaskState.CANCELING}


def states(platform: Platform, run: Run) -> dict[str, TaskState]:
    return {t.path: t.state for t in platform.store.list_tasks(run.run_id)}


def ended(platform: Platform, run: Run) -> Run:
    eventually(lambda: platform.store.get_run(run.run_id).state.terminal, "the run ends")
    return platform.store.get_run(run.run_id)


def driven(platform: Platform, run: Run) -> Run:
    """The run as it ends, driven by a run worker started for it."""
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:
        return ended(platform, run)
    finally:
        worker.stop()


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def left_by_a_dead_driver(platform: Platform, run: Run, path: str, state: RunState) -> None:
    """As a process killed mid-run leaves it: the run in `state`, a task RUNNING."""
    platform.store.update_run(run.run_id, state=state)
    platform.store.get_or_create_task(
        Task(
            task_id=uuid.uuid4().hex,
            run_id=run.run_id,
            path=path,
            name=path,
            kind=TaskKind.CONTAINER,
            state=TaskState.RUNNING,
            attempts=1,
        )
    )


def test_a_store_failure_mid_run_fails_it_with_its_tasks_closed_and_attempts_killed(
    platform: Platform, tmp_path: Path
) -> None:
    journal, gate, go = tmp_path / "journal", tmp_path / "gate", tmp_path / "go"
    run = runs.submit_run(
        platform,
        compile_to_dict(held_beside_a_producer),
        parameters={"journal": str(journal), "gate": str(gate), "go": str(go)},
        cache_enabled=False,
    )
    worker = RunWorker(platform, poll_seconds=0.05).start()
    try:
        eventually(
            lambda: (
                states(platform, run) == dict.fromkeys(("hold", "produce-when"), TaskState.RUNNING)
                and journal.exists()
            ),
            "both tasks run",
        )
        held_pid = int(journal.read_text().split()[2])
        # A fault no retry mends: the table of lineage events is gone.
        database = sa.make_url(platform.settings.database_url).database
        with sqlite3.connect(str(database)) as connection:
            connection.execute("DROP TABLE events")
        go.touch()  # the producer ends; recording its output's lineage fails
        final = ended(platform, run)
    finally:
        worker.stop()
    assert final.state == RunState.FAILED
    assert final.error is not None and final.error.startswith(
        "engine error: the metadata database failed (StoreFailure)"
    )
    assert "sqlite" not in final.error and str(tmp_path) not in final.error
    tasks = platform.store.list_tasks(run.run_id)
    assert {(t.state, t.error) for t in tasks} == {(TaskState.CANCELED, NOT_FINISHED_ENGINE_ERROR)}
    eventually(lambda: not alive(held_pid), "the held task's process is killed")


def test_a_run_no_driver_can_start_fails_with_its_tasks_closed(platform: Platform) -> None:
    run = runs.submit_run(platform, compile_to_dict(gated), parameters={"gate": "/nonexistent"})
    left_by_a_dead_driver(platform, run, "wait-quietly", RunState.RUNNING)
    platform.store.update_run(run.run_id, pipeline_spec={"pipelineInfo": {"name": "broken"}})
    final = driven(platform, run)
    assert final.state == RunState.FAILED
    assert final.error is not None and final.error.startswith("engine error: ")
    (task,) = platform.store.list_tasks(run.run_id)
    assert (task.state, task.error) == (TaskState.CANCELED, NOT_FINISHED_ENGINE_ERROR)


def test_a_run_asked_to_stop_while_no_driver_had_it_ends_canceled_with_its_tasks(
    platform: Platform, tmp_path: Path
) -> None:
    run = runs.submit_run(platform, compile_to_dict(gated), parameters={"gate": str(tmp_path)})
    left_by_a_dead_driver(platform, run, "wait-quietly", RunState.CANCELING)
    final = driven(platform, run)
    assert final.state == RunState.CANCELED
    (task,) = platform.store.list_tasks(run.run_id)
    assert (task.state, task.error) == (TaskState.CANCELED, NOT_RUN_TERMINATED)


def test_a_pending_run_terminated_closes_the_tasks_a_retry_reopened(platform: Platform) -> None:
    run = runs.submit_run(platform, compile_to_dict(gated), parameters={"gate": "/nonexistent"})
    left_by_a_dead_driver(platform, run, "wait-quietly", RunState.RUNNING)
    (task,) = platform.store.list_tasks(run.run_id)
    platform.store.update_task(task.task_id, state=TaskState.FAILED)
    platform.store.update_run(run.run_id, state=RunState.FAILED)
    runs.reset_for_retry(platform, run.run_id)  # PENDING again, its task with it
    assert states(platform, run) == {"wait-quietly": TaskState.PENDING}
    assert runs.terminate_run(platform, run.run_id).state == RunState.CANCELED
    (task,) = platform.store.list_tasks(run.run_id)
    assert (task.state, task.error) == (TaskState.CANCELED, NOT_RUN_TERMINATED)
    assert not UNFINISHED & set(states(platform, run).values())
