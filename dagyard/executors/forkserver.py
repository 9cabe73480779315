"""The fork server: start lightweight tasks by forking a warm Python instead of exec-ing one,
and other commands from a fork of it, which execs them.

Belongs here: the executor's side of the zygote (`zygote.py` is the other side and
documents the protocol): starting it on first use, handing it tasks, reading what it
reports, failing the tasks it had when it dies, stopping it. Not here: what the executor
does with an outcome, cancelling (the executor signals a task's process group itself, by
the pid the zygote reported) or which bounds a task gets (`isolation.py`).

Why: a fresh interpreter that unpacks and compiles the embedded runtime and imports what it
needs takes ~40 ms per task (kfp's script: a shell, `mktemp` and a Python importing kfp,
~70 ms); a fork of a process that has done all that takes ~1-2 ms.

A task is forked only when the result cannot differ from exec-ing its command line:
- the command is `[python, "-c", BOOTSTRAP, ...]` with this server's Python and the very
  bootstrap of the installed Dagyard (not merely the same `RUNTIME_MARKER`: a pipeline
  compiled by another version runs the runtime it embeds, through exec);
- the task's environment agrees with the zygote's on what an interpreter reads once, at
  start (`startup_environment`): PYTHON* variables, the locale, HOME, the dynamic loader's
  and the allocator's variables.
A kfp-compiled lightweight task is forked from a zygote of its own, one per Python (a
`ForkServer` made with `kfp`), whose children do what kfp's runner script does
(`zygote.py` says how) when:
- the task's command is that script, unchanged (`PythonFunction.kfp_program`);
- this server's Python is the `python3` the script would find first on the task's PATH
  (the executor puts the interpreter's folder there), started by that name;
- the task's environment agrees with the zygote's on what an interpreter reads once, at
  start, as above (the zygote's holds `_KFP_RUNTIME=true`, which kfp reads as it is
  imported, and which the script sets for the task).
Anything else `submit` declines, and the executor execs the command: through `submit` with
`exec_command=True` (the zygote forks and the child execs it), which any command line may
use. Either way the task is a child of the zygote, whose subreapers kill what it leaves
behind (`zygote.py`); the fork of a warm Python costs ~1 ms, much less than any exec.

The zygote is a single-threaded child of this process: fork() is never called here, where
threads run. One reader thread per zygote turns its reports into `Ticket` events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.resources
import itertools
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagyard.runtime.embed import bootstrap

_STARTUP_PREFIXES = ("PYTHON", "LC_", "LD_", "MALLOC_")
_STARTUP_NAMES = frozenset({"LANG", "HOME", "GLIBC_TUNABLES"})
# kfp's executor module, which kfp's runner script runs as `python3 -m`, and what it
# imports (kfp 2.x), loaded in a kfp zygote ahead of its tasks.
KFP_EXECUTOR = "kfp.dsl.executor_main"
_KFP_PRELOAD = (
    "argparse",
    "importlib.util",
    "json",
    "logging",
    "kfp.dsl.executor",
    "kfp.dsl.kfp_config",
    "kfp.dsl.utils",
)
# Set by kfp's runner script for its Python; kfp's package reads it as it is imported.
KFP_RUNTIME_ENV = {"_KFP_RUNTIME": "true"}


def startup_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of `env` that a Python process reads once, when it starts."""
    return {
        key: value
        for key, value in env.items()
        if key.startswith(_STARTUP_PREFIXES) or key in _STARTUP_NAMES
    }


@dataclasses.dataclass(eq=False)
class Ticket:
    """One task handed to the zygote.

    `started` is set once `pid` is known, or once the task ended without one; `done` once it
    ended, with `code` (as `Popen.returncode`: -N when killed by signal N) or `error`.
    `declined` means the zygote died before it could fork anything: run the task otherwise.
    """

    request: int
    started: threading.Event = dataclasses.field(default_factory=threading.Event)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    pid: int | None = None
    code: int | None = None
    error: str | None = None
    declined: bool = False

    def _end(self, *, code: int | None = None, error: str | None = None) -> None:
        self.code, self.error = code, error
        self.started.set()
        self.done.set()


