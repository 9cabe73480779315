"""What the runtime needs on this machine is found by Dagyard, not asked of the user.

On a machine with cgroups of both versions (hybrid, as these machines are), crun, which
Podman prefers when it is installed, refuses every container. Debian's crun is unpacked
here (not installed: `apt-get download`, once, cached) and made Podman's default runtime
through a containers.conf of the test's own (CONTAINERS_CONF), as installing crun would
make it: a plain `podman run` then fails, and a Dagyard container task still runs,
because Dagyard gives Podman `--runtime runc` on such a machine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from containers.images import MARKER_PATH, MARKER_TEXT, TOOL_IMAGE, ensure_image, podman

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import Dataset, Output
from dagyard.executors import cgroups
from dagyard.executors.containers import machine_run_options
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState

pytestmark = pytest.mark.slow

_CACHE = Path.home() / ".cache" / "dagyard-tests" / "crun"


@dsl.container_component
def copy_marker(out: Output[Dataset]):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(image=TOOL_IMAGE, command=["cp", MARKER_PATH], args=[out.path])


def _crun() -> Path:
    """A runnable crun from Debian's package (and the library it needs), unpacked once."""
    wrapper = _CACHE / "crun"
    if wrapper.exists():
        return wrapper
    _CACHE.mkdir(parents=True, exist_ok=True)
    for package in ("crun", "libyajl2"):
        subprocess.run(
            ["apt-get", "download", package], cwd=_CACHE, check=True, capture_output=True
        )
    for deb in _CACHE.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(_CACHE / "root")], check=True)
    libraries = next((_CACHE / "root" / "usr" / "lib").glob("*-linux-gnu"))
    binary = _CACHE / "root" / "usr" / "bin" / "crun"
    wrapper.write_text(f'#!/bin/sh\nLD_LIBRARY_PATH={libraries} exec {binary} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_on_a_hybrid_machine_podmans_crun_is_replaced_by_runc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    if not cgroups.hybrid():
        pytest.skip("needs a machine with cgroups of both versions, as these machines are")
    ensure_image(TOOL_IMAGE, config=pytestconfig)
    conf = tmp_path / "containers.conf"
    conf.write_text(f'[engine]\nruntime = "crun"\n[engine.runtimes]\ncrun = ["{_crun()}"]\n')
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))
    plain = subprocess.run(
        [podman(), "run", "--rm", *machine_run_options(), TOOL_IMAGE, "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert plain.returncode != 0
    assert "hybrid mode not supported" in plain.stderr

    platform = Platform.open(Settings(home=tmp_path / "home", container_runtime=podman()))
    try:

        @dsl.pipeline
        def marker() -> None:
            copy_marker()

        run = runs.submit_run(platform, compile_to_dict(marker), parameters={})
        done = runs.drive_run(platform, run.run_id)
        assert done.state is RunState.SUCCEEDED, done.error
        (task,) = [t for t in platform.store.list_tasks(run.run_id) if t.path]
        assert runs.read_artifact(platform, run.run_id, task.task_id, "out") == (
            MARKER_TEXT.encode()
        )
    finally:
        platform.close()
