"""A watchdog process that kills attempts' process groups and cgroups when the process
that started them dies, however it dies (SIGKILL included).

Belongs here: starting that process, telling it which groups to watch, stopping it. Not
here: starting or signalling attempts (`local.py`, `ray_attempt.py`).

Why: an attempt runs in a session of its own, so that cancelling it reaches everything it
started; but then nothing kills that group when its parent (an orchestrator with the local
executor, a Ray worker process) is killed outright, and the attempt would run on as an
orphan, writing outputs that a later attempt also writes. A death signal set in the child
(Linux's PR_SET_PDEATHSIG) would reach the group's first process only, not the processes
it started, and fires when the parent's *thread* ends, not the process.

How: the watchdog is `python -c <_PROGRAM>` in a session of its own, reading lines
`+PGID` / `-PGID` (a process group) and `+PATH` / `-PATH` (a cgroup's folder, an absolute
path) and `+!COMMAND` / `-!COMMAND` (a command line, its words joined by the unit
separator: what removes a container) from a pipe whose only writer is this process. When
this process dies, the kernel closes the pipe; at that end of input the watchdog runs
every command still watched, sends SIGKILL to every group still watched, then kills every
process in each cgroup still watched (a daemon that left its group with `setsid` is
still in its cgroup) and removes the cgroup, and exits. Standard library only, no
polling, on any POSIX system.

An attempt started with `Watchdog.spawn` is watched before it runs anything: it waits at a
gate until its group is registered, so that a SIGKILL between its start and its
registration cannot leave it running unwatched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

# The watchdog's program. It ignores SIGINT and SIGTERM: a Ctrl-C or a `kill` aimed at
# the orchestrator's group must not end it before it has done its job.
_PROGRAM = """
import os, signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups, cgroups, commands, pending = set(), set(), set(), b""
while True:
    data = os.read(0, 4096)
    if not data:
        break
    pending += data
    *lines, pending = pending.split(b"\\n")
    for line in lines:
        kind = line[1:2]
        if kind == b"!":
            watched, key = commands, line[2:]
        elif kind == b"/":
            watched, key = cgroups, line[1:].decode()
        else:
            watched, key = groups, int(line[1:])
        if line.startswith(b"+"):
            watched.add(key)
        elif line.startswith(b"-"):
            watched.discard(key)
for command in commands:
    argv = command.decode().split("\\x1f")
    try:
        os.spawnv(os.P_WAIT, argv[0], argv)
    except OSError:
        pass
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
for path in cgroups:
    try:
        with open(path + "/cgroup.kill", "w") as f:
            f.write("1")
    except OSError:
        pass
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            os.rmdir(path)
            break
        except FileNotFoundError:
            break
        except OSError:
            pass
        try:
            with open(path + "/cgroup.procs") as f:
                pids = f.read().split()
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
"""


class Watchdog:
    """Kills the process groups it watches when this process dies, or when closed.

    Thread-safe. If the watchdog itself is gone (someone killed it), watching goes on
    silently without it: the attempts still run, only without that protection.
    """

    def __init__(self, python: str = sys.executable) -> None:
        self._lock = threading.Lock()
        # -I -S: a fast start that reads nothing of the user's site or environment.
        self._process = subprocess.Popen(
            [python, "-I", "-S", "-c", _PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def watch(self, pgid: int) -> None:
        """Kill group `pgid` if this process dies before `forget(pgid)`."""
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        """Stop watching group `pgid` (its attempt has ended and been cleaned up)."""
        self._send(f"-{pgid}\n")

    def watch_cgroup(self, folder: str) -> None:
        """Kill every process in the cgroup at `folder` (an absolute path) and remove it,
        if this process dies before `forget_cgroup(folder)`."""
        self._send(f"+{folder}\n")

    def forget_cgroup(self, folder: str) -> None:
        """Stop watching the cgroup at `folder` (its attempt has removed it)."""
        self._send(f"-{folder}\n")

    def watch_command(self, argv: list[str]) -> None:
        """Run `argv` (before killing groups) if this process dies before
        `forget_command(argv)`: what removes a container its attempt left running."""
        self._send(f"+!{_joined(argv)}\n")

    def forget_command(self, argv: list[str]) -> None:
        """Do not run `argv` after all (its attempt has cleaned up)."""
        self._send(f"-!{_joined(argv)}\n")

    def close(self) -> None:
        """Kill the groups still watched, and stop the watchdog."""
        with self._lock:
            stdin = self._process.stdin
            if stdin is not None and not stdin.closed:
                with contextlib.suppress(OSError):
                    stdin.close()
        self._process.wait()

    def _send(self, line: str) -> None:
        with self._lock:
            stdin = self._process.stdin
            if stdin is None or stdin.closed:
                return
            with contextlib.suppress(OSError):  # BrokenPipeError: the watchdog is gone
                stdin.write(line.encode())
                stdin.flush()

    def spawn(
        self,
        argv: list[str],
        *,
        cwd: str | os.PathLike[str],
        env: dict[str, str],
        log: BinaryIO,
        admit: Callable[[int], None] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` in a session of its own (stdin /dev/null, stdout and stderr to
        `log`), watched from before it runs: it waits at a gate (`_GATE`) until its group
        is registered here, and never runs if this process dies first. `admit(pid)` is
        called while it waits there (to move it into a cgroup, limit it). OSError if it
        cannot start (as `subprocess.Popen` raises it) or `admit` raises one; it then
        never runs."""
        check_runnable(argv[0], cwd, env)
        # The shell sets PWD; `env` puts back what the attempt was given (or nothing).
        pwd = ["--", f"PWD={env['PWD']}"] if "PWD" in env else ["-u", "PWD", "--"]
        process = subprocess.Popen(
            [_SH, "-c", _GATE, "dagyard-gate", *pwd, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.watch(process.pid)
        gate = process.stdin
        assert gate is not None
        if admit is not None:
            try:
                admit(process.pid)
            except OSError:
                with contextlib.suppress(OSError):
                    gate.close()  # no line: it exits without running anything
                process.wait()
                self.forget(process.pid)
                raise
        with contextlib.suppress(OSError):  # it died already: its exit code says so
            gate.write(b"go\n")
            gate.close()
        return process


def _joined(argv: list[str]) -> str:
    """A command line as one line of the watchdog's input (its words cannot hold a line
    break or the separator)."""
    if any("\n" in word or _SEPARATOR in word for word in argv):
        raise ValueError(f"A watched command cannot hold a line break: {argv!r}")
    return _SEPARATOR.join(argv)


_SEPARATOR = "\x1f"
# The shell that holds an attempt at its gate, and the gate: one line read from stdin,
# written once the attempt's group is watched; at end of input (whoever started it died)
# it exits without running anything. Then `env`, and through it the command, replace the
# shell (same pid, so the same group, exit code and signals), with stdin from /dev/null.
# The line goes to a variable no task is expected to have (an exported one would change).
_SH = "/bin/sh"
_GATE = 'read -r dagyard_gate || exit 111; exec /usr/bin/env "$@" </dev/null'


def check_runnable(program: str, cwd: str | os.PathLike[str], env: dict[str, str]) -> None:
    """Raise as `subprocess.Popen` would for a program it cannot run (the gate's shell
    would only exit with 127 after it)."""
    if os.sep in program:
        path = program if os.path.isabs(program) else os.path.join(cwd, program)
        if not os.path.isfile(path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
        if not os.access(path, os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), program)
        return
    if shutil.which(program, path=os.pathsep.join(os.get_exec_path(env))) is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