class ForkServer:
    """Forks lightweight tasks that run on `python` from a zygote started on first use.

    `base_env` gives the environment to start a zygote with: the executor's own, which
    every task's environment extends. With `kfp`, the tasks forked are kfp-compiled
    ones (their `PythonFunction.kfp_program`), run by kfp's executor on `python`, which
    must be the `python3` of the tasks' PATH; else they are Dagyard's.
    """

    def __init__(
        self, python: str, base_env: Callable[[], Mapping[str, str]], *, kfp: bool = False
    ) -> None:
        self.python = python
        self.kfp = kfp
        self._base_env = base_env
        self._lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._requests = itertools.count(1)
        self._closed = False
        # Why forking is off for good (a zygote could not get ready); None while it is on.
        self.disabled: str | None = None

    @property
    def pid(self) -> int | None:
        """The running zygote's pid, None before the first task and after it died."""
        with self._lock:
            zygote = self._zygote
            return None if zygote is None or zygote.dead else zygote.process.pid

    def submit(
        self,
        *,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        exec_command: bool = False,
        bounds: Mapping[str, Any] | None = None,
    ) -> Ticket | None:
        """Fork the task with command line `argv` in the zygote, or None to decline it;
        with `exec_command`, any command line, which the forked child execs. For a kfp
        server, the `argv` to fork is the task's `kfp_program` (the component's source
        and the executor's arguments), and `env` the task's, without what the script sets.

        `env` replaces the child's whole environment, `cwd` is its working folder, and its
        stdout and stderr are appended to `log_path`. `bounds`: the zygote protocol's
        optional fields (cgroups, rlimit_data, cpus), applied before the task runs.
        """
        forked = not exec_command
        if forked and self.kfp:
            env = {**env, **KFP_RUNTIME_ENV}
        elif forked and (
            len(argv) < 3 or list(argv[:2]) != [self.python, "-c"] or argv[2] != bootstrap()
        ):
            return None
        with self._lock:
            if self._closed or self.disabled is not None:
                return None
            zygote = self._zygote
            if zygote is None or zygote.dead:
                if zygote is not None and not zygote.ready:
                    self.disabled = f"the fork server {zygote.how_it_ended()} before it was ready"
                    return None
                try:
                    zygote = self._zygote = _Zygote(
                        self.python, self._base_env(), self._lock, kfp=self.kfp
                    )
                except OSError as e:
                    self.disabled = f"cannot start the fork server: {e}"
                    return None
            if forked and startup_environment(env) != zygote.startup:
                return None
            ticket = Ticket(next(self._requests))
            zygote.tickets[ticket.request] = ticket
        base = zygote.env
        if not forked:
            program = {"exec": list(argv)}
        else:
            program = {"kfp": list(argv)} if self.kfp else {"argv": list(argv[3:])}
        request: dict[str, Any] = {
            "id": ticket.request,
            **program,
            # Only what differs from the zygote's environment, usually nothing: less for the
            # zygote to parse and for the task to apply.
            "env": {key: value for key, value in env.items() if base.get(key) != value},
            "unset": [key for key in base if key not in env],
            # Absolute: the zygote's own cwd is "/", not this process's.
            "cwd": os.path.abspath(cwd),
            "log": os.path.abspath(log_path),
            **(bounds or {}),
        }
        zygote.send(request)
        return ticket

    def close(self) -> None:
        """Stop the zygote (it kills any task it still runs); later tasks are declined."""
        with self._lock:
            self._closed = True
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.stop()


@functools.cache
def _zygote_source() -> str:
    return importlib.resources.files(__package__).joinpath("zygote.py").read_text("utf-8")


class _Zygote:
    """One zygote process, the tasks it has in hand, and the thread reading its reports."""

    def __init__(
        self, python: str, env: Mapping[str, str], lock: threading.Lock, *, kfp: bool
    ) -> None:
        self.env = {**env, **KFP_RUNTIME_ENV} if kfp else dict(env)  # its os.environ
        self.startup = startup_environment(env)
        self.process = subprocess.Popen(
            [python, "-c", _zygote_source()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
            cwd="/",
            start_new_session=True,  # no terminal's Ctrl-C reaches it or its tasks
        )
        # Guarded by the server's lock, shared with the reader thread.
        self._lock = lock
        self.tickets: dict[int, Ticket] = {}
        self.ready = False
        self.dead = False
        # Writers never hold `_lock` while they write: the reader thread needs it to drain
        # the zygote's reports, and a zygote blocked on a full report pipe reads nothing.
        self._write_lock = threading.Lock()
        # Sent under the server's lock, but into an empty pipe that holds it whole.
        if kfp:
            self.send({"kfp": KFP_EXECUTOR, "preload": list(_KFP_PRELOAD)})
        else:
            self.send({"bootstrap": bootstrap()})
        self._reader = threading.Thread(
            target=self._read, name=f"dagyard-zygote-{self.process.pid}", daemon=True
        )
        self._reader.start()

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        stdin = self.process.stdin
        assert stdin is not None  # stdin=PIPE
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            # A zygote that is gone fails the write; its reader reports the tasks.
            stdin.write(len(data).to_bytes(4, "big") + data)
            stdin.flush()

    def how_it_ended(self) -> str:
        code = self.process.returncode
        if code is None:
            return "is running"
        return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"

    def stop(self, timeout: float = 10.0) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        with self._write_lock, contextlib.suppress(OSError):
            stdin.close()  # end of input: the zygote kills what it runs and exits
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._reader.join()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                self._report(line.decode().rstrip("\n"))
        self._died()

    def _report(self, line: str) -> None:
        kind, _, rest = line.partition(" ")
        if kind == "ready":
            with self._lock:
                self.ready = True
            return
        request, _, value = rest.partition(" ")
        with self._lock:
            tickets, number = self.tickets, int(request)
            ticket = tickets.get(number) if kind == "started" else tickets.pop(number, None)
        if ticket is None:
            return
        if kind == "started":
            ticket.pid = int(value)
            ticket.started.set()
        elif kind == "exited":
            ticket._end(code=int(value))
        else:
            ticket._end(error=json.loads(value))

    def _died(self) -> None:
        self.process.wait()
        with self._write_lock, contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        with self._lock:
            self.dead = True
            orphans, self.tickets = list(self.tickets.values()), {}
            ready = self.ready
        what = f"The fork server (pid {self.process.pid}) {self.how_it_ended()}"
        retry = "Retry the task; a new fork server starts with the next one."
        for ticket in orphans:
            if not ready:  # it forked nothing: the executor runs the task another way
                ticket.declined = True
                ticket._end()
            elif ticket.pid is None:
                ticket._end(error=f"{what} before it started this task. {retry}")
            else:
                # Its tasks outlive it as orphans nobody can report on: stop them.
                _kill_group(ticket.pid)
                message = f"{what} while this task ran (pid {ticket.pid}, now killed)."
                ticket._end(error=f"{message} {retry}")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
