"""The life of one attempt on the host that runs it (`executors/lifecycle.py`), written
once and lived two ways: in this process, as the local executor lives it, and inside a
Ray task on a real Ray cluster, as the Ray executor does.

`AttemptLifeContract` is abstract: a subclass provides `live`, which starts a launch and
returns a handle to cancel it and to wait for its outcome. Object-store cases use the
real S3-compatible server of tests/conftest.py; where a test needs an order of events it
waits on files or stored objects, never on time.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest
from ray_cluster import ray_cluster
from test_executor_contract import DEADLINE, IGNORE_SIGTERM, WAIT_FOR, _alive, wait_until
from test_local_environments import TINY, ours, tiny_wheel

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Launch, Outcome
from dagyard.executors.environments import EnvironmentCache
from dagyard.executors.lifecycle import Attempt, Host
from dagyard.executors.ray_attempt import run_attempt
from dagyard.executors.staging import Staging
from dagyard.store.artifact_store import open_url

PY = sys.executable
GRACE = 0.5


class Running(Protocol):
    def cancel(self) -> None: ...

    def outcome(self) -> Outcome:
        """Block until the attempt has ended (fail after DEADLINE); how it ended."""
        ...


def make_launch(root: Path, argv: Sequence[str], staging: Staging | None = None) -> Launch:
    root.mkdir(parents=True, exist_ok=True)
    return Launch(
        task_id=root.name,
        run_id="run-1",
        attempt=1,
        command=task_command(list(argv)),
        image="python:3.11",
        env={},
        workdir=root / "work",  # made by the attempt, as on a fresh cluster host
        log_path=root / "logs" / "attempt-1.log",
        staging=staging or Staging(),
    )


def stored(uri: str) -> bytes | None:
    fs, path = open_url(uri)
    return fs.cat_file(path) if fs.exists(path) else None


def store(uri: str, data: bytes) -> None:
    fs, path = open_url(uri)
    fs.pipe_file(path, data)


class AttemptLifeContract:
    """What an attempt does on its host, wherever it was placed."""

    @pytest.fixture
    def live(self) -> Callable[[Launch], Running]:
        raise NotImplementedError

    def test_success_stages_inputs_in_and_outputs_out_to_the_store(
        self, live: Callable[[Launch], Running], tmp_path: Path, s3_root: str
    ) -> None:
        store(f"{s3_root}/in/data.txt", b"hello")
        local_in, local_out = tmp_path / "files" / "in.txt", tmp_path / "files" / "out" / "o.txt"
        code = (
            f"text = open({str(local_in)!r}).read()\n"
            f"open({str(local_out)!r}, 'w').write(text.upper())\n"
            "print('done')"
        )
        staging = Staging(
            downloads=((f"{s3_root}/in/data.txt", str(local_in)),),
            uploads=((str(local_out), f"{s3_root}/out/o.txt"),),
            log_uri=f"{s3_root}/logs/attempt-1.log",
        )
        outcome = live(make_launch(tmp_path / "t", [PY, "-c", code], staging)).outcome()
        assert outcome.ok, outcome
        assert stored(f"{s3_root}/out/o.txt") == b"HELLO"
        assert stored(f"{s3_root}/logs/attempt-1.log") == b"done\n"

    def test_a_local_root_is_staging_with_nothing_to_copy(
        self, live: Callable[[Launch], Running], tmp_path: Path
    ) -> None:
        task = make_launch(tmp_path / "t", [PY, "-c", "open('here', 'w').write('x'); print(1)"])
        outcome = live(task).outcome()
        assert outcome.ok and outcome.error is None
        assert (task.workdir / "here").read_text() == "x"
        assert task.log_path.read_text() == "1\n"

    def test_a_failing_command_reports_its_exit_code_and_uploads_only_its_log(
        self, live: Callable[[Launch], Running], tmp_path: Path, s3_root: str
    ) -> None:
        out = tmp_path / "files" / "o.txt"
        staging = Staging(
            uploads=((str(out), f"{s3_root}/out/o.txt"),),
            log_uri=f"{s3_root}/logs/failed.log",
        )
        script = f"echo partial > {out}; echo oops >&2; exit 3"
        task = make_launch(tmp_path / "t", ["sh", "-c", script], staging)
        outcome = live(task).outcome()
        assert outcome.exit_code == 3 and not outcome.ok and outcome.error is None
        assert task.log_path.read_text() == "oops\n"
        assert stored(f"{s3_root}/logs/failed.log") == b"oops\n"
        assert stored(f"{s3_root}/out/o.txt") is None

    def test_a_command_that_cannot_start_says_why_in_its_log(
        self, live: Callable[[Launch], Running], tmp_path: Path
    ) -> None:
        task = make_launch(tmp_path / "t", ["dagyard-no-such-program-xyz"])
        outcome = live(task).outcome()
        assert outcome.exit_code is None
        assert outcome.error and "dagyard-no-such-program-xyz" in outcome.error
        assert "dagyard: Cannot start 'dagyard-no-such-program-xyz'" in task.log_path.read_text()

    def test_cancel_kills_every_descendant(
        self, live: Callable[[Launch], Running], tmp_path: Path
    ) -> None:
        pid_file = tmp_path / "grandchild.pid"
        # The grandchild ignores SIGTERM and leaves the child's group: it must still go.
        grandchild = f"{IGNORE_SIGTERM}time.sleep(60)"
        script = (
            f"{PY} -c '{grandchild}' & echo $! > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; wait"
        )
        running = live(make_launch(tmp_path / "t", ["sh", "-c", script]))
        wait_until(pid_file.exists, "the grandchild has started")
        pid = int(pid_file.read_text())
        assert _alive(pid)
        running.cancel()
        outcome = running.outcome()
        assert outcome.exit_code is None and outcome.error and "cancel" in outcome.error
        wait_until(lambda: not _alive(pid), f"the grandchild {pid} is gone")

    def test_an_attempt_ignoring_sigterm_is_killed_when_its_grace_runs_out(
        self, live: Callable[[Launch], Running], tmp_path: Path
    ) -> None:
        ready, pid_file = tmp_path / "ready", tmp_path / "pid"
        code = (
            f"{IGNORE_SIGTERM}import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            f"open({str(ready)!r}, 'w').close()\ntime.sleep(60)"
        )
        running = live(make_launch(tmp_path / "t", [PY, "-c", code]))
        wait_until(ready.exists, "the attempt ignores SIGTERM")
        pid = int(pid_file.read_text())
        running.cancel()
        outcome = running.outcome()
        assert outcome.exit_code is None and outcome.error and "cancel" in outcome.error
        wait_until(lambda: not _alive(pid), f"the attempt {pid} is gone")

    def test_the_log_is_shipped_to_an_object_store_while_it_runs_and_at_its_end(
        self, live: Callable[[Launch], Running], tmp_path: Path, s3_root: str
    ) -> None:
        gate, uri = tmp_path / "gate", f"{s3_root}/logs/live.log"
        code = f"{WAIT_FOR}print('started')\nwait_for({str(gate)!r})\nprint('finished')"
        staging = Staging(log_uri=uri, log_interval=0.05)
        running = live(make_launch(tmp_path / "t", [PY, "-c", code], staging))
        wait_until(lambda: stored(uri) == b"started\n", "the first line is in the store")
        gate.touch()
        assert running.outcome().ok
        assert stored(uri) == b"started\nfinished\n"

    def test_a_python_function_needing_packages_gets_an_environment_built(
        self, live: Callable[[Launch], Running], tmp_path: Path, environments: Path
    ) -> None:
        requirement = f"{TINY} @ {tiny_wheel(tmp_path / 'wheels').as_uri()}"
        task = ours(tmp_path / "t", [requirement])
        outcome = live(task.launch).outcome()
        assert outcome.ok, task.log
        python, value, cli, isolated = task.output().split("|")
        assert Path(python).is_relative_to(environments)
        assert (value, cli, isolated) == ("tiny", "cli", "True")
        assert "building the Python environment" in task.log


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of virtual environments for a module's attempts (as a host keeps one)."""
    return tmp_path_factory.mktemp("envs")


