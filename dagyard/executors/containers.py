"""Running a task's command inside its image, with Podman or Docker.

Belongs here: finding a runtime that works (`find_runtime`, `RuntimeChoice`), what it
needs on this machine (`ContainerRuntime.run_options`), having the image before anything
runs (`ContainerRuntime.ensure_image`), the `run` command line of one attempt
(`ContainerRuntime.run_argv`) and removing a container its client left behind. Not here:
the attempt's life (`lifecycle.py`: it decides which commands run in an image, starts the
client, waits and cancels) or anything about pipelines.

How an attempt runs in its image: `RUNTIME run --rm --init` in the foreground, its stdout
and stderr straight into the attempt's log (Podman's `passthrough` log driver hands the
container the log file itself; Docker streams it). The host folders the command refers
to (the artifact store, the attempt's work folder) are mounted at the same paths, so the
placeholders the engine resolved to host paths hold inside; Kubernetes volumes are
mounted at their own paths. Only the task's own variables go in, not the host's
environment, and their values go through the client's environment (`--env NAME`), never
its command line, where `ps` would show them. Limits are the runtime's (`--memory`,
`--cpus`): the container's processes are not the client's children, so the attempt's
own cgroup would not hold them.

Cancelling sends SIGTERM to the client, which passes it on to the container (an attached
`run` proxies signals, and `--init` passes them to the command); a container whose client
was killed, or whose client's parent died, is removed by name (`removal_argv`, which the
watchdog also runs when this process dies).

What these machines need, detected rather than asked of the user: runc on a machine with
cgroups of both versions (Podman's `--runtime runc`: crun refuses hybrid machines), and
explicit rlimits. The
runtimes' default open-files limit (about a million) is above the hard limit a process
here may raise itself to, and the OCI runtime then fails to start the container; so every
container gets this process's own limits for open files and processes (the processes'
clamped to the kernel's pid_max, above which some kernels refuse it), which is also what
a task run on the host gets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, Literal

from dagyard.errors import ExecutorError
from dagyard.executors import cgroups
from dagyard.executors.base import Launch
from dagyard.executors.limits import task_limits

RUNTIMES = ("podman", "docker")
# The DAGYARD_CONTAINER_RUNTIME values that run every command on this machine.
_OFF = ("off", "none", "host")
# How long `RUNTIME info` may take to say the engine is there.
PROBE_SECONDS = 30
# How long pulling one image may take.
PULL_SECONDS = 3600
# How long removing a container may take.
REMOVE_SECONDS = 60
_PID_MAX = Path("/proc/sys/kernel/pid_max")
# The accelerator types passed to the runtime as GPUs (KFP's `set_accelerator_type`).
_GPU_TYPES = ("nvidia.com/gpu", "gpu", "nvidia-tesla", "nvidia")


@dataclasses.dataclass(frozen=True)
class ContainerRuntime:
    """A Podman or Docker that answered, and the options every container needs here."""

    path: str
    kind: Literal["podman", "docker"]
    version: str
    # Options of every `run` (the rlimits this machine allows, see the module docstring).
    run_options: tuple[str, ...] = ()
    # The client's exit code for its own failures (the container could not be made or
    # started), as both runtimes document it.
    own_failure_exit = 125

    def run_argv(self, launch: Launch, argv: list[str], env: Mapping[str, str]) -> list[str]:
        """The client's command line that runs `argv` in the launch's image; `env`'s
        values must be in the client's own environment (`--env NAME` takes them from
        there)."""
        if not launch.image:
            raise ExecutorError(f"Task {launch.task_id} has no image to run in.")
        if not argv:
            raise ExecutorError("The command line is empty.")
        options = [
            "run",
            "--rm",
            "--init",
            "--name",
            container_name(launch),
            "--workdir",
            str(launch.workdir),
            # The image was made sure of before (`ensure_image`), as the policy says.
            "--pull",
            "never",
            *self.run_options,
        ]
        if self.kind == "podman":
            options += ["--log-driver", "passthrough"]
        else:
            options += ["--log-driver", "none"]
        for folder in sorted({str(p) for p in (*launch.mounts, launch.workdir)}):
            options += ["--volume", f"{folder}:{folder}"]
        for bind in launch.binds:  # its Kubernetes volumes, at their mount paths only
            mode = ":ro" if bind.read_only else ""
            options += ["--volume", f"{bind.source}:{bind.target}{mode}"]
        for name in sorted(env):
            options += ["--env", name]
        options += self.limit_options(launch)
        return [self.path, *options, "--entrypoint", argv[0], launch.image, *argv[1:]]

    def limit_options(self, launch: Launch) -> list[str]:
        """The runtime's flags for the task's limits and accelerators."""
        limits = task_limits(launch.resources)
        options: list[str] = []
        if limits.memory is not None:
            # Swap included, as for a task on the host (its cgroup's memory.swap.max).
            options += ["--memory", str(limits.memory), "--memory-swap", str(limits.memory)]
        if limits.cpu is not None:
            options += ["--cpus", f"{limits.cpu:g}"]
        accelerator = launch.resources.accelerator if launch.resources else None
        if accelerator is not None:
            kind = (accelerator.resource_type or accelerator.type).strip()
            count_text = accelerator.resource_count or str(accelerator.count or "")
            try:
                count = int(count_text) if count_text else 1
            except ValueError as e:
                raise ExecutorError(
                    f"The accelerator count {count_text!r} is not a whole number."
                ) from e
            if count > 0:
                options += self.gpu_options(kind, count)
        return options

    def gpu_options(self, kind: str, count: int) -> list[str]:
        """`count` GPUs of `kind` (KFP's accelerator type): Docker's `--gpus`, or Podman's
        CDI devices (`nvidia.com/gpu=0`, ...: `nvidia-ctk cdi generate` makes them)."""
        if not any(word in kind.lower() for word in _GPU_TYPES):
            raise ExecutorError(
                f"The accelerator type {kind!r} cannot be given to a container here: only "
                "GPUs are (nvidia.com/gpu), through the runtime's device options."
            )
        if self.kind == "docker":
            return ["--gpus", str(count)]
        return [option for i in range(count) for option in ("--device", f"nvidia.com/gpu={i}")]

    def ensure_image(self, image: str, policy: str | None, log: BinaryIO) -> None:
        """Have `image` in the runtime's storage as `policy` (Kubernetes' Always,
        IfNotPresent or Never; None: IfNotPresent) says, pulling it (its progress in
        `log`) when needed; ExecutorError with the runtime's reason when it cannot be had."""
        if policy != "Always" and self._has_image(image):
            return
        if policy == "Never":
            raise ExecutorError(
                f"The image {image!r} is not in {self.kind}'s local storage and its pull "
                "policy is Never (set_image_pull_policy); build or pull it first."
            )
        log.write(f"dagyard: pulling {image} with {self.kind}\n".encode())
        log.flush()
        try:
            done = subprocess.run(
                [self.path, "pull", image],
                stdout=log,
                stderr=subprocess.PIPE,
                timeout=PULL_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise ExecutorError(f"Pulling {image!r} took over {PULL_SECONDS} s.") from e
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip()
            log.write(done.stderr)
            reason = said.splitlines()[-1] if said else f"exit code {done.returncode}"
            raise ExecutorError(f"The image {image!r} cannot be had: {reason}")

    def _has_image(self, image: str) -> bool:
        if self.kind == "podman":
            command = [self.path, "image", "exists", image]
        else:
            command = [self.path, "image", "inspect", "--format", "{{.Id}}", image]
        done = subprocess.run(command, capture_output=True, check=False, timeout=PROBE_SECONDS)
        return done.returncode == 0

    def removal_argv(self, name: str) -> list[str]:
        """The command that stops (at once) and removes the container `name`, whether or
        not it is still there."""
        if self.kind == "podman":
            return [self.path, "rm", "--force", "--ignore", "--time", "0", name]
        return [self.path, "rm", "--force", name]

    def remove(self, name: str) -> None:
        """Stop and remove the container `name` if it is still there."""
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                self.removal_argv(name), capture_output=True, timeout=REMOVE_SECONDS, check=False
            )

    def describe(self) -> str:
        return f"{self.kind} {self.version} ({self.path})"


