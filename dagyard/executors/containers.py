"""Running a container component's command in its image, with Docker or Podman.

Used by the local executor when a container runtime is enabled (`DAGYARD_CONTAINER_RUNTIME`)
for commands that are not lightweight Python components: those run on the host's
interpreter, which is faster and needs no image. Without a runtime, container commands run
on the host as they are.

The host folders the command refers to (artifact store, scratch folder) are mounted at the
same paths, so placeholders resolved to host paths stay valid inside the container. Only the
task's own variables (`set_env_variable`) are passed in, not the host's environment.
`--sig-proxy` (the default of an attached `run`) forwards SIGTERM on cancel; `--rm` removes
the container afterwards.
"""

from __future__ import annotations

import shutil

from dagyard.errors import ExecutorError
from dagyard.executors.base import Launch

RUNTIMES = ("docker", "podman")


def find_runtime(setting: str) -> str | None:
    """The runtime binary for a setting: "" or "off" (none), "auto" (docker, else podman,
    else none), "docker", "podman" or a path."""
    choice = setting.strip()
    if choice in ("", "off", "none"):
        return None
    if choice == "auto":
        return next((found for name in RUNTIMES if (found := shutil.which(name))), None)
    found = shutil.which(choice)
    if found is None:
        raise ExecutorError(
            f"Container runtime {choice!r} was asked for (DAGYARD_CONTAINER_RUNTIME) but is not "
            "installed; install Docker or Podman, or unset the setting to run container "
            "commands on this machine."
        )
    return found


def container_argv(runtime: str, launch: Launch) -> list[str]:
    """The command line that runs `launch` inside its image."""
    if not launch.image:
        raise ExecutorError(f"Task {launch.task_id} has no image to run in.")
    argv = [
        runtime,
        "run",
        "--rm",
        "--init",
        "--name",
        f"dagyard-{launch.task_id[:16]}-{launch.attempt}",
        "--workdir",
        str(launch.workdir),
    ]
    for folder in sorted({str(p) for p in (*launch.mounts, launch.workdir)}):
        argv += ["--volume", f"{folder}:{folder}"]
    for bind in launch.binds:  # its Kubernetes volumes, at their mount paths only
        argv += ["--volume", f"{bind.source}:{bind.target}{':ro' if bind.read_only else ''}"]
    for name, value in sorted(launch.env.items()):
        argv += ["--env", f"{name}={value}"]
    return [*argv, "--entrypoint", launch.argv[0], launch.image, *launch.argv[1:]]
