"""Runs of kfp-compiled pipelines that must end as KFP's own would (issue 16, the run
defects): what a run refuses before anything runs, the run's workspace, and where a
task's temporary files go. Real kfp 2.17.0 compiles each pipeline; the engine runs it
with real child processes on SQLite and a local artifact folder."""

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import dsl

from dagyard.errors import RunError
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState, TaskState

pytestmark = pytest.mark.kfp


def _kfp_spec(pipeline: Any, folder: Path) -> dict[str, Any]:
    path = folder / "pipeline.yaml"
    kfp_compiler.Compiler().compile(pipeline, str(path))
    return runs.load_pipeline_spec(path)


@dsl.component(base_image="python:3.11")
def count_rows(data: dsl.Input[dsl.Dataset]) -> int:
    with open(data.path) as f:
        return len(f.readlines())


@dsl.pipeline(name="needs-data")
def needs_data(data: dsl.Input[dsl.Dataset]):
    count_rows(data=data)


def test_a_run_of_a_pipeline_that_needs_an_input_artifact_is_refused_up_front(
    platform: Platform, tmp_path: Path
) -> None:
    """A run is given parameters only (KFP's RuntimeConfig has no artifacts), so a
    required root input artifact could never be given: refused as a missing parameter
    is, not started with a null artifact."""
    spec = _kfp_spec(needs_data, tmp_path)
    with pytest.raises(RunError, match=r"input artifact 'data' \(system.Dataset\)") as raised:
        runs.submit_run(platform, spec)
    assert "dsl.importer" in str(raised.value)
    assert platform.store.list_runs() == []


@dsl.component(base_image="python:3.11")
def say(text: str) -> str:
    return text


@dsl.pipeline(name="plain")
def plain():
    say(text="hello")


def test_a_placeholder_the_engine_does_not_know_refuses_the_run_naming_it(
    platform: Platform, tmp_path: Path
) -> None:
    spec = _kfp_spec(plain, tmp_path)
    unknown = copy.deepcopy(spec)
    executor = unknown["deploymentSpec"]["executors"]["exec-say"]["container"]
    executor["args"] = [*executor["args"], "--extra", "{{$.pipeline_task_colour}}"]
    with pytest.raises(
        RunError, match=r"'\{\{\$\.pipeline_task_colour\}\}' \(in executor 'exec-say'\)"
    ):
        runs.submit_run(platform, unknown)
    constant = copy.deepcopy(spec)
    text = constant["root"]["dag"]["tasks"]["say"]["inputs"]["parameters"]["text"]
    text["runtimeValue"]["constant"] = "at {{$.inputs.artifacts['x'].size}}"
    with pytest.raises(RunError, match=r"in task 'say' of the pipeline"):
        runs.submit_run(platform, constant)
    # What the engine knows passes.
    known = copy.deepcopy(spec)
    text = known["root"]["dag"]["tasks"]["say"]["inputs"]["parameters"]["text"]
    text["runtimeValue"]["constant"] = "{{$.pipeline_job_uuid}}"
    run = runs.drive_run(platform, runs.submit_run(platform, known).run_id)
    (task,) = platform.store.list_tasks(run.run_id)
    assert task.outputs == {"Output": run.run_id}


@dsl.component(base_image="python:3.11")
def write_note(workspace: str, text: str) -> str:
    import os

    with open(os.path.join(workspace, "note.txt"), "w") as f:
        f.write(text)
    return workspace


@dsl.component(base_image="python:3.11")
def read_note(workspace: str) -> str:
    import os

    with open(os.path.join(workspace, "note.txt")) as f:
        return f.read()


@dsl.container_component
def list_workspace(listing: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'ls "$0" > "$1"'],
        args=[dsl.WORKSPACE_PATH_PLACEHOLDER, listing],
    )


@dsl.pipeline(
    name="workspace",
    pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")),
)
def with_workspace(text: str = "shared"):
    written = write_note(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER, text=text)
    read_note(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER).after(written)
    list_workspace().after(written)


def test_the_tasks_of_a_run_share_its_workspace_folder(platform: Platform, tmp_path: Path) -> None:
    """dsl.WORKSPACE_PATH_PLACEHOLDER, as a task input and in a container's command,
    names one folder per run (KFP mounts the run's workspace volume at it)."""
    spec = _kfp_spec(with_workspace, tmp_path)
    first = runs.drive_run(platform, runs.submit_run(platform, spec).run_id)
    second = runs.drive_run(
        platform, runs.submit_run(platform, spec, parameters={"text": "other"}).run_id
    )
    for run, text in ((first, "shared"), (second, "other")):
        assert run.state == RunState.SUCCEEDED, run.error
        tasks = {t.path: t for t in platform.store.list_tasks(run.run_id)}
        folder = Path(tasks["write-note"].outputs["Output"])
        assert folder == platform.settings.work_root / run.run_id / ".workspace"
        assert tasks["read-note"].outputs == {"Output": text}
        assert tasks["list-workspace"].outputs == {"listing": "note.txt\n"}


