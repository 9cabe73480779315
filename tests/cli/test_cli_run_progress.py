"""What `dagyard run` prints off a terminal (a CI log): a line per task state change as
it happens, the log of a failed task at once, a summary, and with `--follow` each
task's output as it comes; then `dagyard runs logs --local` reading the home without a
server. Real child processes, their output read from pipes and files."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from dagyard.cli import exit_codes

DAGYARD = [sys.executable, "-m", "dagyard"]
PIPELINES = Path(__file__).resolve().parents[1] / "pipelines" / "run_cli.py"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"

GATED = """
from dagyard import dsl

@dsl.component
def chatty(gate: str) -> str:
    import os, sys, time
    print("waiting for the gate", flush=True)
    print("on stderr too", file=sys.stderr, flush=True)
    while not os.path.exists(gate):
        time.sleep(0.02)
    print("through the gate", end="")
    return "done"

@dsl.pipeline(name="gated")
def gated(gate: str) -> str:
    return chatty(gate=gate).output
"""


def dagyard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    return subprocess.run(
        [*DAGYARD, *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def wait_until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.01)


class Lines:
    """The lines of a child's pipe as they come, read by a thread (a select on the pipe
    would miss lines already buffered by an earlier read)."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put("")  # the end

    def next(self, timeout: float = 60) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"No line within {timeout} s.") from None

    def rest(self) -> str:
        self._thread.join(60)
        return "".join(iter(self._lines.get_nowait, ""))


def test_follow_streams_task_output_while_the_task_runs(tmp_path: Path) -> None:
    source = tmp_path / "gated.py"
    source.write_text(GATED)
    gate = tmp_path / "gate"
    progress = tmp_path / "stderr.txt"
    env = {**os.environ, "DAGYARD_HOME": str(tmp_path / "home")}
    with open(progress, "w") as err:
        process = subprocess.Popen(
            [*DAGYARD, "run", str(source), "--follow", "-p", f"gate={gate}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert process.stdout is not None
        out = Lines(process.stdout)
        # Both lines come while the task still waits: streamed, not printed at the end.
        first = {out.next(), out.next()}
        assert first == {"chatty | waiting for the gate\n", "chatty | on stderr too\n"}
        wait_until(lambda: "chatty RUNNING attempt 1" in progress.read_text(), "RUNNING")
        assert process.poll() is None
        assert "SUCCEEDED" not in progress.read_text()

        gate.touch()
        process.wait(timeout=60)
        rest = out.rest()
        process.stdout.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == exit_codes.SUCCESS
    # The last line had no newline: it is printed whole once the task has ended.
    assert rest.splitlines() == ["chatty | through the gate", '{"Output": "done"}']
    lines = progress.read_text().splitlines()
    assert re.fullmatch(f"{STAMP} chatty RUNNING attempt 1", lines[1]), lines
    assert re.fullmatch(f"{STAMP} chatty SUCCEEDED attempt 1", lines[2]), lines


def test_off_a_terminal_each_change_is_a_line_and_a_failed_tasks_log_is_named(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    gate = tmp_path / "gate"
    options = f"--function flaky -p ledger={tmp_path / 'ledger'} -p gate={gate}"
    done = dagyard("run", str(PIPELINES), *options.split(), home=home)
    assert done.returncode == exit_codes.RUN_NOT_SUCCEEDED, done.stderr
    run_id = done.stderr.splitlines()[0].removeprefix("run ")
    assert re.fullmatch("[0-9a-f]{32}", run_id)
    lines = done.stderr.splitlines()
    assert any(re.fullmatch(f"{STAMP} step SUCCEEDED attempt 1", line) for line in lines)
    assert any(re.fullmatch(f"{STAMP} step-3 SKIPPED", line) for line in lines)
    (failed,) = [line for line in lines if " fragile FAILED" in line]
    log = Path(failed.split(", log: ")[1])
    assert log.is_file() and f"the gate {gate} is closed" in log.read_text()
    assert lines[lines.index(failed) + 1] == f"  RuntimeError: the gate {gate} is closed"
    # No line of a console's width: a CI log gets whole lines.
    summary = next(line for line in lines if line.startswith(f"Run {run_id} "))
    assert re.fullmatch(
        rf"Run {run_id} FAILED in \d+\.\d s: 4 tasks \(1 failed, 1 skipped, 2 succeeded\)\.",
        summary,
    )
    where = f"Logs are under {home / 'artifacts' / run_id}; print one with "
    assert f"{where}`dagyard runs logs --local {run_id} TASK`." in lines

    printed = dagyard("runs", "logs", "--local", run_id, "fragile", home=home)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == log.read_text()
    # The start of the id is enough in the home.
    assert dagyard("runs", "logs", "--local", run_id[:6], "fragile", home=home).stdout == (
        printed.stdout
    )


def test_a_cached_task_says_it_came_from_the_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = ("run", str(PIPELINES), "--function", "squares", "-p", "n=2")
    assert dagyard(*source, home=home).returncode == 0
    again = dagyard(*source, home=home)
    assert again.returncode == 0, again.stderr
    assert any(
        re.fullmatch(f"{STAMP} total CACHED \\(from the cache\\)", line)
        for line in again.stderr.splitlines()
    ), again.stderr
    assert ": 4 tasks (4 cached)." in again.stderr


def test_runs_logs_local_follows_a_run_in_progress_and_exits_2_on_unknown_ids(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    source = tmp_path / "gated.py"
    source.write_text(GATED)
    gate = tmp_path / "gate"
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    with subprocess.Popen(
        [*DAGYARD, "run", str(source), "-p", f"gate={gate}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as runner:
        try:
            assert runner.stderr is not None
            run_id = Lines(runner.stderr).next().split()[1]
            with subprocess.Popen(
                [*DAGYARD, "runs", "logs", "--local", run_id, "chatty", "-f"],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            ) as follower:
                try:
                    assert follower.stdout is not None
                    followed = Lines(follower.stdout)
                    first = followed.next()
                    assert first in ("waiting for the gate\n", "on stderr too\n")
                    gate.touch()
                    follower.wait(timeout=60)
                    rest = followed.rest()
                finally:
                    if follower.poll() is None:
                        follower.kill()
            assert follower.returncode == 0
            assert rest.endswith("through the gate")
            assert runner.wait(timeout=60) == 0
        finally:
            if runner.poll() is None:
                runner.kill()

    unknown = dagyard("runs", "logs", "--local", "0000000", "chatty", home=home)
    assert unknown.returncode == exit_codes.BAD_INPUT
    assert "No run has an id that starts with '0000000'" in unknown.stderr
    no_task = dagyard("runs", "logs", "--local", run_id, "nothing", home=home)
    assert no_task.returncode == exit_codes.BAD_INPUT
    assert "has no task (node) 'nothing'" in no_task.stderr