def container_name(launch: Launch) -> str:
    """The container's name: the task's and attempt's, with a suffix of its own (a name
    left by an attempt whose cleanup failed cannot stop another from starting)."""
    return f"dagyard-{launch.task_id[:12]}-{launch.attempt}-{launch.workdir.name[-6:]}"


def machine_run_options() -> tuple[str, ...]:
    """The rlimits of every container here: this process's own (see the module
    docstring)."""
    options: list[str] = []
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        soft, hard = resource.getrlimit(which)
        ceiling = _pid_max() if name == "nproc" else None
        values = [_finite(v, ceiling) for v in (soft, hard)]
        if values[0] is None or values[1] is None:
            continue
        options += ["--ulimit", f"{name}={values[0]}:{values[1]}"]
    return tuple(options)


def oci_runtime_options(kind: str) -> tuple[str, ...]:
    """Podman's `--runtime runc` on a machine with cgroups of both versions (hybrid),
    where crun, which Podman prefers when installed, refuses to start any container
    ("cgroups in hybrid mode not supported"); nothing elsewhere, or when runc is not
    installed (`dagyard doctor` then shows the failure)."""
    if kind != "podman" or not cgroups.hybrid():
        return ()
    runc = shutil.which("runc")
    return ("--runtime", runc) if runc else ()


