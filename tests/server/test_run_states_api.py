"""What the REST API shows of a run that is terminated, retried, holds a long loop, or
waits: honest states and durations. A real server and run worker on SQLite, tasks in
real child processes; every wait has a deadline.

- Terminate: running attempts get SIGTERM (then a kill after the executor's grace), the
  exit task still runs and reads CANCELED, and no task, group, loop or iteration is left
  RUNNING, CANCELING or PENDING; the run ends CANCELED, even when its exit task never
  ends (killed after the driver's `cancel_seconds`).
- Retry: the exit task runs again with the new final status.
- A loop over a task output says how many items it has while only a few iterations are
  open (the count the UI shows).
- A task's `started_at` is when its last attempt started running, `first_started_at`
  when its first did, and `ran_seconds` how long its attempts ran: neither a retry's
  back-off nor a wait for a task slot is part of that.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from conditions import eventually

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import PipelineTaskFinalStatus
from dagyard.engine.driver import DriverOptions, RunDriver
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.store.records import Run

UNFINISHED = {"PENDING", "RUNNING", "CANCELING"}


@dsl.component
def final_state(status: PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.component
def hold(folder: str, item: str) -> None:
    """Says it runs (its pid in a file), then waits for a signal; on SIGTERM it leaves a
    mark and exits."""
    import os
    import signal
    import sys

    def on_term(signum: int, frame: object) -> None:
        open(os.path.join(folder, f"{item}.term"), "w").close()
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)
    with open(os.path.join(folder, f"{item}.pid"), "w") as f:
        f.write(str(os.getpid()))
    while True:
        signal.pause()


@dsl.component
def never() -> None:
    pass


@dsl.pipeline(name="terminated")
def held_in_a_loop(folder: str) -> None:
    exit_task = final_state()
    items = ["0", "1", "2", "3", "4", "5"]
    with dsl.ExitHandler(exit_task, name="body"), dsl.ParallelFor(items, parallelism=2) as item:
        held = hold(folder=folder, item=item)
        never().after(held)


@dsl.component
def stay_after(status: PipelineTaskFinalStatus, folder: str) -> None:
    """Says it runs, with the status it read, then never ends on its own."""
    import os
    import signal

    with open(os.path.join(folder, "exit.pid"), "w") as f:
        f.write(f"{os.getpid()} {status.state}")
    while True:
        signal.pause()


@dsl.pipeline(name="slow-cleanup")
def slow_cleanup(folder: str) -> None:
    with dsl.ExitHandler(stay_after(folder=folder)):
        hold(folder=folder, item="0")


@dsl.component
def needs(path: str) -> None:
    import os

    if not os.path.exists(path):
        raise FileNotFoundError(path)


@dsl.pipeline(name="retried")
def fails_until_fixed(path: str) -> None:
    exit_task = final_state()
    with dsl.ExitHandler(exit_task):
        needs(path=path)


@dsl.component
def numbers(count: int) -> list:
    return list(range(count))


@dsl.pipeline(name="long-loop")
def long_loop(folder: str, count: int = 2000) -> None:
    with dsl.ParallelFor(numbers(count=count).output, parallelism=2) as item:
        hold(folder=folder, item=item)


@dsl.component
def fails_once(marker: str) -> None:
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("the first attempt fails")


@dsl.pipeline(name="backed-off")
def retried_after_a_pause(marker: str) -> None:
    fails_once(marker=marker).set_retry(num_retries=1, backoff_duration="2s")


@dsl.component
def gated(folder: str, gate: str) -> None:
    """Runs until the file `gate` appears in `folder`."""
    import os
    import time

    while not os.path.exists(os.path.join(folder, gate)):
        time.sleep(0.02)


@dsl.pipeline(name="more-than-slots")
def three_behind_gates(folder: str) -> None:
    for gate in ("a", "b", "c"):
        gated(folder=folder, gate=gate)


def start(api: httpx.Client, pipeline: Any, **parameters: Any) -> str:
    body = {
        "pipeline_spec": compile_to_dict(pipeline),
        "runtime_config": {"parameters": parameters},
    }
    created = api.post("/runs", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["run_id"])


def run_state(api: httpx.Client, run_id: str) -> str:
    return str(api.get(f"/runs/{run_id}", params={"task_details": "false"}).json()["state"])


def ended(api: httpx.Client, run_id: str, state: str) -> None:
    eventually(lambda: run_state(api, run_id) == state, f"the run to be {state}")


def tasks(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/runs/{run_id}/tasks")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["tasks"])


def by_path(api: httpx.Client, run_id: str) -> dict[str, dict[str, Any]]:
    return {t["path"]: t for t in tasks(api, run_id)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_terminate_stops_attempts_gently_runs_the_exit_task_and_leaves_nothing_unfinished(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    run_id = start(api, held_in_a_loop, folder=str(tmp_path))
    pid_files = [tmp_path / "0.pid", tmp_path / "1.pid"]
    eventually(lambda: all(p.exists() for p in pid_files), "two iterations to run")
    pids = [int(p.read_text()) for p in pid_files]

    assert api.post(f"/runs/{run_id}:terminate").status_code == 200
    ended(api, run_id, "CANCELED")

    found = tasks(api, run_id)
    assert [t["path"] for t in found if t["state"] in UNFINISHED] == []
    assert all(t.get("finished_at") for t in found), found
    named = {t["path"].rsplit("/", 1)[-1]: t for t in found if t["kind"] != "dag"}
    loop = next(t for t in found if t["kind"] == "loop")
    group = next(t for t in found if t["path"] == loop["path"].rsplit("/", 1)[0])
    iterations = [t for t in found if t.get("parent_task_id") == loop["task_id"]]
    assert (loop["state"], group["state"]) == ("CANCELED", "CANCELED")
    assert loop["error"] == "2 of 6 iterations ran"
    assert sorted(t["iteration_index"] for t in iterations) == [0, 1]
    assert {t["state"] for t in iterations} == {"CANCELED"}
    stopped = [t for t in found if t["path"].endswith("/hold")]
    assert [(t["state"], t["error"]) for t in stopped] == [
        ("CANCELED", "stopped: the run was terminated")
    ] * 2
    not_run = [t for t in found if t["path"].endswith("/never")]
    assert [(t["state"], t["error"]) for t in not_run] == [
        ("CANCELED", "not run: the run was terminated")
    ] * 2
    # The exit task ran after its group ended, and read how it ended.
    assert named["final-state"]["state"] == "SUCCEEDED"
    assert named["final-state"]["outputs"] == {"Output": "CANCELED"}
    # Each attempt had SIGTERM first (its handler left a mark), and is gone.
    assert (tmp_path / "0.term").exists() and (tmp_path / "1.term").exists()
    eventually(lambda: not any(alive(pid) for pid in pids), "the stopped tasks to end")


def test_an_exit_task_that_overruns_the_bound_is_killed_and_the_run_ends_canceled(
    api: httpx.Client, platform: Platform, tmp_path: Path
) -> None:
    run_id = start(api, slow_cleanup, folder=str(tmp_path))
    driver = RunDriver(  # as a worker drives it, with a short bound on the exit task
        run=platform.store.get_run(run_id),
        store=platform.store,
        artifacts=platform.artifacts,
        executor=platform.executor,
        options=DriverOptions(
            work_root=platform.settings.work_root,
            max_parallel=2,
            poll_seconds=0.1,
            cancel_seconds=4.0,
        ),
    )
    ended: list[Run] = []
    thread = threading.Thread(target=lambda: ended.append(driver.drive()), daemon=True)
    thread.start()
    eventually((tmp_path / "0.pid").exists, "the body task to run")

    terminated = time.monotonic()
    assert api.post(f"/runs/{run_id}:terminate").status_code == 200
    exit_pid = tmp_path / "exit.pid"
    pid, state = eventually(lambda: exit_pid.exists() and exit_pid.read_text().split(), "exit")
    assert state == "CANCELED"
    thread.join(timeout=60)
    assert not thread.is_alive(), "the driver did not end"

    assert ended[0].state == "CANCELED" and run_state(api, run_id) == "CANCELED"
    assert time.monotonic() - terminated < 30
    assert {t["path"]: t["state"] for t in tasks(api, run_id)} == {
        "exit-handler-1": "CANCELED",
        "exit-handler-1/hold": "CANCELED",
        "stay-after": "CANCELED",
    }
    eventually(lambda: not alive(int(pid)), "the exit task to be gone")


def test_retrying_a_failed_run_runs_its_exit_task_again_with_the_new_status(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    needed = tmp_path / "needed"
    run_id = start(api, fails_until_fixed, path=str(needed))
    ended(api, run_id, "FAILED")
    first = by_path(api, run_id)["final-state"]
    assert (first["outputs"], first["attempts"]) == ({"Output": "FAILED"}, 1)

    needed.write_text("")
    assert api.post(f"/runs/{run_id}:retry").status_code == 200
    ended(api, run_id, "SUCCEEDED")

    again = by_path(api, run_id)["final-state"]
    assert (again["state"], again["outputs"], again["attempts"]) == (
        "SUCCEEDED",
        {"Output": "COMPLETE"},
        2,
    )
    (status,) = again["inputs"]["parameters"].values()
    assert status["state"] == "COMPLETE"
    assert when(again["started_at"]) > when(first["finished_at"])


def test_a_live_loop_over_a_task_output_records_all_its_items(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    run_id = start(api, long_loop, folder=str(tmp_path), count=2000)
    eventually(lambda: (tmp_path / "0.pid").exists(), "the first iteration to run")

    found = tasks(api, run_id)
    loop = next(t for t in found if t["kind"] == "loop")
    assert loop["state"] == "RUNNING"
    assert loop["inputs"]["parameters"]["pipelinechannel--numbers-Output"] == list(range(2000))
    assert len([t for t in found if t.get("parent_task_id") == loop["task_id"]]) <= 2

    assert api.post(f"/runs/{run_id}:terminate").status_code == 200
    ended(api, run_id, "CANCELED")
    loop = by_path(api, run_id)[loop["path"]]
    assert (loop["state"], loop["error"]) == ("CANCELED", "2 of 2000 iterations ran")


def test_a_retry_s_back_off_is_not_part_of_a_task_s_duration(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    run_id = start(api, retried_after_a_pause, marker=str(tmp_path / "failed-once"))
    ended(api, run_id, "SUCCEEDED")

    (task,) = tasks(api, run_id)
    assert task["attempts"] == 2
    # The second attempt started after the back-off: the task's time starts there.
    assert when(task["started_at"]) - when(task["created_at"]) >= timedelta(seconds=2)
    assert when(task["finished_at"]) >= when(task["started_at"])
    # Its first attempt's start and the time both attempts ran are kept apart: what is
    # left of first start -> end is the back-off.
    first = when(task["first_started_at"])
    assert first < when(task["started_at"]) - timedelta(seconds=2)
    span = (when(task["finished_at"]) - first).total_seconds()
    last = (when(task["finished_at"]) - when(task["started_at"])).total_seconds()
    assert last < task["ran_seconds"] <= span - 2


def test_a_task_held_for_a_free_slot_starts_its_duration_when_it_runs(
    api: httpx.Client, worker: RunWorker, tmp_path: Path
) -> None:
    run_id = start(api, three_behind_gates, folder=str(tmp_path))  # the server has 2 slots
    (held,) = eventually(
        lambda: [t for t in tasks(api, run_id) if t["state"] == "PENDING"],
        "a task to wait for a slot",
    )
    assert "task slots" in held["error"]
    assert "started_at" not in held and "first_started_at" not in held
    own_gate = held["inputs"]["parameters"]["gate"]

    opened = datetime.now(UTC)
    for gate in {"a", "b", "c"} - {own_gate}:
        (tmp_path / gate).write_text("")
    running = eventually(
        lambda: (
            by_path(api, run_id)[held["path"]]["state"] == "RUNNING"
            and by_path(api, run_id)[held["path"]]
        ),
        "the held task to run",
    )
    # It could only start once one of the others ended, after their gates opened.
    assert when(running["started_at"]) >= opened
    (tmp_path / own_gate).write_text("")
    ended(api, run_id, "SUCCEEDED")
    after = by_path(api, run_id)[held["path"]]
    assert after["started_at"] == running["started_at"] == after["first_started_at"]
    assert when(after["finished_at"]) >= when(after["started_at"])
    ran = (when(after["finished_at"]) - when(after["started_at"])).total_seconds()
    assert 0 < after["ran_seconds"] <= ran + 0.001  # the time it waited for a slot is not in it
