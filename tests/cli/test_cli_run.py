"""`dagyard run` and `dagyard runs resume|retry|why`, run as a user runs them: real child
processes against a DAGYARD_HOME in a temporary folder, checked through their exit codes,
their output and the database they leave behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dagyard.compiler import Compiler
from dagyard.compiler.pipeline_file import load_pipeline
from dagyard.store.records import Run, RunState, Task, TaskState
from dagyard.store.sql import default_database_url, open_store

DAGYARD = [sys.executable, "-m", "dagyard.cli"]
PIPELINES = Path(__file__).resolve().parents[1] / "pipelines" / "run_cli.py"
TASK_FIELDS = {
    "path",
    "name",
    "kind",
    "state",
    "attempts",
    "cache_hit",
    "start_time",
    "end_time",
    "error",
}


def dagyard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    return subprocess.run(
        [*DAGYARD, *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def run_json(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = dagyard("run", *args, "--json", home=home)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def words(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces (the console wraps)."""
    return " ".join(text.split())


def stored_runs(home: Path) -> list[Run]:
    if not (home / "dagyard.db").exists():
        return []
    store = open_store(default_database_url(home))
    try:
        return store.list_runs()
    finally:
        store.close()


def stored_tasks(home: Path, run_id: str) -> dict[str, Task]:
    store = open_store(default_database_url(home))
    try:
        return {t.path: t for t in store.list_tasks(run_id)}
    finally:
        store.close()


def by_path(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["path"]: task for task in record["tasks"]}


def test_compiled_yaml_runs_and_json_prints_the_run_record(tmp_path: Path) -> None:
    compiled = tmp_path / "squares.yaml"
    Compiler().compile(load_pipeline(PIPELINES, "squares"), compiled)

    code, record = run_json(tmp_path / "home", str(compiled), "-p", "n=10")

    assert code == 0
    assert record["state"] == "SUCCEEDED"
    assert record["outputs"] == {"Output": 385}
    assert record["error"] is None
    (run,) = stored_runs(tmp_path / "home")
    assert record["run_id"] == run.run_id and run.state == RunState.SUCCEEDED
    tasks = by_path(record)
    assert all(set(task) == TASK_FIELDS for task in tasks.values())
    squares = [t for t in tasks.values() if t["name"] == "square"]
    assert len(squares) == 10
    for task in [tasks["numbers"], tasks["total"], *squares]:
        assert task["kind"] == "container"
        assert (task["state"], task["attempts"], task["cache_hit"], task["error"]) == (
            "SUCCEEDED",
            1,
            False,
            None,
        )
        start = datetime.fromisoformat(task["start_time"])
        assert start <= datetime.fromisoformat(task["end_time"])
    assert tasks["for-loop-1"]["kind"] == "loop"


def test_py_pipeline_hits_the_cache_unless_told_not_to_and_why_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = (str(PIPELINES), "--function", "squares", "-p", "n=3")
    code, first = run_json(home, *source)
    assert code == 0 and first["outputs"] == {"Output": 14}

    code, second = run_json(home, *source)
    assert code == 0 and second["outputs"] == {"Output": 14}
    assert by_path(second)["total"]["state"] == "CACHED"
    assert by_path(second)["total"]["cache_hit"] is True
    why = dagyard("runs", "why", second["run_id"], "total", home=home)
    assert why.returncode == 0, why.stderr
    assert words(why.stdout).startswith(
        f"total: hit: same fingerprint as task total of run {first['run_id']}"
    )

    code, uncached = run_json(home, *source, "--no-cache")
    assert code == 0 and uncached["outputs"] == {"Output": 14}
    containers = [t for t in uncached["tasks"] if t["kind"] == "container"]
    assert {(t["state"], t["cache_hit"]) for t in containers} == {("SUCCEEDED", False)}
    reason = stored_tasks(home, uncached["run_id"])["total"].cache_reason
    assert reason == "miss: caching is disabled for this run"

    code, stale = run_json(home, *source, "--max-cache-staleness", "0")
    assert code == 0 and by_path(stale)["total"]["state"] == "SUCCEEDED"
    why = dagyard("runs", "why", stale["run_id"], "total", home=home)
    assert why.returncode == 0, why.stderr
    assert "total: miss: the last match" in words(why.stdout)
    assert "is older than the maximum staleness of 0 s" in words(why.stdout)


