"""The contract every `Executor` keeps, written once and run against each implementation.

`ExecutorContract` is abstract: a subclass named `Test...` provides the `executor` fixture
(see `TestLocalExecutor` at the bottom; a Ray executor adds its own). Tasks are real
processes; where a test needs an order of events it waits on files, never on time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Executor, Launch, Outcome
from dagyard.executors.local import LocalExecutor
from dagyard.runtime.embed import EXECUTOR_INPUT_PLACEHOLDER, lightweight_container

PY = sys.executable
# Deadline for anything that should happen at once; generous for loaded CI machines.
DEADLINE = 20.0
# A child that waits for `path` to exist (or fails after DEADLINE): a gate the test opens.
WAIT_FOR = (
    "import os, sys, time\n"
    "def wait_for(*paths):\n"
    f"    end = time.monotonic() + {DEADLINE}\n"
    "    while not all(os.path.exists(p) for p in paths):\n"
    "        if time.monotonic() > end: sys.exit('gave up waiting for ' + repr(paths))\n"
    "        time.sleep(0.005)\n"
)

IGNORE_SIGTERM = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"


def as_component(code: str, workdir: Path) -> list[str]:
    """A lightweight component's command line (executor input included) that runs `code`
    as `python -c code` would: same output, same exit code."""
    source = (
        "from dagyard.dsl import *\nfrom typing import *\n\n"
        "def snippet() -> None:\n"
        f"    exec(compile({code!r}, '<snippet>', 'exec'), {{'__name__': '__main__'}})\n"
    )
    command, args = lightweight_container(function_source=source, function_name="snippet")
    executor_input = {"outputs": {"outputFile": str(workdir / "executor_output.json")}}
    text = json.dumps(executor_input)
    return [a.replace(EXECUTOR_INPUT_PLACEHOLDER, text) for a in command + args]


def launcher(tmp_path: Path) -> Callable[..., Launch]:
    """Makes launches of `argv`, each with its own workdir and log under `tmp_path`."""
    counter = iter(range(1_000_000))

    def make(argv: Sequence[str], *, env: dict[str, str] | None = None) -> Launch:
        n = next(counter)
        workdir = tmp_path / f"work-{n}"
        workdir.mkdir()
        return Launch(
            task_id=f"task-{n}",
            run_id="run-1",
            attempt=1,
            command=task_command(list(argv)),
            image="python:3.11",
            env=env or {},
            workdir=workdir,
            log_path=tmp_path / "logs" / f"task-{n}" / "attempt-1.log",
        )

    return make


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Block until `condition()` holds; fail after DEADLINE."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.005)


def finish(executor: Executor, handles: Sequence[str]) -> dict[str, Outcome]:
    """Wait for all `handles`, checking that each is reported exactly once."""
    outcomes: dict[str, Outcome] = {}
    end = time.monotonic() + DEADLINE
    while len(outcomes) < len(handles):
        left = [h for h in handles if h not in outcomes]
        batch = executor.wait(left, max(0.0, end - time.monotonic()))
        if not batch:
            pytest.fail(f"timed out waiting for {left}")
        assert not set(batch) & set(outcomes), "a handle was reported twice"
        outcomes.update(batch)
    return outcomes


class ExecutorContract:
    """Behaviour shared by every executor. Subclasses provide the `executor` fixture."""

    @pytest.fixture
    def executor(self) -> Iterator[Executor]:
        raise NotImplementedError

    @pytest.fixture
    def launch(self, tmp_path: Path) -> Callable[..., Launch]:
        return launcher(tmp_path)

    def run(self, executor: Executor, launch: Launch) -> Outcome:
        handle = executor.submit(launch)
        return finish(executor, [handle])[handle]

    def test_success_exits_zero(self, executor: Executor, launch: Callable[..., Launch]) -> None:
        outcome = self.run(executor, launch([PY, "-c", "pass"]))
        assert outcome.exit_code == 0 and outcome.ok and outcome.error is None
        assert outcome.host

    def test_nonzero_exit_code_is_reported(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        outcome = self.run(executor, launch([PY, "-c", "import sys; sys.exit(3)"]))
        assert outcome.exit_code == 3 and not outcome.ok

    def test_stdout_and_stderr_go_to_the_log_in_order(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        code = "import sys\nprint('one')\nprint('two', file=sys.stderr)\nprint('three')"
        task = launch([PY, "-c", code])
        assert self.run(executor, task).ok
        assert task.log_path.read_text() == "one\ntwo\nthree\n"

    def test_log_is_readable_while_the_task_runs(
        self, executor: Executor, launch: Callable[..., Launch], tmp_path: Path
    ) -> None:
        gate = tmp_path / "gate"
        code = f"{WAIT_FOR}print('started')\nwait_for({str(gate)!r})\nprint('finished')"
        task = launch([PY, "-c", code])
        handle = executor.submit(task)
        wait_until(
            lambda: task.log_path.exists() and "started" in task.log_path.read_text(),
            "the first line is in the log",
        )
        assert "finished" not in task.log_path.read_text()
        assert executor.wait([handle], 0) == {}
        gate.touch()
        assert finish(executor, [handle])[handle].ok
        assert task.log_path.read_text() == "started\nfinished\n"

    def test_env_is_passed_on_top_of_the_executors_own(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        code = "import os; print(os.environ['DAGYARD_TEST_VALUE'], 'PATH' in os.environ)"
        task = launch([PY, "-c", code], env={"DAGYARD_TEST_VALUE": "a b=c"})
        assert self.run(executor, task).ok
        assert task.log_path.read_text() == "a b=c True\n"

    def test_task_runs_in_its_workdir(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        task = launch([PY, "-c", "import os; open('here', 'w').write(os.getcwd())"])
        assert self.run(executor, task).ok
        assert Path((task.workdir / "here").read_text()).samefile(task.workdir)

    def test_cancel_stops_the_task_and_its_children(
        self, executor: Executor, launch: Callable[..., Launch], tmp_path: Path
    ) -> None:
        pid_file = tmp_path / "grandchild.pid"
        # The grandchild ignores SIGTERM: it must still not outlive the task.
        grandchild = f"{IGNORE_SIGTERM}time.sleep(60)"
        script = f"{PY} -c '{grandchild}' & echo $! > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}"
        script += "; wait"
        handle = executor.submit(launch(["sh", "-c", script]))
        wait_until(pid_file.exists, "the grandchild has started")
        pid = int(pid_file.read_text())
        assert _alive(pid)
        executor.cancel(handle)
        outcome = finish(executor, [handle])[handle]
        assert outcome.exit_code is None and not outcome.ok
        assert outcome.error and "cancel" in outcome.error
        wait_until(lambda: not _alive(pid), f"the grandchild {pid} is gone")

    def test_many_tasks_run_at_the_same_time(
        self, executor: Executor, launch: Callable[..., Launch], tmp_path: Path
    ) -> None:
        n = 8
        starts = [str(tmp_path / f"started-{i}") for i in range(n)]
        # Each task announces itself, then waits until all have: only concurrency ends it.
        handles = [
            executor.submit(
                launch([PY, "-c", f"{WAIT_FOR}open({start!r}, 'w').close()\nwait_for(*{starts!r})"])
            )
            for start in starts
        ]
        outcomes = finish(executor, handles)
        assert sorted(outcomes) == sorted(handles)
        assert all(o.ok for o in outcomes.values()), outcomes

    def test_missing_binary_cannot_start(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        outcome = self.run(executor, launch(["dagyard-no-such-program-xyz", "--flag"]))
        assert outcome.exit_code is None
        assert outcome.error and "dagyard-no-such-program-xyz" in outcome.error

    def test_wait_timeout_returns_nothing_and_handles_are_reported_once(
        self, executor: Executor, launch: Callable[..., Launch], tmp_path: Path
    ) -> None:
        gate = tmp_path / "gate"
        blocked = executor.submit(launch([PY, "-c", f"{WAIT_FOR}wait_for({str(gate)!r})"]))
        quick = [executor.submit(launch([PY, "-c", "pass"])) for _ in range(3)]
        assert executor.wait([blocked], 0.05) == {}
        outcomes = finish(executor, quick)
        assert all(o.ok for o in outcomes.values())
        assert executor.wait([blocked], 0) == {}
        gate.touch()
        assert finish(executor, [blocked])[blocked].ok
        with pytest.raises(KeyError):
            executor.wait([blocked, *quick], 0)
        assert executor.wait([], None) == {}


def _alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (reaped by whoever adopted it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone, or going as we read
        return False


class TestLocalExecutor(ExecutorContract):
    """Every test runs four ways: with the fork server on and off, and with its Python
    snippets as `python -c` commands or as lightweight components (what the fork server
    starts; other commands it leaves to exec)."""

    @pytest.fixture(params=[True, False], ids=["fork-server", "no-fork-server"])
    def fork_server(self, request: pytest.FixtureRequest) -> bool:
        return bool(request.param)

    @pytest.fixture(params=["python-c", "component"])
    def snippets(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    @pytest.fixture
    def executor(self, fork_server: bool) -> Iterator[Executor]:
        executor = LocalExecutor(kill_grace=2.0, fork_server=fork_server)
        yield executor
        executor.close()

    @pytest.fixture
    def launch(self, tmp_path: Path, snippets: str) -> Callable[..., Launch]:
        make = launcher(tmp_path)
        if snippets == "python-c":
            return make

        def make_component(argv: Sequence[str], *, env: dict[str, str] | None = None) -> Launch:
            task = make(argv, env=env)
            if list(argv[:2]) != [PY, "-c"]:
                return task
            return dataclasses.replace(
                task, command=task_command(as_component(argv[2], task.workdir))
            )

        return make_component

    def test_killed_by_a_signal_has_no_exit_code(
        self, executor: Executor, launch: Callable[..., Launch]
    ) -> None:
        outcome = self.run(executor, launch(["sh", "-c", "kill -KILL $$"]))
        assert outcome == Outcome(None, "killed by signal 9", os.uname().nodename)

    def test_a_task_ignoring_sigterm_is_killed_after_the_grace_period(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        ready = tmp_path / "ready"
        code = f"{IGNORE_SIGTERM}open({str(ready)!r}, 'w').close()\ntime.sleep(60)"
        executor = LocalExecutor(kill_grace=0.2, fork_server=fork_server)
        try:
            handle = executor.submit(launch([PY, "-c", code]))
            wait_until(ready.exists, "the task ignores SIGTERM")
            executor.cancel(handle)
            assert executor.wait([handle], 0.05) == {}  # still in its grace period
            assert finish(executor, [handle])[handle].error == "cancelled (killed by signal 9)"
        finally:
            executor.close()

    def test_capacity_defaults_to_the_cpu_count(self) -> None:
        assert LocalExecutor().capacity == (os.cpu_count() or 1)
        assert LocalExecutor(max_workers=3).capacity == 3

    def test_close_stops_running_tasks_and_refuses_new_ones(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        ready = tmp_path / "ready"
        executor = LocalExecutor(fork_server=fork_server)
        handle = executor.submit(launch(["sh", "-c", f"touch {ready}; exec sleep 60"]))
        wait_until(ready.exists, "the task runs")
        executor.close()
        assert executor.wait([handle], 0)[handle].error == "cancelled (killed by signal 15)"
        with pytest.raises(Exception, match="closed"):
            executor.submit(launch(["true"]))

    def test_a_runs_slots_hold_its_extra_attempts_until_one_ends(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        gates = [tmp_path / f"gate-{i}" for i in range(3)]
        started = [tmp_path / f"started-{i}" for i in range(3)]
        executor = LocalExecutor(fork_server=fork_server, hold_reported_after=0)
        try:
            handles = [
                executor.submit(
                    dataclasses.replace(
                        launch(
                            [
                                PY,
                                "-c",
                                f"{WAIT_FOR}open({str(s)!r}, 'w').close()\nwait_for({str(g)!r})",
                            ]
                        ),
                        slots=2,
                    )
                )
                for s, g in zip(started, gates, strict=True)
            ]
            other_run = executor.submit(  # another run's slots are its own
                dataclasses.replace(launch(["true"]), run_id="run-2", slots=2)
            )
            assert finish(executor, [other_run])[other_run].ok
            wait_until(lambda: started[0].exists() and started[1].exists(), "two run")
            wait_until(lambda: handles[2] in executor.waiting(handles), "the third is held")
            assert executor.waiting(handles) == {
                handles[2]: "Waiting for one of its run's 2 task slots."
            }
            assert not started[2].exists()
            gates[0].touch()  # the first ends: the third starts in its slot
            wait_until(started[2].exists, "the held attempt starts")
            assert executor.waiting(handles) == {}
            for gate in gates[1:]:
                gate.touch()
            assert all(o.ok for o in finish(executor, handles).values())
        finally:
            executor.close()

    def test_with_one_slot_held_attempts_run_one_after_another(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        # Each attempt appends its start and end to one file: with one slot, and two held
        # at each end, no start may come between another attempt's start and end.
        trace = tmp_path / "trace"
        code = (
            "import os, time\n"
            "def say(word):\n"
            f"    fd = os.open({str(trace)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
            "    os.write(fd, f'{word} {os.environ[\"N\"]}\\n'.encode())\n"
            "    os.close(fd)\n"
            "say('start')\n"
            "time.sleep(0.05)\n"
            "say('end')\n"
        )
        executor = LocalExecutor(fork_server=fork_server)
        try:
            handles = [
                executor.submit(
                    dataclasses.replace(launch([PY, "-c", code], env={"N": str(i)}), slots=1)
                )
                for i in range(4)
            ]
            assert all(o.ok for o in finish(executor, handles).values())
        finally:
            executor.close()
        lines = trace.read_text().split()
        starts, ends = lines[0::4], lines[2::4]
        assert starts == ["start"] * 4 and ends == ["end"] * 4
        assert lines[1::4] == lines[3::4]  # each start is followed by the same one's end
        assert sorted(lines[1::4]) == ["0", "1", "2", "3"]

    def test_close_reports_held_attempts_as_never_started(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        started, never = tmp_path / "started", tmp_path / "never"
        executor = LocalExecutor(fork_server=fork_server, hold_reported_after=0)
        first = executor.submit(
            dataclasses.replace(launch(["sh", "-c", f"touch {started}; exec sleep 60"]), slots=1)
        )
        held = executor.submit(dataclasses.replace(launch(["sh", "-c", f"touch {never}"]), slots=1))
        wait_until(started.exists, "the first runs")
        wait_until(lambda: held in executor.waiting([held]), "the second is held")
        executor.close()
        outcomes = executor.wait([first, held], 0)
        assert outcomes[held].error == "cancelled before it started"
        assert outcomes[first].error == "cancelled (killed by signal 15)"
        assert not never.exists()

    def test_a_held_attempt_cancelled_never_starts(
        self, launch: Callable[..., Launch], tmp_path: Path, fork_server: bool
    ) -> None:
        gate, started, never = tmp_path / "gate", tmp_path / "started", tmp_path / "never"
        executor = LocalExecutor(fork_server=fork_server, hold_reported_after=0)
        try:
            code = f"{WAIT_FOR}open({str(started)!r}, 'w').close()\nwait_for({str(gate)!r})"
            first = executor.submit(dataclasses.replace(launch([PY, "-c", code]), slots=1))
            held = executor.submit(
                dataclasses.replace(launch(["sh", "-c", f"touch {never}"]), slots=1)
            )
            wait_until(started.exists, "the first runs")
            wait_until(lambda: held in executor.waiting([held]), "the second is held")
            executor.cancel(held)
            assert finish(executor, [held])[held].error == "cancelled before it started"
            gate.touch()
            assert finish(executor, [first])[first].ok
            assert not never.exists()
        finally:
            executor.close()
