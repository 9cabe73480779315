"""DAGYARD_NAMESPACE_MAX_RUNS and DAGYARD_NAMESPACE_MAX_TASKS: one team's queue does not
hold another's back.

Two namespaces submit at once to one run worker: team-a three runs whose task waits
for a gate (a file the test makes), then team-b one quick run. With at most one run
per namespace, team-a's first run starts, its other two wait PENDING saying why, and
team-b's run starts and finishes meanwhile; once the gate opens, team-a's runs go on
one after the other, each told nothing any more once it starts. The same for tasks: two
runs of team-a share its task slots, the rest of their tasks waiting, saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import GraphComponent
from dagyard.service import experiments, runs, tenancy
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.settings import Settings
from dagyard.store.records import Role, RunState, Task, TaskKind, TaskState


@dsl.component
def wait_for(gate: str) -> str:
    import os
    import time

    while not os.path.exists(gate):
        time.sleep(0.02)
    return "through"


@dsl.component
def quick() -> str:
    return "done"


@dsl.pipeline
def gated(gate: str) -> None:
    wait_for(gate=gate)


@dsl.pipeline
def short() -> None:
    quick()


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(
        Settings(
            container_runtime="off",
            home=tmp_path / "home",
            max_parallel=2,
            namespace_max_runs=1,
        )
    )
    try:
        yield opened
    finally:
        opened.close()


def _submit(
    platform: Platform, pipeline: GraphComponent, gate: Path, *, count: int
) -> tuple[list[str], str]:
    """`count` runs of `pipeline` (waiting for `gate`) in team-a, then one quick run in
    team-b: their ids."""
    team_a = experiments.create_experiment(platform, display_name="a", namespace="team-a")
    team_b = experiments.create_experiment(platform, display_name="b", namespace="team-b")
    queued = [
        runs.submit_run(
            platform,
            compile_to_dict(pipeline),
            parameters={"gate": str(gate)},
            experiment_id=team_a.experiment_id,
        ).run_id
        for _ in range(count)
    ]
    other = runs.submit_run(platform, compile_to_dict(short), experiment_id=team_b.experiment_id)
    return queued, other.run_id


def _until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_a_namespace_at_its_limit_waits_while_another_runs(
    limited: Platform, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    queued, other = _submit(limited, gated, gate, count=3)
    store = limited.store
    worker = RunWorker(limited, poll_seconds=0.1).start()
    try:
        _until(lambda: store.get_run(other).state is RunState.SUCCEEDED, "team-b's run ends")
        states = [store.get_run(run_id) for run_id in queued]
        started = [r for r in states if r.state is not RunState.PENDING]
        waiting = [r for r in states if r.state is RunState.PENDING]
        assert len(started) == 1 and started[0].state is RunState.RUNNING
        assert len(waiting) == 2
        for run in waiting:
            assert run.waiting_reason is not None
            assert "namespace 'team-a' has 1 run(s) running" in run.waiting_reason
            assert "DAGYARD_NAMESPACE_MAX_RUNS" in run.waiting_reason
        assert store.get_run(other).waiting_reason is None
        _until(
            lambda: tenancy.work(limited)
            == [tenancy.Work("team-a", runs_running=1, runs_pending=2, runs_waiting=2,
                             tasks_running=1)],
            "team-a's task is recorded running",
        )  # fmt: skip
        team_b_view = tenancy.Principal(roles=(("team-b", Role.VIEW),))
        assert tenancy.work(limited, team_b_view) == [tenancy.Work("team-b")]

        gate.touch()
        _until(
            lambda: all(store.get_run(r).state is RunState.SUCCEEDED for r in queued),
            "team-a's runs end",
        )
        assert all(store.get_run(r).waiting_reason is None for r in queued)
    finally:
        gate.touch()
        worker.stop()


@dsl.component
def hold(gate: str, index: int) -> int:
    import os
    import time

    while not os.path.exists(gate):
        time.sleep(0.02)
    return index


@dsl.pipeline
def three_at_once(gate: str) -> None:
    for index in range(3):
        hold(gate=gate, index=index)


def test_a_namespace_at_its_task_limit_waits_while_another_runs(tmp_path: Path) -> None:
    """DAGYARD_NAMESPACE_MAX_TASKS=2: team-a's two runs of three parallel tasks each run
    two tasks in all, the other four waiting and saying why, while team-b's quick run
    goes through; then team-a's go on, two at a time."""
    gate = tmp_path / "gate"
    platform = Platform.open(
        Settings(
            container_runtime="off",
            home=tmp_path / "home",
            max_parallel=3,
            namespace_max_tasks=2,
        )
    )
    worker = RunWorker(platform, poll_seconds=0.1)
    try:
        queued, other = _submit(platform, three_at_once, gate, count=2)
        store = platform.store
        worker.start()

        def team_a_tasks() -> list[Task]:
            return [t for r in queued for t in store.list_tasks(r) if t.kind is TaskKind.CONTAINER]

        def held() -> list[Task]:
            return [
                t
                for t in team_a_tasks()
                if t.state is TaskState.PENDING and "DAGYARD_NAMESPACE_MAX_TASKS" in (t.error or "")
            ]

        _until(lambda: len(held()) == 4, "four of team-a's tasks wait for a namespace slot")
        running = [t for t in team_a_tasks() if t.state is TaskState.RUNNING]
        assert len(running) == 2
        assert "the 2 task slots of namespace 'team-a'" in (held()[0].error or "")
        _until(lambda: store.get_run(other).state is RunState.SUCCEEDED, "team-b's run ends")

        gate.touch()
        _until(
            lambda: all(store.get_run(r).state is RunState.SUCCEEDED for r in queued),
            "team-a's runs end",
        )
    finally:
        gate.touch()
        worker.stop()
        platform.close()