def test_parameters_are_typed_from_the_command_line(tmp_path: Path) -> None:
    code, record = run_json(
        tmp_path / "home",
        str(PIPELINES),
        "--function",
        "typed",
        "-p",
        "count=3",
        "-p",
        "ratio=2.5",
        "-p",
        "flag=true",
        "-p",
        "items=[1, 2]",
        "-p",
        'mapping={"a": 1}',
        "-p",
        "text=42",
    )
    assert code == 0, record
    assert record["outputs"] == {
        "Output": "int=3 float=2.5 bool=True list=[1, 2] dict={'a': 1} str='42'"
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--function", "squares", "-p", "n=abc"],
            "Parameter 'n' must be an integer; 'abc' is not valid JSON",
        ),
        (
            ["--function", "squares", "-p", "n=2.5"],
            "Parameter 'n' must be an integer; got 2.5.",
        ),
        (
            ["--function", "squares", "-p", "size=3"],
            "Unknown pipeline parameter 'size'; the pipeline takes: n.",
        ),
        (["--function", "squares", "-p", "n"], "Parameter 'n' must look like NAME=VALUE."),
        (
            ["--function", "flaky", "-p", "ledger=x"],
            "Parameter 'gate' (STRING) is required and has no default; pass it with -p gate=VALUE.",
        ),
        (
            [],
            "defines 4 pipelines (blocking, flaky, squares, typed); pick one with --function",
        ),
    ],
    ids=["not-json", "not-integer", "unknown", "no-equals", "missing", "no-function"],
)
def test_bad_parameters_exit_2_with_a_message_and_no_run(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = dagyard("run", str(PIPELINES), *args, home=tmp_path / "home")
    assert done.returncode == 2, done.stderr
    assert message in words(done.stderr)
    assert "Traceback" not in done.stderr
    assert stored_runs(tmp_path / "home") == []


def test_failed_run_exits_1_and_retry_reruns_only_what_failed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger = tmp_path / "ledger"
    gate = tmp_path / "gate"
    done = dagyard(
        "run",
        str(PIPELINES),
        "--function",
        "flaky",
        "-p",
        f"ledger={ledger}",
        "-p",
        f"gate={gate}",
        home=home,
    )
    assert done.returncode == 1, done.stderr
    (run,) = stored_runs(home)
    assert f"Run {run.run_id} FAILED" in words(done.stderr)
    assert f"the gate {gate} is closed" in words(done.stderr)
    tasks = stored_tasks(home, run.run_id)
    assert tasks["fragile"].state == TaskState.FAILED
    assert tasks["step-3"].state == TaskState.SKIPPED
    assert Counter(ledger.read_text().split()) == {"first": 1, "side": 1, "fragile": 1}

    resumed = dagyard("runs", "resume", run.run_id, home=home)
    assert resumed.returncode == 2
    assert "only an unfinished run can be resumed" in words(resumed.stderr)

    gate.touch()
    retried = dagyard("runs", "retry", run.run_id, "--json", home=home)
    assert retried.returncode == 0, retried.stderr
    record = json.loads(retried.stdout)
    assert (record["run_id"], record["state"]) == (run.run_id, "SUCCEEDED")
    assert record["outputs"] == {"Output": "through"}
    assert by_path(record)["fragile"]["attempts"] == 2
    assert by_path(record)["step"]["attempts"] == 1  # "first": kept, not run again
    counts = Counter(ledger.read_text().split())
    assert counts == {"first": 1, "side": 1, "fragile": 2, "through": 1}


def test_a_run_the_engine_cannot_drive_is_recorded_failed_shown_and_exits_1(
    tmp_path: Path,
) -> None:
    # As a killed process leaves a run (RUNNING, a task RUNNING), with a stored spec the
    # engine cannot plan: a fault of the engine's, met once driving has begun.
    home = tmp_path / "home"
    done = dagyard("run", str(PIPELINES), "--function", "squares", "-p", "n=2", home=home)
    assert done.returncode == 0, done.stderr
    (run,) = stored_runs(home)
    store = open_store(default_database_url(home))
    try:
        task = next(iter(store.list_tasks(run.run_id)))
        store.update_task(task.task_id, state=TaskState.RUNNING)
        store.update_run(
            run.run_id, state=RunState.RUNNING, pipeline_spec={"pipelineInfo": {"name": "x"}}
        )
    finally:
        store.close()
    resumed = dagyard("runs", "resume", run.run_id, "--json", home=home)
    assert resumed.returncode == 1, resumed.stderr
    record = json.loads(resumed.stdout)
    assert (record["run_id"], record["state"]) == (run.run_id, "FAILED")
    assert record["error"].startswith("engine error: ")
    assert "error:" in resumed.stderr
    assert all(t["state"] not in ("RUNNING", "PENDING") for t in record["tasks"])
    assert stored_tasks(home, run.run_id)[task.path].state == TaskState.CANCELED


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _wait_until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.01)


def test_ctrl_c_cancels_the_run_and_stops_its_task(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pid_file = tmp_path / "task.pid"
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    log = tmp_path / "dagyard.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *DAGYARD,
                "run",
                str(PIPELINES),
                "--function",
                "blocking",
                "-p",
                f"pid_file={pid_file}",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until(lambda: pid_file.exists() or process.poll() is not None, "the task")
        assert process.poll() is None, log.read_text()
        task_pid = int(pid_file.read_text())
        assert _alive(task_pid)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert "canceled" in log.read_text()
    (run,) = stored_runs(home)
    assert run.state == RunState.CANCELED
    assert stored_tasks(home, run.run_id)["block"].state == TaskState.CANCELED
    _wait_until(lambda: not _alive(task_pid), "the task process to end", timeout=10)
