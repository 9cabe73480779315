"""`init` and the runners it takes: how a session of local runs is configured.

kfp.local's names (`init`, `SubprocessRunner`, `DockerRunner` and their parameters) are
accepted as they are, so kfp code keeps working. What they mean here: every call is a run
of Dagyard's engine in the home (`DAGYARD_HOME`), stored in its database and artifact
store like a `dagyard run`. The settings are read once, at `init`; the platform (store,
artifact store, executor) is opened at the first call and kept until `shutdown()`, a
new `init`, or the end of the interpreter.

Nothing here drives a run (that is `execution.py`).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagyard.dsl import context
from dagyard.errors import ExecutorError, UsageError
from dagyard.settings import Settings

if TYPE_CHECKING:
    from dagyard.service.platform import Platform

DEFAULT_UI = "http://127.0.0.1:8888"


@dataclasses.dataclass
class SubprocessRunner:
    """Run every task as a child process of this machine (container components run
    their command here, without their image).

    `use_venv`, `serialize_pip_installs` and `max_concurrent_pip_installs` are kfp's and
    accepted as they are: Dagyard always installs `packages_to_install` into cached
    virtual environments of its own (one per package set, in the home), never into the
    interpreter you run, whatever `use_venv` says.
    """

    use_venv: bool = True
    serialize_pip_installs: bool = True
    max_concurrent_pip_installs: int = 1


class DockerRunner:
    """Run container components in their image with Docker or Podman: the runtime named by
    `DAGYARD_CONTAINER_RUNTIME`, else the first of docker and podman found. Lightweight
    Python components still run on this machine's interpreter (faster, no image needed).

    kfp's `max_concurrent_pip_installs` is accepted; kfp's `docker` SDK options are not
    (Dagyard runs `docker run` itself), and giving one is an error.
    """

    def __init__(self, max_concurrent_pip_installs: int = 1, **container_run_args: Any) -> None:
        if container_run_args:
            names = ", ".join(sorted(container_run_args))
            raise UsageError(
                f"DockerRunner does not take the docker SDK options {names}: Dagyard runs "
                "containers with `docker run` (or podman) itself. Remove them; set "
                "resources and environment on the task (set_cpu_limit, set_env_variable)."
            )
        self.max_concurrent_pip_installs = max_concurrent_pip_installs

    def __repr__(self) -> str:
        return f"DockerRunner(max_concurrent_pip_installs={self.max_concurrent_pip_installs})"


@dataclasses.dataclass
class Session:
    """What `init` set up: the settings of the runs, and their platform once opened."""

    settings: Settings
    raise_on_error: bool
    cache_enabled: bool
    ui_address: str
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    platform: Platform | None = None

    def open(self) -> Platform:
        if self.platform is None:
            from dagyard.service.platform import Platform

            self.platform = Platform.open(self.settings)
        return self.platform

    def close(self) -> None:
        if self.platform is not None:
            platform, self.platform = self.platform, None
            platform.close()


_session: Session | None = None


def init(
    runner: SubprocessRunner | DockerRunner | None = None,
    *,
    pipeline_root: str | None = None,
    workspace_root: str | None = None,
    raise_on_error: bool = True,
    enable_caching: bool | None = None,
    cache_root: str | None = None,
) -> None:
    """Start a session of local runs: from now on, calling a component or a pipeline
    outside any pipeline runs it at once (a run in the home, visible in `dagyard up`) and
    returns a `LocalTask` holding its outputs.

    runner          SubprocessRunner() (the default) or DockerRunner().
    pipeline_root   where the runs' artifacts go; default: the home's artifact store
                    (DAGYARD_ARTIFACT_ROOT, else <home>/artifacts). Give another folder only
                    if `dagyard up` is started with it as DAGYARD_ARTIFACT_ROOT too, or the UI
                    cannot show those artifacts' bytes.
    raise_on_error  True: a failed task raises `TaskFailed` (a RuntimeError). False: the
                    result comes back with its state and error instead.
    enable_caching  None (the default) follows DAGYARD_CACHE (on unless turned off); False
                    runs every task again; True reuses earlier results where they match.
    workspace_root, cache_root  kfp's; accepted, unused: attempts' scratch folders live in
                    the home and the cache is the home's database.

    Calling `init` again replaces the session; `shutdown()` ends it.
    """
    global _session
    runner = SubprocessRunner() if runner is None else runner
    if not isinstance(runner, SubprocessRunner | DockerRunner):
        raise UsageError(
            f"local.init takes runner=local.SubprocessRunner() or local.DockerRunner(); "
            f"got {runner!r}."
        )
    settings = Settings.from_env()
    changes: dict[str, Any] = {"executor": "local", "container_runtime": "off"}
    if isinstance(runner, DockerRunner):
        changes["container_runtime"] = _container_runtime(settings.container_runtime)
    if pipeline_root:
        changes["artifact_root"] = _absolute(pipeline_root)
    settings = dataclasses.replace(settings, **changes)
    shutdown()
    _session = Session(
        settings=settings,
        raise_on_error=raise_on_error,
        cache_enabled=settings.cache_enabled if enable_caching is None else enable_caching,
        # Only the link to the run's page uses it; the runs themselves need no server.
        ui_address=(os.environ.get("DAGYARD_ENDPOINT") or DEFAULT_UI).rstrip("/"),
    )
    from dagyard.local.execution import run_now

    context.set_immediate_runner(run_now)


def shutdown() -> None:
    """End the session: close its store and executor; calling a component outside a
    pipeline is an error again until the next `init`. Harmless without a session."""
    global _session
    context.set_immediate_runner(None)
    session, _session = _session, None
    if session is not None:
        session.close()


def current_session() -> Session:
    if _session is None:
        raise UsageError(
            "No local session: call `dagyard.local.init()` before calling components "
            "outside a pipeline."
        )
    return _session


def _container_runtime(setting: str) -> str:
    """The runtime DockerRunner uses, checked now (a client whose engine does not answer,
    such as docker without its daemon, is no runtime) rather than at the first task."""
    from dagyard.executors.containers import find_runtime, is_off

    chosen = "auto" if not setting.strip() or is_off(setting) else setting.strip()
    found = find_runtime(chosen)
    if found is None:
        raise ExecutorError(
            "DockerRunner needs a container runtime, and neither podman nor docker answers "
            "here. Install one and start its engine (or set DAGYARD_CONTAINER_RUNTIME to its "
            "path), or use local.SubprocessRunner() to run tasks as processes of this machine."
        )
    return found.path


def _absolute(root: str) -> str:
    return root if "://" in root else str(Path(root).expanduser().absolute())


atexit.register(shutdown)
