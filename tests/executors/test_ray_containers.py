"""Tasks in their container image on the Ray executor: a real Ray cluster (one head node,
a `ray start` process on this machine) whose node runs each task with the real Podman,
in the tests' tool image (`tests/containers/images.py`).

The image holds a marker file the host has not, so a task that reads it can only succeed
inside the image: container components always, lightweight components with
`task_isolation="image"`. A cancelled container task ends CANCELED and leaves no
container behind.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conditions import eventually
from containers.images import MARKER_PATH, MARKER_TEXT, TOOL_IMAGE, ensure_image, podman
from ray_cluster import Cluster, ray_cluster

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Run, RunState, Task, TaskState

pytestmark = pytest.mark.slow

# How long a cancelled task may take to end CANCELED: its container gets SIGTERM at once
# (SIGKILL follows after the executor's 5 s grace), far from the task's own 300 s.
CANCEL_SECONDS = 15


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with ray_cluster({"head": {}}) as c:
        yield c


@pytest.fixture(scope="module")
def tool_image(pytestconfig: pytest.Config) -> str:
    return ensure_image(TOOL_IMAGE, config=pytestconfig)


@pytest.fixture
def open_platform(
    cluster: Cluster, tool_image: str, tmp_path: Path
) -> Iterator[Callable[[str], Platform]]:
    """Opens a platform on SQLite in a temporary home whose executor is the module's
    cluster, with Podman as the runtime and the task isolation given."""
    opened: list[Platform] = []

    def open_one(task_isolation: str) -> Platform:
        settings = Settings(
            container_runtime=podman(),
            task_isolation=task_isolation,
            home=tmp_path / "home",
            executor="ray",
            ray_address=cluster.address,
        )
        opened.append(Platform.open(settings))
        return opened[-1]

    yield open_one
    for platform in opened:
        platform.close()


@dsl.container_component
def read_marker(path: str, marker: dsl.Output[dsl.Artifact]):
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat "$0" > "$1"'],
        args=[path, marker.path],
    )


@dsl.container_component
def pass_marker(marker: dsl.Input[dsl.Artifact], copy: dsl.Output[dsl.Artifact]):
    # dagyard-tool is only in the image: it writes its first argument to the second.
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'dagyard-tool "$(cat "$0")" "$1"'],
        args=[marker.path, copy.path],
    )


@dsl.pipeline
def marker_through_two_containers(path: str) -> None:
    made = read_marker(path=path)
    pass_marker(marker=made.outputs["marker"])


@dsl.component(base_image=TOOL_IMAGE)
def read_marker_in_python(path: str) -> str:
    with open(path) as f:
        return f.read()


@dsl.pipeline
def marker_in_python(path: str) -> None:
    read_marker_in_python(path=path)


@dsl.container_component
def sleep_long():
    return dsl.ContainerSpec(image=TOOL_IMAGE, command=["sh", "-c", "sleep 300"])


@dsl.pipeline
def sleeping() -> None:
    sleep_long()


def _run(platform: Platform, pipeline: dsl.GraphComponent, **parameters: str) -> Run:
    run = runs.submit_run(platform, compile_to_dict(pipeline), parameters=parameters)
    return runs.drive_run(platform, run.run_id)


def _tasks(platform: Platform, run_id: str) -> dict[str, Task]:
    return {t.path: t for t in platform.store.list_tasks(run_id) if t.path}


def _containers() -> list[str]:
    listed = subprocess.run(
        [podman(), "ps", "-a", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return listed.stdout.split()


def _failure(run: Run, tasks: dict[str, Task]) -> str:
    ended = {path: (t.state, t.error) for path, t in tasks.items()}
    return f"{run.state}: {run.error}; tasks {ended}"


def test_container_tasks_run_in_their_image_on_the_ray_node(
    open_platform: Callable[[str], Platform], cluster: Cluster
) -> None:
    assert not Path(MARKER_PATH).exists(), "the marker must be in the image only"
    platform = open_platform("host")
    run = _run(platform, marker_through_two_containers, path=MARKER_PATH)
    tasks = _tasks(platform, run.run_id)
    assert run.state == RunState.SUCCEEDED, _failure(run, tasks)
    assert {path: t.node for path, t in tasks.items()} == {
        "read-marker": cluster.nodes["head"],
        "pass-marker": cluster.nodes["head"],
    }
    assert all(not t.warnings for t in tasks.values()), [t.warnings for t in tasks.values()]
    artifacts = {a.name: a for a in platform.store.list_artifacts(run.run_id)}
    assert platform.artifacts.read_text(artifacts["marker"].uri) == MARKER_TEXT
    assert platform.artifacts.read_text(artifacts["copy"].uri) == MARKER_TEXT


def test_a_lightweight_component_runs_in_its_base_image_with_image_isolation(
    open_platform: Callable[[str], Platform], cluster: Cluster
) -> None:
    assert not Path(MARKER_PATH).exists(), "the marker must be in the image only"
    platform = open_platform("image")
    run = _run(platform, marker_in_python, path=MARKER_PATH)
    tasks = _tasks(platform, run.run_id)
    assert run.state == RunState.SUCCEEDED, _failure(run, tasks)
    task = tasks["read-marker-in-python"]
    assert task.node == cluster.nodes["head"]
    assert task.outputs == {"Output": MARKER_TEXT}


def test_a_cancelled_container_task_ends_canceled_and_leaves_no_container(
    open_platform: Callable[[str], Platform],
) -> None:
    platform = open_platform("host")
    run = runs.submit_run(platform, compile_to_dict(sleeping), parameters={})
    ended: list[Run] = []
    driver = threading.Thread(
        target=lambda: ended.append(runs.drive_run(platform, run.run_id)), daemon=True
    )
    driver.start()
    try:

        def running() -> Task | None:
            task = _tasks(platform, run.run_id).get("sleep-long")
            return task if task is not None and task.state == TaskState.RUNNING else None

        task = eventually(running, "the sleeping task is RUNNING", 120)
        prefix = f"dagyard-{task.task_id[:12]}-"

        def its_containers() -> list[str]:
            return [name for name in _containers() if name.startswith(prefix)]

        # RUNNING is recorded when the attempt is handed over; its container comes later.
        eventually(its_containers, f"a container named {prefix}... exists", 120)
    except BaseException:
        runs.terminate_run(platform, run.run_id)
        driver.join(CANCEL_SECONDS)
        raise

    asked = time.monotonic()
    runs.terminate_run(platform, run.run_id)
    driver.join(CANCEL_SECONDS)
    took = time.monotonic() - asked
    assert not driver.is_alive(), f"the run did not end within {CANCEL_SECONDS} s of terminate"
    (final,) = ended
    tasks = _tasks(platform, run.run_id)
    assert final.state == RunState.CANCELED, _failure(final, tasks)
    assert tasks["sleep-long"].state == TaskState.CANCELED, _failure(final, tasks)
    assert took < CANCEL_SECONDS
    eventually(lambda: not its_containers(), f"no container named {prefix}... is left", 30)