class _OnAThread:
    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._ended: list[Outcome] = []
        self._thread = threading.Thread(target=lambda: self._ended.append(attempt.run()))
        self._thread.start()

    def cancel(self) -> None:
        self._attempt.cancel()

    def outcome(self) -> Outcome:
        self._thread.join(DEADLINE)
        if not self._ended:
            pytest.fail("the attempt did not end in time")
        return self._ended[0]


class TestInThisProcess(AttemptLifeContract):
    """As the local executor lives an attempt: on a thread, forked or spawned."""

    @pytest.fixture(params=[True, False], ids=["fork-server", "no-fork-server"])
    def host(self, request: pytest.FixtureRequest, environments: Path) -> Iterator[Host]:
        host = Host(
            name="this-host",
            environments=lambda: EnvironmentCache(environments),
            kill_grace=GRACE,
            fork_server=bool(request.param),
        )
        yield host
        host.close()

    @pytest.fixture
    def live(self, host: Host) -> Callable[[Launch], Running]:
        return lambda launch: _OnAThread(Attempt(host, launch))


class _InARayTask:
    def __init__(self, ray: Any, remote: Any, launch: Launch, environments: Path) -> None:
        self._ray = ray
        self._ref = remote.remote(launch, str(environments), GRACE)

    def cancel(self) -> None:
        self._ray.cancel(self._ref, force=False)

    def outcome(self) -> Outcome:
        try:
            outcome: Outcome = self._ray.get(self._ref, timeout=DEADLINE)
        except self._ray.exceptions.TaskCancelledError:
            return Outcome(exit_code=None, error="cancelled")
        return outcome


@pytest.fixture(scope="module")
def remote(s3_endpoint: str) -> Iterator[Any]:
    """`run_attempt` as a Ray task on a one-host Ray cluster, started after the S3 server
    so that the host gets its AWS variables, as real hosts get theirs."""
    import ray

    with ray_cluster({"head": {}}):
        yield ray.remote(max_retries=0, num_cpus=0)(run_attempt)


@pytest.mark.slow
class TestInARayTask(AttemptLifeContract):
    """As the Ray executor lives an attempt: the body of a Ray task on a cluster host."""

    @pytest.fixture
    def live(self, remote: Any, environments: Path) -> Callable[[Launch], Running]:
        import ray

        return lambda launch: _InARayTask(ray, remote, launch, environments)
