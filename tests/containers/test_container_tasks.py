"""Tasks run in their image with the real Podman: kfp-compiled pipelines (and one of
Dagyard's) whose tasks can only succeed inside the tests' tool image, run by Dagyard's
engine in this process or by `dagyard run` as a child process.

What a KFP pod gives a task, checked here: its image's files and programs, its own
variables and not the host's, its exit code and stderr, its image had before anything
runs, its memory limit; and that no container outlives its task, however the task ends
(cancelled, timed out, the process that ran it killed with SIGKILL). Then the other
modes: lightweight components in their image (DAGYARD_TASK_ISOLATION=image), no runtime
(off, or auto with none on PATH), and `dagyard doctor`.

The pipelines are in tests/pipelines/container_tasks.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from containers.images import MARKER_PATH, MARKER_TEXT, TOOL_IMAGE, ensure_image, podman
from kfp import compiler as kfp_compiler

from dagyard.compiler import Compiler
from dagyard.service import logs, runs, secrets
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState, ValuesKind
from dagyard.store.sql import default_database_url, open_store
from tests.pipelines import container_tasks as pipelines

pytestmark = [pytest.mark.kfp, pytest.mark.slow]

DAGYARD = Path(sys.executable).with_name("dagyard")
# Well under the 300 s that the sleeping tasks would take if nothing stopped them.
DEADLINE = 60.0


@pytest.fixture(scope="module")
def podman_path(pytestconfig: pytest.Config) -> str:
    ensure_image(TOOL_IMAGE, config=pytestconfig)
    return podman()


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory, podman_path: str) -> Iterator[Path]:
    """The folder of this module's Dagyard homes; no container mounting anything in it
    is left when the module ends, whatever failed."""
    folder = tmp_path_factory.mktemp("homes")
    yield folder
    for name in _containers(under=folder):
        subprocess.run(
            [podman_path, "rm", "--force", "--time", "0", name], capture_output=True, check=False
        )


@contextmanager
def _open(home: Path, **settings: Any) -> Iterator[Platform]:
    opened = Platform.open(Settings(home=home, **settings))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def platform(homes: Path, podman_path: str) -> Iterator[Platform]:
    """Container components in their image, with Podman."""
    with _open(homes / "podman", container_runtime=podman_path, max_parallel=4) as opened:
        yield opened


@pytest.fixture(scope="module")
def image_platform(homes: Path, podman_path: str) -> Iterator[Platform]:
    """Lightweight components in their image too."""
    with _open(homes / "image", container_runtime=podman_path, task_isolation="image") as opened:
        yield opened


def _kfp_spec(pipeline: Any, folder: Path) -> dict[str, Any]:
    path = folder / f"{pipeline.name}.yaml"
    kfp_compiler.Compiler().compile(pipeline, str(path))
    return runs.load_pipeline_spec(path)


def _run(platform: Platform, spec: dict[str, Any]) -> tuple[Run, dict[str, Task]]:
    submitted = runs.submit_run(platform, spec)
    run = runs.drive_run(platform, submitted.run_id)
    return run, _tasks(platform, run.run_id)


def _tasks(platform: Platform, run_id: str) -> dict[str, Task]:
    return {t.name: t for t in platform.store.list_tasks(run_id) if t.path}


def _log(platform: Platform, task: Task) -> str:
    return logs.read_log(platform, task.run_id, task.task_id).text


def _containers(*, under: Path | None = None, prefix: str = "dagyard-") -> list[str]:
    """Names of the containers Podman has (any state) whose name starts with `prefix`
    and, given `under`, that mount a folder in it (a task's are mounted at their host
    paths, so a Dagyard home's tasks mount folders in it)."""
    listed = subprocess.run(
        [podman(), "ps", "--all", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    names = []
    for container in json.loads(listed.stdout or "[]"):
        name = container["Names"][0]
        mounts = container.get("Mounts") or []
        if name.startswith(prefix) and (
            under is None or any(m.startswith(f"{under}/") for m in mounts)
        ):
            names.append(name)
    return names


def _running(*, under: Path) -> bool:
    listed = subprocess.run(
        [podman(), "ps", "--format", "json"], capture_output=True, text=True, check=True
    )
    return any(
        any(m.startswith(f"{under}/") for m in c.get("Mounts") or [])
        for c in json.loads(listed.stdout or "[]")
    )


def _prefix(task: Task) -> str:
    """The start of the names of the task's containers (`containers.container_name`)."""
    return f"dagyard-{task.task_id[:12]}-"


def _wait_until(
    condition: Callable[[], bool], what: str, *, seconds: float = DEADLINE, poll: float = 0.1
) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {seconds} s waiting until {what}")
        time.sleep(poll)


def words(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces (the console wraps)."""
    return " ".join(text.split())


def test_container_tasks_read_their_images_files_and_run_its_tool(
    platform: Platform, tmp_path: Path
) -> None:
    assert not Path(MARKER_PATH).exists(), "the marker must be in the image only"

    run, tasks = _run(platform, _kfp_spec(pipelines.marker_then_tool, tmp_path))

    assert run.state is RunState.SUCCEEDED, [t.error for t in tasks.values()]
    reader, tool = tasks["read-marker"], tasks["use-tool"]
    assert runs.read_artifact(platform, run.run_id, reader.task_id, "marker") == (
        MARKER_TEXT.encode()
    )
    assert tool.outputs["said"] == MARKER_TEXT
    assert f"tool: {MARKER_TEXT} " in _log(platform, tool)
    assert reader.warnings == [] and tool.warnings == []


def test_a_tasks_variables_reach_its_container_and_the_hosts_do_not(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pipelines.HOST_ONLY, "leaked from the host")

    run, tasks = _run(platform, _kfp_spec(pipelines.task_environment, tmp_path))

    assert run.state is RunState.SUCCEEDED, [t.error for t in tasks.values()]
    assert tasks["show-environment"].outputs["said"] == "hello from the task|absent"


def test_a_failing_command_fails_its_task_with_its_exit_code_and_stderr(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, _kfp_spec(pipelines.failing_command, tmp_path))

    assert run.state is RunState.FAILED
    task = tasks["fail-with-three"]
    assert task.state is TaskState.FAILED
    assert "exited with code 3" in (task.error or "")
    assert f"broken on purpose in {MARKER_TEXT}" in _log(platform, task)
    assert _containers(prefix=_prefix(task)) == []


def test_a_missing_image_fails_the_task_before_it_runs_with_podmans_reason(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, _kfp_spec(pipelines.missing_image, tmp_path))

    assert run.state is RunState.FAILED
    task = tasks["from-missing-image"]
    assert task.state is TaskState.FAILED
    error = task.error or ""
    assert f"The image '{pipelines.MISSING_IMAGE}' cannot be had: " in error
    # Podman's own words after ours: where it looked for the image.
    assert f"docker://{pipelines.MISSING_IMAGE}" in error.split("cannot be had: ", 1)[1]
    log = _log(platform, task)
    assert f"pulling {pipelines.MISSING_IMAGE} with podman" in log
    assert "should-not-run" not in log
    assert _containers(prefix=_prefix(task)) == []


def test_a_cancelled_container_task_stops_at_once_and_its_container_goes(
    platform: Platform, tmp_path: Path
) -> None:
    submitted = runs.submit_run(platform, _kfp_spec(pipelines.sleeper, tmp_path))
    ended: list[Run] = []
    driver = threading.Thread(
        target=lambda: ended.append(runs.drive_run(platform, submitted.run_id)), daemon=True
    )
    driver.start()

    def sleeping() -> bool:
        task = _tasks(platform, submitted.run_id).get("sleep-long")
        return (
            task is not None
            and task.attempts > 0
            and pipelines.SLEEPING in _log(platform, task)
            and bool(_containers(prefix=_prefix(task)))
        )

    _wait_until(sleeping, "the task sleeps in its container")
    asked = time.monotonic()
    runs.terminate_run(platform, submitted.run_id)
    driver.join(DEADLINE)

    assert ended, f"the run did not end within {DEADLINE} s of its termination"
    took = time.monotonic() - asked
    assert ended[0].state is RunState.CANCELED
    task = _tasks(platform, submitted.run_id)["sleep-long"]
    assert task.state is TaskState.CANCELED, task.error
    assert took < DEADLINE
    assert _containers(prefix=_prefix(task)) == []


def test_a_container_task_past_its_timeout_fails_and_its_container_goes(
    platform: Platform, tmp_path: Path
) -> None:
    started = time.monotonic()
    run, tasks = _run(platform, _kfp_spec(pipelines.sleeper_with_timeout, tmp_path))

    assert time.monotonic() - started < DEADLINE
    assert run.state is RunState.FAILED
    task = tasks["sleep-long"]
    assert task.state is TaskState.FAILED
    assert "limit of 2 s (set_timeout)" in (task.error or "")
    assert pipelines.SLEEPING in _log(platform, task)
    assert _containers(prefix=_prefix(task)) == []


def test_the_container_goes_when_dagyard_run_is_killed(homes: Path, tmp_path: Path) -> None:
    """SIGKILL leaves `dagyard run` no time to clean up: its watchdog removes the
    container."""
    home = homes / "killed"
    spec = tmp_path / "sleeper.yaml"
    kfp_compiler.Compiler().compile(pipelines.sleeper, str(spec))
    env = {**os.environ, "DAGYARD_HOME": str(home), "DAGYARD_CONTAINER_RUNTIME": "podman"}
    output = tmp_path / "run.log"
    with open(output, "wb") as out:
        child = subprocess.Popen(
            [str(DAGYARD), "run", str(spec)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until(lambda: _running(under=home), "the task's container runs")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        _wait_until(
            lambda: not _containers(under=home), "the container of the killed run is removed"
        )
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_container_over_its_memory_limit_fails_saying_so(
    platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(platform, _kfp_spec(pipelines.over_memory_limit, tmp_path))

    assert run.state is RunState.FAILED
    task = tasks["allocate-512m"]
    assert task.state is TaskState.FAILED
    assert "the task used more than its memory limit of " in (task.error or "")
    assert "allocated" not in _log(platform, task)


def test_image_mode_runs_dagyards_lightweight_component_in_its_base_image(
    image_platform: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "dagyard-marker.yaml"
    Compiler().compile(pipelines.dagyard_marker, path)

    run, tasks = _run(image_platform, runs.load_pipeline_spec(path))

    assert run.state is RunState.SUCCEEDED, [t.error for t in tasks.values()]
    assert tasks["dagyard-read-marker"].outputs["Output"] == MARKER_TEXT


def test_image_mode_runs_kfps_lightweight_component_after_its_pip_install(
    image_platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(image_platform, _kfp_spec(pipelines.kfp_marker, tmp_path))

    task = tasks["kfp-read-marker"]
    log = _log(image_platform, task)
    assert run.state is RunState.SUCCEEDED, f"{task.error}\n{log}"
    assert task.outputs["Output"] == MARKER_TEXT
    # kfp's executor, which the image has only once kfp's command has installed it.
    assert "[KFP Executor " in log


def test_with_the_runtime_off_the_same_container_task_runs_here_and_fails(
    homes: Path, tmp_path: Path
) -> None:
    """What made the first test pass is the image: on this machine the marker is not."""
    with _open(homes / "off", container_runtime="off") as platform:
        run, tasks = _run(platform, _kfp_spec(pipelines.marker_then_tool, tmp_path))

        assert run.state is RunState.FAILED
        reader = tasks["read-marker"]
        assert reader.state is TaskState.FAILED
        assert "exited with code 1" in (reader.error or "")
        assert "No such file or directory" in _log(platform, reader)


def test_with_no_runtime_found_a_container_task_runs_here_with_a_warning(
    tmp_path: Path,
) -> None:
    """DAGYARD_CONTAINER_RUNTIME=auto with neither podman nor docker on PATH (only `sh`,
    which the task's command needs)."""
    programs = tmp_path / "bin"
    programs.mkdir()
    (programs / "sh").symlink_to("/bin/sh")
    home = tmp_path / "home"
    spec = tmp_path / "hi.yaml"
    kfp_compiler.Compiler().compile(pipelines.hi, str(spec))
    env = {
        **os.environ,
        "PATH": str(programs),
        "DAGYARD_HOME": str(home),
        "DAGYARD_CONTAINER_RUNTIME": "auto",
    }

    done = subprocess.run(
        [str(DAGYARD), "run", str(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    store = open_store(default_database_url(home))
    try:
        (run,) = store.list_runs()
        (task,) = [t for t in store.list_tasks(run.run_id) if t.path]
    finally:
        store.close()
    assert run.state is RunState.SUCCEEDED
    (warning,) = task.warnings
    assert warning.startswith(f"Ran on this machine, not in its image {TOOL_IMAGE}: ")
    assert "found neither podman nor docker" in warning


def _doctor(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DAGYARD_HOME": str(home),
        "DAGYARD_CONTAINER_RUNTIME": "podman",
        "COLUMNS": "400",
    }
    return subprocess.run(
        [str(DAGYARD), "doctor", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_doctor_starts_a_container_and_names_why_an_image_cannot_be_had(
    tmp_path: Path, podman_path: str
) -> None:
    works = _doctor(tmp_path / "home")
    assert works.returncode == 0, works.stdout + works.stderr
    assert "a test container of this machine's programs started and ended in" in words(works.stdout)

    missing = _doctor(tmp_path / "home", "--image", pipelines.MISSING_IMAGE)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    said = words(missing.stderr)
    assert f"The image '{pipelines.MISSING_IMAGE}' cannot be had: " in said
    assert f"docker://{pipelines.MISSING_IMAGE}" in said


def test_a_cpu_limit_is_the_containers_cpu_quota(platform: Platform, tmp_path: Path) -> None:
    run, tasks = _run(platform, _kfp_spec(pipelines.half_a_cpu, tmp_path))

    assert run.state is RunState.SUCCEEDED, [t.error for t in tasks.values()]
    quota, period = tasks["cpu-quota"].outputs["said"].split()
    assert int(quota) / int(period) == 0.5


def test_a_volume_and_a_secret_reach_containers_at_their_paths(
    platform: Platform, tmp_path: Path
) -> None:
    """kfp-kubernetes' claim mounted at /data in two containers (the second reads what
    the first wrote there, not a folder of this machine's), and a secret as a variable."""
    assert not Path("/data/marker.txt").exists(), "this test needs a host without it"
    secrets.set_values(platform, ValuesKind.SECRET, "creds", {"token": "s3cr3t"})

    run, tasks = _run(platform, _kfp_spec(pipelines.volume_and_secret, tmp_path))

    assert run.state is RunState.SUCCEEDED, [t.error for t in tasks.values()]
    assert tasks["write-to-volume"].outputs["token_seen"] == "s3cr3t"
    assert tasks["read-from-volume"].outputs["said"] == MARKER_TEXT
    assert not Path("/data/marker.txt").exists()


def test_image_mode_says_why_when_kfps_install_step_cannot_reach_an_index(
    image_platform: Platform, tmp_path: Path
) -> None:
    run, tasks = _run(image_platform, _kfp_spec(pipelines.kfp_install_unreachable, tmp_path))

    assert run.state is RunState.FAILED
    error = tasks["kfp-constant"].error or ""
    assert f"kfp's install step failed in the image {TOOL_IMAGE}" in error
    assert "kfp==" in error  # pip's own line, naming what it could not install
    assert "a package index it can reach" in error


def test_the_image_pull_policy_is_followed(platform: Platform, tmp_path: Path) -> None:
    """kfp-kubernetes' set_image_pull_policy: Never does not pull a missing image;
    Always pulls even an image the runtime has (and fails here, where the tool image is
    in no registry); IfNotPresent, the default, is what every other test runs with."""
    run, tasks = _run(platform, _kfp_spec(pipelines.pull_policies, tmp_path))

    assert run.state is RunState.FAILED
    never = tasks["from-missing-image"]
    assert "its pull policy is Never" in (never.error or "")
    assert "pulling" not in _log(platform, never)
    always = tasks["marker-again"]
    assert f"The image '{TOOL_IMAGE}' cannot be had" in (always.error or "")
    assert f"pulling {TOOL_IMAGE} with podman" in _log(platform, always)
    assert MARKER_TEXT not in _log(platform, always)