@dsl.component(base_image="python:3.11")
def temporary_files() -> str:
    import os
    import subprocess
    import tempfile

    folder = tempfile.mkdtemp()
    made = subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True)
    paths = [tempfile.gettempdir(), folder, made.stdout.strip()]
    return " ".join(os.path.realpath(p) for p in paths)


@dsl.pipeline(name="temporary")
def temporary():
    temporary_files()


def test_a_task_keeps_its_temporary_files_in_its_work_folder_and_they_go_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kfp's lightweight command makes a `mktemp -d` folder for the component's source;
    with TMPDIR the host's, every task left one behind. TMPDIR, TEMP and TMP now name a
    folder in the attempt's work folder (through a short alias when its path is long),
    removed when the attempt ends."""
    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(host_tmp))
    spec = _kfp_spec(temporary, tmp_path)
    platform = Platform.open(
        Settings(container_runtime="off", home=tmp_path / "home", max_parallel=2)
    )
    try:
        run = runs.drive_run(platform, runs.submit_run(platform, spec).run_id)
        (task,) = platform.store.list_tasks(run.run_id)
        assert task.state == TaskState.SUCCEEDED, task.error
        tempdir, *made = task.outputs["Output"].split()
        workdir = platform.settings.work_root / run.run_id / "temporary-files" / "attempt-1"
        assert tempdir == str(workdir / "tmp")
        assert all(Path(m).parent == workdir / "tmp" for m in made)
        assert not (workdir / "tmp").exists()
        assert workdir.is_dir()  # the work folder itself is kept
    finally:
        platform.close()
    assert os.listdir(host_tmp) == []


def test_a_dagyard_compiled_task_forked_from_the_warm_interpreter_uses_its_own_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin, compiled by Dagyard: its task is forked from the zygote (which never
    asks tempfile for its folder, so a forked task finds its own from TMPDIR)."""
    from dagyard import dsl as dy
    from dagyard.compiler import compile_to_dict

    @dy.component
    def dy_temporary_files() -> str:
        import os
        import subprocess
        import tempfile

        folder = tempfile.mkdtemp()
        made = subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True)
        paths = [tempfile.gettempdir(), folder, made.stdout.strip()]
        return " ".join(os.path.realpath(p) for p in paths)

    @dy.pipeline(name="temporary")
    def dy_temporary() -> None:
        dy_temporary_files()

    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(host_tmp))
    platform = Platform.open(
        Settings(container_runtime="off", home=tmp_path / "home", max_parallel=2)
    )
    try:
        spec = compile_to_dict(dy_temporary)
        for _ in range(2):  # the second from a zygote that has run a task already
            submitted = runs.submit_run(platform, spec, cache_enabled=False)
            run = runs.drive_run(platform, submitted.run_id)
            (task,) = platform.store.list_tasks(run.run_id)
            assert task.state == TaskState.SUCCEEDED, task.error
            tempdir, *made = task.outputs["Output"].split()
            workdir = platform.settings.work_root / run.run_id / task.path / "attempt-1"
            assert tempdir == str(workdir / "tmp")
            assert all(Path(m).parent == workdir / "tmp" for m in made)
            assert not (workdir / "tmp").exists()
    finally:
        platform.close()
    assert os.listdir(host_tmp) == []


@dsl.component(base_image="python:3.11")
def unix_socket() -> str:
    import tempfile
    from multiprocessing.connection import Client, Listener

    with Listener(family="AF_UNIX") as listener:
        Client(listener.address).close()
        listener.accept().close()
        return f"{tempfile.gettempdir()} {listener.address}"


@dsl.pipeline(name="unix-socket")
def unix_socket_pipeline():
    unix_socket()


def test_a_task_can_bind_a_unix_socket_in_its_temporary_folder_under_a_long_home(
    tmp_path: Path,
) -> None:
    """A pod's TMPDIR is /tmp, where a Unix socket's path (107 bytes at most) fits; a
    folder deep in a long home did not, so multiprocessing's listeners and managers
    (pymp-*/listener-* under TMPDIR) failed with 'AF_UNIX path too long'. A long
    temporary folder is given to the task through a short alias, gone with the folder."""
    spec = _kfp_spec(unix_socket_pipeline, tmp_path)
    platform = Platform.open(
        Settings(container_runtime="off", home=tmp_path / ("long-home-" * 8), max_parallel=2)
    )
    try:
        run = runs.drive_run(platform, runs.submit_run(platform, spec).run_id)
        (task,) = platform.store.list_tasks(run.run_id)
        assert task.state == TaskState.SUCCEEDED, task.error
        tempdir, address = task.outputs["Output"].split()
        assert address.startswith(tempdir + "/")
        assert len(tempdir) <= 60
        assert not os.path.lexists(tempdir)
    finally:
        platform.close()