def _finite(value: int, ceiling: int | None) -> int | None:
    if value == resource.RLIM_INFINITY:
        return ceiling
    return value if ceiling is None else min(value, ceiling)


def _pid_max() -> int | None:
    try:
        return int(_PID_MAX.read_text().strip())
    except (OSError, ValueError):
        return None


def probe(path: str) -> tuple[ContainerRuntime | None, str]:
    """The runtime at `path` if its engine answers, else None and why not."""
    kind: Literal["podman", "docker"] = "podman" if "podman" in Path(path).name else "docker"
    try:
        done = subprocess.run(
            [path, "version", "--format", "{{.Server.Version}}"]
            if kind == "docker"
            else [path, "version", "--format", "{{.Version}}"],
            capture_output=True,
            text=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    said = done.stderr.strip().splitlines()
    if done.returncode != 0 or not done.stdout.strip():
        return None, said[-1] if said else f"exit code {done.returncode}"
    return (
        ContainerRuntime(
            path=path,
            kind=kind,
            version=done.stdout.strip(),
            run_options=(*machine_run_options(), *oci_runtime_options(kind)),
        ),
        "",
    )


def is_off(setting: str) -> bool:
    """Whether a DAGYARD_CONTAINER_RUNTIME value turns containers off."""
    return setting.strip().lower() in _OFF


def find_runtime(setting: str) -> ContainerRuntime | None:
    """The runtime a setting asks for: "off" (none), "auto" or "" (the first of podman
    and docker whose engine answers, else none), "podman", "docker" or a path (which
    must answer: ExecutorError saying why when it does not)."""
    choice = setting.strip()
    if is_off(choice):
        return None
    if choice.lower() in ("", "auto"):
        for name in RUNTIMES:
            found = shutil.which(name)
            if found is not None:
                runtime, _ = probe(found)
                if runtime is not None:
                    return runtime
        return None
    found = shutil.which(choice)
    if found is None:
        raise ExecutorError(
            f"The container runtime {choice!r} was asked for (DAGYARD_CONTAINER_RUNTIME) but "
            "is not installed; install Podman or Docker, or set it to auto or off."
        )
    runtime, reason = probe(found)
    if runtime is None:
        raise ExecutorError(
            f"The container runtime {found!r} (DAGYARD_CONTAINER_RUNTIME) does not answer "
            f"({reason}). Start its engine, or set DAGYARD_CONTAINER_RUNTIME to off."
        )
    return runtime


class RuntimeChoice:
    """A runtime setting, looked up once, when a task first needs it (most runs have no
    container task and never pay for the probe). Thread-safe."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        self._lock = threading.Lock()
        self._found: tuple[ContainerRuntime | None, ExecutorError | None] | None = None

    def get(self) -> ContainerRuntime | None:
        """The runtime, None when the setting is off or auto found none; ExecutorError
        when a runtime named by the setting does not work."""
        with self._lock:
            if self._found is None:
                try:
                    self._found = (find_runtime(self.setting), None)
                except ExecutorError as e:
                    self._found = (None, e)
            runtime, error = self._found
        if error is not None:
            raise error
        return runtime

    @property
    def off(self) -> bool:
        return is_off(self.setting)


def candidates() -> list[tuple[str, ContainerRuntime | None, str]]:
    """Every runtime `auto` would consider, in its order, that is installed: its path,
    the runtime if its engine answers, else why not."""
    found = []
    for name in RUNTIMES:
        path = shutil.which(name)
        if path is not None:
            runtime, reason = probe(path)
            found.append((path, runtime, reason))
    return found


def try_container(runtime: ContainerRuntime, image: str | None) -> float:
    """Start a container that does nothing, with the options every task's container gets,
    and return how long it took in seconds; ExecutorError with the runtime's reason when
    it cannot. In `image` (made sure of first, which may pull it), else, with Podman, in a
    root folder of this machine's own programs (no image needed); Docker needs `image`."""
    with tempfile.TemporaryDirectory(prefix="dagyard-doctor-") as folder:
        if image is not None:
            with open(os.path.join(folder, "pull.log"), "wb") as log:
                runtime.ensure_image(image, None, log)
            where = ["--entrypoint", "sh", image, "-c", "exit 0"]
        elif runtime.kind == "podman":
            where = [*_host_programs(Path(folder) / "root"), "/usr/bin/true"]
        else:
            raise ExecutorError("Docker starts a container only from an image: give one.")
        argv = [runtime.path, "run", "--rm", *runtime.run_options, *where]
        start = time.monotonic()
        try:
            done = subprocess.run(argv, capture_output=True, timeout=PROBE_SECONDS, check=False)
        except subprocess.TimeoutExpired as e:
            raise ExecutorError(f"A test container did not end within {PROBE_SECONDS} s.") from e
        took = time.monotonic() - start
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else f"exit code {done.returncode}"
        raise ExecutorError(f"A test container did not start: {reason}")
    return took


def _host_programs(root: Path) -> list[str]:
    """Podman options that make `root` (an empty folder) a root file system holding this
    machine's programs, read-only: /usr mounted, and /bin, /lib... as this machine has
    them (links into /usr where it has merged them, else mounted too)."""
    (root / "usr").mkdir(parents=True)
    options = ["--volume", "/usr:/usr:ro"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        host = Path("/") / name
        if host.is_symlink():
            (root / name).symlink_to(os.readlink(host))
        elif host.is_dir():
            (root / name).mkdir()
            options += ["--volume", f"{host}:{host}:ro"]
    return [*options, "--rootfs", str(root)]


# What pip says at the end of a log when kfp's install step could not install kfp.
_INSTALL_FAILURES = (
    "No matching distribution found for",
    "Could not find a version that satisfies the requirement",
    "No module named pip",
    "externally-managed-environment",
    "pip: not found",
)
_LOG_TAIL_BYTES = 16384


def install_failure(log_path: Path) -> str | None:
    """pip's line that says why kfp's install step failed, from the end of a log; None
    when the log tells of no such failure."""
    try:
        with open(log_path, "rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _LOG_TAIL_BYTES))
            tail = log.read().decode(errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        if any(sign in line for sign in _INSTALL_FAILURES):
            return line.strip()
    return None
