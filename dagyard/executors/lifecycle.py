"""An attempt's life on the host that runs it, written once for every executor.

Belongs here, in this order: the attempt's scratch folder and log file; its log shipped
to the store while it runs (`Staging.log_uri`); its inputs staged in; the command chosen
(a `PythonFunction` on this host's Python when that has its packages, else in a cached
virtual environment; a `Command` as it is, or in its image where a container runtime is
set); its bounds (`isolation.py`: a cgroup, limits); the process forked from the warm
zygote (`forkserver.py`) when the result cannot differ from exec-ing it, else exec'd from
a fork of the zygote, else (no zygote) spawned under the watchdog (`watchdog.py`); the
wait; everything it started killed; its outputs staged out if it succeeded; the log
shipped a last time. With a local artifact root, the staging has nothing to copy: the
same steps, none of them copying anything.

Not here: where an attempt runs and how its outcome comes back (placement: `local.py`
runs it on a thread of this process, holding each run to its slots; `ray_attempt.py` in
a Ray task on a cluster host), and anything about pipelines (the engine's).

Like a container, an attempt is its whole process group: it runs in a session of its
own, and when its first process ends, whatever it left in its group is killed, and so
are the daemons it left outside its group (`isolation.py` says how). `cancel` sends
SIGTERM to the group, then SIGKILL after the host's grace period. Nothing it starts
outlives the process that started it, even killed by SIGKILL: the zygote kills what it
started when its input closes, the watchdog the groups and cgroups of spawned attempts.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from dagyard.errors import ExecutorError
from dagyard.executors.base import Command, Launch, Outcome, PythonFunction
from dagyard.executors.containers import (
    ContainerRuntime,
    RuntimeChoice,
    container_name,
    install_failure,
)
from dagyard.executors.disks import name_full_disk
from dagyard.executors.environments import EnvironmentCache, Interpreter
from dagyard.executors.forkserver import ForkServer
from dagyard.executors.isolation import Confinement, Isolation
from dagyard.executors.limits import Limits, memory_in_words, task_limits
from dagyard.executors.logs import LogKeeper, note
from dagyard.executors.mounts import isolated
from dagyard.executors.staging import stage_in, stage_out
from dagyard.executors.watchdog import Watchdog, check_runnable

CANCELLED_BEFORE_START = "cancelled before it started"
# The attempt's temporary folder in its work folder (TMPDIR, TEMP, TMP), removed at its end.
TMP_FOLDER = "tmp"
# A TMPDIR longer than this gets a short alias: a Unix socket's path (what
# multiprocessing's managers, gsutil or a database bind under TMPDIR) holds at most 107
# bytes, and Python's own adds up to 45 to the folder's.
SHORT_TMPDIR = 60
_ALIAS_ROOT = "/tmp"
# How a start reports an attempt's end (`Attempt._fork`, `Attempt._spawn`).
_Ended = TypeVar("_Ended")
# A container's exit code when the kernel killed its command (SIGKILL: 128 + 9), as an
# out-of-memory kill under its memory limit does.
CONTAINER_OOM_EXIT = 137


def short_alias(folder: Path) -> str | None:
    """A short path to `folder` (a symbolic link in /tmp, removed with the folder) when
    its own is too long for the Unix sockets a task may make in it; None when it is
    short enough or no alias can be made (the task then gets the folder's own path)."""
    if len(str(folder)) <= SHORT_TMPDIR:
        return None
    for _ in range(5):
        alias = os.path.join(_ALIAS_ROOT, "dagyard-" + os.urandom(6).hex())
        try:
            os.symlink(folder, alias)
        except FileExistsError:
            continue
        except OSError:
            return None
        return alias
    return None


class Host:
    """What the attempts run by one process on this host share, each made on first use:
    the Python lightweight components run on, the virtual-environment cache, the fork
    server (a warm zygote) and the watchdog.

    `name` is what an outcome reports as the host it ran on. `kill_grace` is the time a
    cancelled attempt has between SIGTERM and SIGKILL. `poll`: None when nothing but a
    process's end interrupts a wait here (the local executor's threads); else waits are
    cut into slices of that many seconds, so that an exception raised in the waiting
    thread (Ray's cancel, a KeyboardInterrupt) is seen and the attempt is killed.
    `cgroups`: whether attempts may get cgroups where this process can make them (False:
    the fallbacks of `isolation.py` everywhere). `container_runtime` and `task_isolation`:
    `Settings`' (DAGYARD_CONTAINER_RUNTIME, DAGYARD_TASK_ISOLATION).
    """

    def __init__(
        self,
        *,
        name: str | None,
        python: str = sys.executable,
        environments: Callable[[], EnvironmentCache],
        kill_grace: float = 5.0,
        fork_server: bool = True,
        container_runtime: str = "off",
        task_isolation: str = "host",
        poll: float | None = None,
        cgroups: bool = True,
    ) -> None:
        self.name = name
        self.interpreter = Interpreter(python)
        self.kill_grace = kill_grace
        # The Podman or Docker that runs container commands in their image (a setting,
        # looked up at the first one); with none, they run on this host as they are.
        self.containers = RuntimeChoice(container_runtime)
        # "image": lightweight Python functions run in their image too; "host": here.
        self.task_isolation = task_isolation
        self.poll = poll
        self._make_environments = environments
        self._environments: EnvironmentCache | None = None
        self._lock = threading.Lock()
        self.fork_server = ForkServer(python, base_env) if fork_server else None
        # kfp-compiled tasks' zygotes, by the Python they run on (made on first use).
        self._kfp_fork_servers: dict[str, ForkServer] = {}
        self._watchdog: Watchdog | None = None
        self.isolation = Isolation(cgroups=cgroups, watchdog=self.watchdog)
        if self.fork_server is not None:  # also for a host dropped without close()
            weakref.finalize(self, self.fork_server.close)

    def environments(self) -> EnvironmentCache:
        """The virtual-environment cache, made on first use."""
        with self._lock:
            if self._environments is None:
                self._environments = self._make_environments()
            return self._environments

    def kfp_fork_server(self, python: str) -> ForkServer | None:
        """The fork server of kfp-compiled tasks whose `python3` is `python`; None when
        this host forks nothing."""
        if self.fork_server is None:
            return None
        with self._lock:
            server = self._kfp_fork_servers.get(python)
            if server is None:
                server = self._kfp_fork_servers[python] = ForkServer(python, base_env, kfp=True)
                weakref.finalize(self, server.close)
            return server

    def kfp_zygote_pids(self) -> dict[str, int]:
        """The pids of the running kfp zygotes, by the Python they run on."""
        with self._lock:
            servers = dict(self._kfp_fork_servers)
        pids = {python: server.pid for python, server in servers.items()}
        return {python: pid for python, pid in pids.items() if pid is not None}

    def watchdog(self) -> Watchdog:
        """The watchdog of spawned attempts, started with the first one."""
        with self._lock:
            if self._watchdog is None:
                self._watchdog = Watchdog()
                weakref.finalize(self, self._watchdog.close)  # for hosts dropped unclosed
            return self._watchdog

    def close(self) -> None:
        """Stop the zygote and the watchdog (each kills what it still watches)."""
        if self.fork_server is not None:
            self.fork_server.close()
        with self._lock:
            watchdog, self._watchdog = self._watchdog, None
            kfp_servers, self._kfp_fork_servers = list(self._kfp_fork_servers.values()), {}
        for server in kfp_servers:
            server.close()
        if watchdog is not None:
            watchdog.close()


def base_env() -> dict[str, str]:
    """What every attempt's environment starts from (its own variables go on top)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


class Attempt:
    """One attempt of `launch` on `host`: `run` lives it to its end (blocking), `cancel`
    stops it from any thread."""

    def __init__(self, host: Host, launch: Launch) -> None:
        self.launch = launch
        self._host = host
        # Guards the fields below between the thread in `run` and `cancel`.
        self._lock = threading.Lock()
        # Handed to the watchdog or the zygote: from then on `run` reports its end.
        self._launched = False
        self._pid: int | None = None  # once known; also its process group's id
        self._cancelled = False
        self._exited = False
        self._killer: threading.Timer | None = None
        self._tmp_alias: str | None = None
        # The runtime and container name when the attempt runs in its image.
        self._container: tuple[ContainerRuntime, str] | None = None
        # What the attempt could not honour of its launch, for its outcome.
        self._warnings: list[str] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def launched(self) -> bool:
        return self._launched

    def cancel(self) -> bool:
        """Stop the attempt: SIGTERM to its group now, SIGKILL after the grace period.
        Returns whether it had been launched: if not, it never will be, and `run`, if
        it runs at all, ends with `CANCELLED_BEFORE_START`."""
        with self._lock:
            if not (self._cancelled or self._exited):
                self._cancelled = True
                if self._pid is not None:
                    self._terminate()
            return self._launched

    def run(self) -> Outcome:
        """Live the attempt to its end and say how it ended; the log holds every line
        this host added (why it could not start, a failed upload, a full disk), and is
        capped (`Launch.log_limit`) and shipped, before this returns."""
        launch = self.launch
        try:
            launch.workdir.mkdir(parents=True, exist_ok=True)
            (launch.workdir / TMP_FOLDER).mkdir(exist_ok=True)
            launch.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(launch.log_path, "ab", buffering=0)  # noqa: SIM115 - closed below
        except OSError as e:
            return name_full_disk(self._outcome(None, f"Cannot open the log file: {e}"), launch)
        keeper = None
        try:
            if not launch.binds:
                # A task with volumes sees the host's /tmp only through its own mounts.
                self._tmp_alias = short_alias(launch.workdir / TMP_FOLDER)
            with log:
                try:
                    keeper = LogKeeper(
                        launch.log_path,
                        limit=launch.log_limit,
                        ship_to=launch.staging.log_uri,
                        interval=launch.staging.log_interval,
                    )
                except ExecutorError as e:
                    return self._not_started(log, str(e))
                outcome = self._live(log)
                if outcome.ok:
                    try:
                        stage_out(launch.staging)
                    except ExecutorError as e:
                        note(log, f"dagyard: {e}\n")
                        outcome = self._outcome(None, str(e))
                named = outcome if self._cancelled else name_full_disk(outcome, launch)
                if named is not outcome:
                    note(log, f"dagyard: {named.error}\n")
                return named
        finally:
            # Before the outcome is reported: whoever reads the log then sees all of it.
            if keeper is not None:
                keeper.close()
            # Work folders are kept; what the task left in its temporary folder is not.
            shutil.rmtree(launch.workdir / TMP_FOLDER, ignore_errors=True)
            if self._tmp_alias is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._tmp_alias)

    def _live(self, log: BinaryIO) -> Outcome:
        try:
            stage_in(self.launch.staging)
            argv, env, fork = self._prepare(log)
            if self.launch.binds and self._container is None:
                # Its volumes at their paths, in a mount namespace of its own (mounts.py).
                argv = isolated(argv, self.launch.binds, self.launch.workdir / TMP_FOLDER)
                fork = None
            if not argv:
                raise ExecutorError("The command line is empty.")
            limits = task_limits(self.launch.resources)
        except ExecutorError as e:
            return self._not_started(log, str(e))
        if self._container is not None:
            return self._contained(limits, log, argv)
        ended: int | str | Outcome | None = None
        confinement = None
        # A zygote forks it, or else the zygote execs it from a fork.
        starts = [(*fork, False)] if fork is not None else []
        if self._host.fork_server is not None:
            starts.append((self._host.fork_server, argv, True))
        for server, program, exec_command in starts:
            ended, confinement = self._confined(
                limits,
                log,
                True,
                functools.partial(self._fork, server, program, env, log, exec_command),
            )
            if ended is not None:
                break
        if ended is None:  # no zygote, or they declined: spawn it
            spawned, confinement = self._confined(
                limits, log, False, lambda bounds: self._spawn(argv, env, log, bounds)
            )
            ended = spawned
        if isinstance(ended, Outcome):
            return ended
        cancelled = self._ended()
        if isinstance(ended, str):
            detail = ended
        else:
            detail = f"killed by signal {-ended}" if ended < 0 else f"exited with code {ended}"
        if cancelled:
            return self._outcome(None, f"cancelled ({detail})")
        if confinement is not None and (isinstance(ended, str) or ended != 0):
            memory = confinement.memory_failure(detail, self.launch.log_path)
            if memory is not None:
                return self._outcome(None, memory)
        if isinstance(ended, str) or ended < 0:
            return self._outcome(None, detail)
        return self._outcome(ended)

    def _confined(
        self,
        limits: Limits,
        log: BinaryIO,
        contained: bool,
        start: Callable[[Confinement], _Ended],
    ) -> tuple[_Ended | Outcome, Confinement | None]:
        """`start` the attempt within its bounds, which hold until it has ended: a
        cgroup's processes are killed and the cgroup removed before this returns."""
        try:
            confinement = self._host.isolation.confine(limits, contained=contained)
        except OSError as e:
            return self._not_started(log, f"Cannot hold the task to its limits: {e}"), None
        try:
            return start(confinement), confinement
        finally:
            confinement.close()

    def _prepare(
        self, log: BinaryIO
    ) -> tuple[list[str], dict[str, str], tuple[ForkServer, list[str]] | None]:
        """The command line and environment to run, and the zygote that may fork it
        instead, with what it forks; builds a virtual environment if the function's
        packages are not all here."""
        launch, host = self.launch, self._host
        runtime = self._runtime()
        if runtime is not None:
            return self._in_image(runtime, log), {}, None
        if launch.pull_policy is not None:
            self._warnings.append(
                f'The image pull policy (set_image_pull_policy) "{launch.pull_policy}" is '
                "recorded, not applied: the task ran on this machine, not in its image."
            )
        # Temporary files (mktemp, tempfile) go in the attempt's own folder, not the host's
        # /tmp, and go with it; unless the task sets these itself.
        tmp = self._tmp_alias or str(launch.workdir / TMP_FOLDER)
        env = {**base_env(), "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp, **launch.env}
        command = launch.command
        if isinstance(command, Command):
            return list(command.argv), env, None
        python = host.interpreter.executable
        if command.packages and host.interpreter.missing(command.packages):
            built = host.environments().interpreter(
                command.packages,
                command.index_urls,
                python=host.interpreter,
                log=log,
                no_deps=command.no_deps,
            )
            python = str(built)
        argv = command.argv_for(python)
        fork: tuple[ForkServer, list[str]] | None = None
        if command.runner == "kfp":
            bin_dir = host.environments().bin_dir_for(python)
            env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)])
            # The script's `python3`: the interpreter's own when its folder is the one on
            # PATH (a venv's), else the shim there, which execs `python`.
            python3 = bin_dir / "python3" if bin_dir == Path(python).parent else Path(python)
            server = host.kfp_fork_server(str(python3))
            if command.kfp_program is not None and server is not None:
                fork = (server, list(command.kfp_program))
        elif python == host.interpreter.executable and host.fork_server is not None:
            fork = (host.fork_server, argv)
        return argv, env, fork

    def _runtime(self) -> ContainerRuntime | None:
        """The runtime that runs this attempt in its image, or None to run it here.
        Container commands run in their image when a runtime is found (and here, with a
        warning, when the setting is auto and none is); lightweight functions only with
        DAGYARD_TASK_ISOLATION=image. ExecutorError when the image is required and no
        runtime works."""
        launch, host = self.launch, self._host
        in_image = isinstance(launch.command, Command) or host.task_isolation == "image"
        if not in_image or host.containers.off:
            if isinstance(launch.command, PythonFunction) and host.task_isolation == "image":
                raise ExecutorError(
                    "DAGYARD_TASK_ISOLATION=image runs lightweight components in their "
                    "image, but DAGYARD_CONTAINER_RUNTIME is off; set it to auto, podman "
                    "or docker, or set DAGYARD_TASK_ISOLATION=host."
                )
            return None
        runtime = host.containers.get()
        if runtime is not None:
            return runtime
        if isinstance(launch.command, PythonFunction):
            raise ExecutorError(
                "DAGYARD_TASK_ISOLATION=image runs lightweight components in their image, "
                "but no container runtime answers here (neither podman nor docker); "
                "install one, or set DAGYARD_TASK_ISOLATION=host."
            )
        self._warnings.append(
            f"Ran on this machine, not in its image {launch.image}: no container runtime "
            "answers here (DAGYARD_CONTAINER_RUNTIME=auto found neither podman nor docker)."
        )
        return None

    def _in_image(self, runtime: ContainerRuntime, log: BinaryIO) -> list[str]:
        """The image made sure of and the client's command line that runs the attempt in
        it (the attempt's variables then go in the client's environment, see `_contained`)."""
        launch = self.launch
        runtime.ensure_image(launch.image, launch.pull_policy, log)
        name = container_name(launch)
        self._container = (runtime, name)
        return runtime.run_argv(launch, list(launch.command.argv), self._container_env())

    def _container_env(self) -> dict[str, str]:
        """The variables the command sees in its container: its own, and its temporary
        folder in its work folder (mounted at the same path), as on the host."""
        tmp = str(self.launch.workdir / TMP_FOLDER)
        return {"TMPDIR": tmp, "TEMP": tmp, "TMP": tmp, **self.launch.env}

    def _contained(self, limits: Limits, log: BinaryIO, argv: list[str]) -> Outcome:
        """Run the attempt's container client to its end; the container goes with it.
        Its limits are the runtime's own (`run_argv`); the client gets no cgroup limits.
        The watchdog removes the container if this process dies meanwhile."""
        assert self._container is not None
        runtime, name = self._container
        client_env = {**base_env(), **self._container_env()}
        watchdog = self._host.watchdog()
        removal = runtime.removal_argv(name)
        watchdog.watch_command(removal)
        ended: int | Outcome | None = None
        try:
            ended, _ = self._confined(
                Limits(), log, False, lambda bounds: self._spawn(argv, client_env, log, bounds)
            )
        finally:
            if self._cancelled or not isinstance(ended, int) or ended < 0:
                runtime.remove(name)
            watchdog.forget_command(removal)
        if isinstance(ended, Outcome):
            return ended
        assert ended is not None
        cancelled = self._ended()
        detail = f"killed by signal {-ended}" if ended < 0 else f"exited with code {ended}"
        if cancelled:
            return self._outcome(None, f"cancelled ({detail})")
        if ended == CONTAINER_OOM_EXIT and limits.memory is not None:
            return self._outcome(
                None,
                f"the task used more than its memory limit of {memory_in_words(limits.memory)} "
                f"(set_memory_limit) and was killed in its container ({detail})",
            )
        command = self.launch.command
        if ended > 0 and isinstance(command, PythonFunction) and command.runner == "kfp":
            said = install_failure(self.launch.log_path)
            if said is not None:
                return self._outcome(
                    None,
                    f"kfp's install step failed in the image {self.launch.image} ({detail}): "
                    f"{said}. A kfp-compiled component installs kfp with pip in its image "
                    "first: the image needs pip and a package index it can reach (or run it "
                    "on this machine: DAGYARD_TASK_ISOLATION=host)",
                )
        if ended == runtime.own_failure_exit:
            return self._outcome(
                None,
                f"{runtime.kind} could not run the container ({detail}); its reason is at "
                "the end of the log",
            )
        if ended < 0:
            return self._outcome(None, detail)
        return self._outcome(ended)

    def _spawn(
        self, argv: list[str], env: dict[str, str], log: BinaryIO, bounds: Confinement
    ) -> int | Outcome:
        """Exec the attempt under the watchdog, within `bounds`, and wait for it: its exit
        code (as `Popen.returncode`), or the outcome of an attempt that never started."""
        watchdog = self._host.watchdog()
        with self._lock:
            if self._cancelled:
                return self._outcome(None, CANCELLED_BEFORE_START)
            try:
                process = watchdog.spawn(
                    argv, cwd=self.launch.workdir, env=env, log=log, admit=bounds.admit
                )
            except OSError as e:
                return self._not_started(log, f"Cannot start {argv[0]!r}: {e}")
            self._launched = True
            self._pid = process.pid
        try:
            self._until(lambda timeout: _exited(process, timeout))
        except BaseException:  # an interrupt (Ray's cancel): the attempt goes with it
            self.cancel()
            process.wait()
            self._ended()
            raise
        finally:
            # Like a container's end: nothing the attempt started outlives it.
            _signal_group(process.pid, signal.SIGKILL)
            watchdog.forget(process.pid)
        return process.returncode

    def _fork(
        self,
        server: ForkServer,
        argv: list[str],
        env: dict[str, str],
        log: BinaryIO,
        exec_command: bool,
        bounds: Confinement,
    ) -> int | str | Outcome | None:
        """Start the attempt from the zygote, within `bounds` (exec'd from a fork if
        `exec_command`, else forked), and wait for it: its exit code, why it ended
        without one, the outcome of an attempt that never started, or None when the
        zygote declined it (start it another way then)."""
        if exec_command:
            try:
                check_runnable(argv[0], self.launch.workdir, env)
            except OSError as e:
                return self._not_started(log, f"Cannot start {argv[0]!r}: {e}")
        with self._lock:
            if self._cancelled:
                return self._outcome(None, CANCELLED_BEFORE_START)
            ticket = server.submit(
                argv=argv,
                env=env,
                cwd=self.launch.workdir,
                log_path=self.launch.log_path,
                exec_command=exec_command,
                bounds=bounds.zygote_fields(),
            )
            if ticket is None:
                return None
            self._launched = True
        try:
            self._until(ticket.started.wait)
            if ticket.declined:
                return None  # `_spawn` reports a cancel that came meanwhile
            if ticket.pid is None:
                return self._not_started(log, ticket.error or "The fork server did not start it.")
            self._forked(ticket.pid)
            self._until(ticket.done.wait)
        except BaseException:  # an interrupt (Ray's cancel): the attempt goes with it
            self.cancel()
            ticket.started.wait()
            if ticket.pid is not None:
                self._forked(ticket.pid)
            ticket.done.wait()
            self._ended()
            raise
        # The zygote has killed the task's group already, before reaping the task.
        return ticket.code if ticket.code is not None else str(ticket.error)

    def _forked(self, pid: int) -> None:
        with self._lock:
            if self._pid is None:
                self._pid = pid
                if self._cancelled:
                    self._terminate()

    def _ended(self) -> bool:
        """Note that the process has ended (no kill is due any more); whether it had
        been cancelled."""
        with self._lock:
            self._exited = True
            if self._killer is not None:
                self._killer.cancel()
            return self._cancelled

    def _until(self, done: Callable[[float | None], bool]) -> None:
        """Block until `done(timeout)` says so; in slices of the host's `poll` seconds
        when set: an exception raised in this thread is only seen between two waits."""
        poll = self._host.poll
        if poll is None:
            done(None)
            return
        while not done(poll):
            pass

    def _terminate(self) -> None:
        """SIGTERM the attempt's group, SIGKILL after the grace period; `_lock` held."""
        assert self._pid is not None
        _signal_group(self._pid, signal.SIGTERM)
        self._killer = threading.Timer(
            self._host.kill_grace, _signal_group, (self._pid, signal.SIGKILL)
        )
        self._killer.daemon = True
        self._killer.start()

    def _not_started(self, log: BinaryIO, message: str) -> Outcome:
        note(log, f"dagyard: {message}\n")
        return self._outcome(None, message)

    def _outcome(self, exit_code: int | None, error: str | None = None) -> Outcome:
        return Outcome(
            exit_code=exit_code,
            error=error,
            host=self._host.name,
            warnings=tuple(self._warnings),
        )


def _exited(process: subprocess.Popen[bytes], timeout: float | None) -> bool:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _signal_group(pid: int, signum: int) -> None:
    # The attempt leads its own session, so its group id is its pid; it may be gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def default_environments(root: Path | None) -> Callable[[], EnvironmentCache]:
    """The cache of virtual environments at `root` (default `~/.dagyard/envs`), made
    when first needed."""
    return lambda: EnvironmentCache(root or Path.home() / ".dagyard" / "envs")
