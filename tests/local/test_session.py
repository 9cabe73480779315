"""`local.init` and its runners: kfp.local's names, the SDK's hook, container runtimes."""

from __future__ import annotations

import inspect
import json
import os
import stat
import sys
from pathlib import Path

import kfp.local
import local_components as c
import pytest

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


STAND_IN = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open({record!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
if args[0] == "info":
    if {info_code}:
        print("Cannot connect to the Docker daemon. Is it running?", file=sys.stderr)
    sys.exit({info_code})
# `run ... --entrypoint ENTRY IMAGE ARGS...`: run ENTRY ARGS here, as the image would.
at = args.index("--entrypoint")
os.execvp(args[at + 1], [args[at + 1], *args[at + 3:]])
"""


def _docker_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, info_code: int) -> Path:
    """A `docker` first on PATH; /usr/local, where a real one may be, is out of sight."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "docker-calls.jsonl"
    docker = folder / "docker"
    text = STAND_IN.format(python=sys.executable, record=str(record), info_code=info_code)
    docker.write_text(text)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    found = [str(folder), str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    monkeypatch.setenv("PATH", os.pathsep.join(found))
    monkeypatch.delenv("DAGYARD_CONTAINER_RUNTIME", raising=False)
    return record


def test_the_docker_runner_runs_container_components_through_docker(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _docker_on_path(tmp_path, monkeypatch, info_code=0)
    local.init(runner=local.DockerRunner())
    out = c.echo_to(word="hello").output
    assert Path(out.path).read_text() == "hello"
    assert c.add(a=1, b=2).output == 3  # lightweight components stay on this interpreter
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [call[0] for call in calls] == ["info", "run"]
    assert "alpine:3.20" in calls[1]


def test_the_docker_runner_says_when_no_engine_answers(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _docker_on_path(tmp_path, monkeypatch, info_code=1)
    with pytest.raises(
        ExecutorError,
        match=r"`docker info` failed \(Cannot connect to the Docker daemon.*SubprocessRunner\(\)",
    ):
        local.init(runner=local.DockerRunner())
    assert context.immediate_runner() is None


def test_the_docker_runner_says_when_no_runtime_is_installed(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DAGYARD_CONTAINER_RUNTIME", raising=False)
    with pytest.raises(ExecutorError, match="neither docker nor podman is installed"):
        local.init(runner=local.DockerRunner())
