"""`local.init` and its runners: kfp.local's names, the SDK's hook, container runtimes."""

from __future__ import annotations

import inspect
import shutil
import subprocess
from pathlib import Path

import kfp.local
import local_components as c
import pytest
from containers.images import MARKER_PATH, MARKER_TEXT, TOOL_IMAGE, ensure_image, podman

import dagyard
from dagyard import local
from dagyard.dsl import context
from dagyard.errors import DslError, ExecutorError, UsageError


def _parameters(func: object) -> list[str]:
    return [
        p.name
        for p in inspect.signature(func).parameters.values()  # type: ignore[arg-type]
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


@pytest.mark.kfp
@pytest.mark.parametrize(
    ("kfp_name", "ours"),
    [
        ("init", local.init),
        ("SubprocessRunner", local.SubprocessRunner),
        ("DockerRunner", local.DockerRunner),
    ],
)
def test_every_name_and_parameter_of_kfp_local_is_ours_too(kfp_name: str, ours: object) -> None:
    assert kfp_name in kfp.local.__all__
    theirs = getattr(kfp.local, kfp_name)
    assert _parameters(theirs) == _parameters(ours)
    assert getattr(dagyard.local, kfp_name) is ours


def test_kfp_code_runs_with_the_import_changed(session: Path) -> None:
    # What a kfp notebook does, word for word, but for the import.
    local.init(
        runner=local.SubprocessRunner(use_venv=True),
        pipeline_root=str(session / "artifacts"),
        raise_on_error=True,
    )
    task = c.add(a=40, b=2)
    assert task.output == 42
    assert task.outputs["Output"] == 42


def test_a_call_without_init_says_how_to_run_it_now() -> None:
    assert context.immediate_runner() is None
    with pytest.raises(DslError, match=r"called outside a pipeline.*`dagyard.local.init\(\)`"):
        c.add(a=1, b=2)
    with pytest.raises(DslError, match=r"'sum-of-squares' was called outside a pipeline"):
        c.sum_of_squares(xs=[1])


def test_shutdown_ends_the_session(session: Path) -> None:
    assert c.add(a=1, b=1).output == 2
    local.shutdown()
    with pytest.raises(DslError, match="called outside a pipeline"):
        c.add(a=1, b=1)
    local.shutdown()  # a second time is harmless


def test_pipeline_root_is_where_the_artifacts_go(home: Path, tmp_path: Path) -> None:
    local.init(pipeline_root=str(tmp_path / "outputs"))
    rows = c.make_rows(n=2).outputs["rows"]
    assert Path(rows.path).is_relative_to(tmp_path / "outputs")
    assert Path(rows.path).read_text() == "row 0\nrow 1\n"


def test_init_refuses_what_it_cannot_honour(home: Path) -> None:
    with pytest.raises(UsageError, match=r"runner=local.SubprocessRunner\(\).*got 'subprocess'"):
        local.init(runner="subprocess")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="does not take the docker SDK options mem_limit"):
        local.DockerRunner(mem_limit="1g")


@pytest.mark.slow
def test_the_docker_runner_runs_container_components_in_their_image(
    home: Path, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real Podman: the component's command finds a file only its image has,
    while lightweight components stay on this interpreter."""
    ensure_image(TOOL_IMAGE, config=pytestconfig)
    monkeypatch.setenv("DAGYARD_CONTAINER_RUNTIME", podman())
    local.init(runner=local.DockerRunner())
    out = c.copy_from_image(source=MARKER_PATH).output
    assert Path(out.path).read_text() == MARKER_TEXT
    assert c.add(a=1, b=2).output == 3
    assert not Path(MARKER_PATH).exists(), "this test needs a host without the image's file"


def test_the_docker_runner_says_when_no_engine_answers(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docker client whose daemon is not running (as on these machines) is refused at
    `init`, with the client's own words."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode == 0:
        pytest.skip("needs a docker client without a running engine, as these machines have")
    monkeypatch.setenv("DAGYARD_CONTAINER_RUNTIME", "docker")
    with pytest.raises(ExecutorError, match=r"does not answer \(.*docker daemon"):
        local.init(runner=local.DockerRunner())
    assert context.immediate_runner() is None


def test_the_docker_runner_says_when_no_runtime_is_installed(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DAGYARD_CONTAINER_RUNTIME", raising=False)
    with pytest.raises(ExecutorError, match="neither podman nor docker answers"):
        local.init(runner=local.DockerRunner())
