"""Container commands in their image through Docker or Podman.

This machine has a docker client but no container engine, so a real `docker run` cannot
work here. The test therefore puts a stand-in `docker` first on PATH: it records the
command line it was given and then runs the entrypoint and its arguments on the host. What
is checked is ours: the command line Dagyard builds (image, mounts, task variables, working
folder, entrypoint) and that outputs written to the mounted paths come back.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import Dataset, Output
from dagyard.errors import ExecutorError
from dagyard.executors.containers import find_runtime
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState

STAND_IN = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open({record!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
entry = args[args.index("--entrypoint") + 1]
rest = args[args.index("--entrypoint") + 3:]
env = dict(os.environ)
for i, a in enumerate(args):
    if a == "--env":
        k, _, v = args[i + 1].partition("=")
        env[k] = v
os.execvpe(entry, [entry, *rest], env)
"""


@dsl.container_component
def shout(word: str, out: Output[Dataset]):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'printf "%s %s" "$LOUDNESS" "$0" > "$1"'],
        args=[word, out.path],
    )


@dsl.component
def lightweight(x: int) -> int:
    return x + 1


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "docker-calls.jsonl"
    docker = bin_dir / "docker"
    docker.write_text(STAND_IN.format(python=sys.executable, record=str(record)))
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_container_commands_run_in_their_image_with_mounts_and_variables(
    fake_docker: Path, tmp_path: Path
) -> None:
    @dsl.pipeline
    def loud() -> None:
        shout(word="hello").set_env_variable("LOUDNESS", "very")
        lightweight(x=1)

    home = tmp_path / "home"
    platform = Platform.open(Settings(home=home, container_runtime="docker"))
    try:
        run = runs.submit_run(platform, compile_to_dict(loud), parameters={})
        done = runs.drive_run(platform, run.run_id)
        assert done.state == RunState.SUCCEEDED, done.error
        out = [a for a in platform.store.list_artifacts(run.run_id) if a.output_key == "out"]
        assert Path(out[0].uri).read_text() == "very hello"
    finally:
        platform.close()
    calls = [json.loads(line) for line in fake_docker.read_text().splitlines()]
    assert len(calls) == 1, "only the container component goes through the runtime"
    argv = calls[0]
    assert argv[:4] == ["run", "--rm", "--init", "--name"]
    assert argv[argv.index("--entrypoint") + 1 : argv.index("--entrypoint") + 3] == [
        "sh",
        "alpine:3.20",
    ]
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    assert f"{home / 'artifacts'}:{home / 'artifacts'}" in volumes
    assert f"{home / 'work'}:{home / 'work'}" in volumes
    assert "LOUDNESS=very" in argv


def test_asking_for_a_runtime_that_is_missing_is_a_clear_error() -> None:
    with pytest.raises(ExecutorError, match="'nerdctl-missing' was asked for"):
        find_runtime("nerdctl-missing")
    assert find_runtime("") is None
    assert find_runtime("off") is None
