"""The fork server's zygote: a warm Python that starts each lightweight task by forking.

Belongs here: the program that `forkserver.py` runs as `python -c <the text of this file>`,
and nothing else. It is never imported as part of the `dagyard` package, so it imports
only the standard library and runs on any Python the runtime supports (3.9 or later).

Why `-c` rather than `-m dagyard.executors.zygote`: a task exec'd as `python3 -c BOOTSTRAP`
has `sys.path[0] == ""` and, of Dagyard, only the runtime modules its bootstrap embeds
(`from dagyard.dsl import *` gets the annotation names, not the SDK). The zygote runs that
same bootstrap minus its last line, which would call the runtime, so a forked task sees
the same modules, paths and `__main__`-less namespace as an exec'd one.

A zygote may serve kfp's executor instead (`kfp.dsl.executor_main`, which kfp-compiled
lightweight components run as `python3 -m` from a shell script, `forkserver.py` says
when): it then imports that module's package and what the module imports, but not the
module itself, as `python3 -m` would not, and its children do the rest (below).

Protocol. Standard input carries messages, each a 4-byte big-endian length and that many
bytes of JSON. The first is `{"bootstrap": TEXT}`, or `{"kfp": MODULE, "preload": [...]}`
for kfp's executor (its environment holding `_KFP_RUNTIME=true`, as the task's will);
each later one is a task:
`{"id": N, "argv": [...], "env": {...}, "unset": [...], "cwd": PATH, "log": PATH}`, where
argv is what the bootstrap would have found in `sys.argv[1:]`, and the task's environment is
the zygote's own with the variables of `env` set and those named in `unset` removed. A
command to exec instead has `"exec": [...]` (its whole command line, the program found on
the task's PATH) in place of `argv`; a kfp zygote's task has `"kfp": [SOURCE, ARGS...]`
(what kfp's runner script gets as `$0 "$@"`) in place of `argv`. Optional bounds, applied
by the child to itself before it runs anything: `"cgroups": [...]` (cgroup.procs files to
join), `"rlimit_data": BYTES` (RLIMIT_DATA; for a forked task, on top of the data it starts
with) and `"cpus": [...]` (the CPUs it may run on).
Standard output carries one line per event: `ready` once everything is loaded (nothing is
forked before it); `started ID PID`; `failed ID JSON-TEXT` when a task could not start;
`exited ID CODE` with CODE as `Popen.returncode` has it (-N: killed by signal N). At the end
of the input the zygote kills the tasks still running and exits.

A child becomes what a fresh `python3 -c BOOTSTRAP` would be (own session, stdin from
/dev/null, stdout and stderr appended to the log, the task's cwd and environment, fresh
unbuffered stdio, the signal dispositions of a new interpreter), runs the runtime, then
exits as the interpreter would: non-daemon threads joined, atexit functions run, streams
flushed. What it cannot undo: the string hash seed is the zygote's (PYTHONHASHSEED is one
per process), and modules loaded here are already in `sys.modules`.

A kfp task does what kfp's script `sh -ec 'program_path=$(mktemp -d); printf "%s" "$0" >
"$program_path/ephemeral_component.py"; _KFP_RUNTIME=true python3 -m MODULE
--component_module_path "$program_path/ephemeral_component.py" "$@"'` does: it makes the
folder as mktemp does (`tmp.` and 10 random letters or digits, mode 0700, under TMPDIR or
/tmp), writes SOURCE's bytes into the file, sets PWD as the shell exports it, then becomes
that `python3 -m` (argv, `sys.path[0]` the working folder, a fresh `__main__`) and runs
MODULE as `-m` does (`runpy`). What differs from the script: no shell process sits between
the task and its Python, so a signal that kills the Python alone is reported as such,
where the shell would have exited with 128 + the signal's number.

An exec'd command becomes what `subprocess.Popen` would start (own session, stdin from
/dev/null, stdout and stderr appended to the log, its cwd and environment, SIGPIPE and
SIGXFSZ back to their defaults); one that cannot be exec'd writes why to its log and
exits with 127, as a shell would.

Nothing a task starts outlives it, daemons included. On Linux, the zygote and each task
are child subreapers (PR_SET_CHILD_SUBREAPER, which an exec'd command keeps across exec):
a process whose parent dies is adopted by its task while the task runs, and by the zygote
once the task has ended. A child of the zygote that is not a task it runs is therefore
what an ended task left behind: the zygote kills it on sight (whenever it reaps a child,
and at the end of its input).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # no stub: the C side of `signal`
import atexit
import builtins
import ctypes
import gc
import io
import json
import os
import runpy
import select
import signal
import sys
import time
import types
from collections.abc import Callable
from typing import Any, NoReturn

# Loaded here once rather than in every task: what the runtime imports lazily (traceback,
# linecache, tempfile, shutil) and what components commonly import. Standard library only,
# and nothing that starts threads at import (fork is only safe without threads).
# Third-party libraries (numpy and such) stay with the tasks, which load them under their
# own environment (thread counts, library paths).
_PRELOAD = (
    "linecache",
    "traceback",
    "tempfile",
    "shutil",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "glob",
    "hashlib",
    "inspect",
    "itertools",
    "logging",
    "math",
    "pathlib",
    "pickle",
    "random",
    "re",
    "string",
    "subprocess",
    "textwrap",
    "uuid",
)
# The bootstrap's last line, which runs the task: the zygote runs everything before it.
_RUN_PREFIX = "sys.exit("
_RUN_SUFFIX = ".main(sys.argv[1:]))"
_RUNTIME = "dagyard.runtime.executor"
_STDIO_NAMES = ("stdin", "stdout", "stderr")  # of fds 0, 1, 2
# A task's standard streams, built once here (`_stdio_ahead`): every child takes its own
# copy of these pristine objects instead of building them, which costs it ~40 page faults.
_STDIO: list[io.TextIOWrapper] = []
# The zygote's own streams, which a child replaces: held here so that a child does not
# spend page faults tearing them down (nothing is left in them to flush).
_ZYGOTE_STDIO: list[Any] = []
# SIGCHLD is the only disposition the zygote changes; a child restores it. Through the C
# functions, as `signal.signal` converts what it returns to an enum member, which would
# cost a task more than the rest of its signal handling (it raises and catches ValueError).
_SIGCHLD = int(signal.SIGCHLD)
_SIGCHLD_AT_START = _signal.getsignal(_SIGCHLD)
_PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def _subreaper_call() -> Any:
    """prctl(2) of the C library, resolved once here; None where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _subreaper_call()


def _become_subreaper() -> None:
    """Adopt this process's orphaned descendants (Linux; elsewhere nothing happens)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _main() -> None:
    pending = bytearray()  # input read but not yet handled
    _become_subreaper()
    first = _first_message(pending)
    if "kfp" in first:
        _load_kfp(first["kfp"], first["preload"])
        bootstrap = first["kfp"]  # what a kfp task runs: the module's name
    else:
        bootstrap = first["bootstrap"]
        _load(bootstrap)
    _write("ready")
    _serve(bootstrap, pending)


def _load_kfp(module: str, preload: list[str]) -> None:
    """Import kfp's executor module's package and what it imports (`preload`), for
    tasks that run the module as `python3 -m` would (`_kfp_task`)."""
    sys.path.pop(0)  # "": the zygote's cwd must not shadow what it loads; a task adds its own
    __import__(module.rpartition(".")[0])  # its package, which `-m` imports before it runs
    for name in (*preload, *_PRELOAD):
        __import__(name)
    _warm()


def _warm() -> None:
    """What every zygote does last before it forks: the tasks' streams built, and the
    loaded objects frozen."""
    _STDIO[:] = _stdio_ahead()
    _ZYGOTE_STDIO.extend((sys.stdin, sys.stdout, sys.stderr))
    threads = _thread_count()
    if threads != 1:
        raise RuntimeError(f"The zygote has {threads} threads after loading; forking is unsafe.")
    # Objects loaded so far are never collected: the children's collector leaves their
    # pages alone, so they stay shared instead of being copied into every child.
    gc.freeze()


def _load(bootstrap: str) -> None:
    head, _, last = bootstrap.rstrip("\n").rpartition("\n")
    if not (last.startswith(_RUN_PREFIX) and last.endswith(_RUN_SUFFIX)):
        raise RuntimeError(f"The bootstrap does not end as expected: {last[:200]!r}")
    # The bootstrap's expression that registers the runtime, without calling it.
    register = last[len(_RUN_PREFIX) : -len(_RUN_SUFFIX)]
    here = sys.path.pop(0)  # "": the zygote's cwd must not shadow what it loads
    try:
        code = compile(f"{head}\n{register}\n", "<string>", "exec")
        exec(code, {"__name__": "__main__", "__builtins__": builtins})
        if _RUNTIME not in sys.modules:
            raise RuntimeError(f"The bootstrap did not register {_RUNTIME}.")
        for name in _PRELOAD:
            __import__(name)
    finally:
        sys.path.insert(0, here)
    _warm()


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no procfs: trust what Python knows
        threading = sys.modules.get("threading")
        return threading.active_count() if threading is not None else 1


def _serve(bootstrap: str, pending: bytearray) -> None:
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    # A Python-level handler, so that each SIGCHLD writes to the wakeup pipe and poll()
    # returns: no child's end waits for the next request.
    signal.signal(signal.SIGCHLD, _ignore)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    poller = select.poll()
    poller.register(0, select.POLLIN)
    poller.register(wake_read, select.POLLIN)
    children: dict[int, int] = {}  # pid -> request id
    for request in _messages(pending):  # sent with the first message
        _start(request, children, bootstrap)
    while True:
        for fd, _ in poller.poll():
            if fd == wake_read:
                while _read_some(wake_read):
                    pass
                _reap(children)
                continue
            data = os.read(0, 1 << 20)
            if not data:
                _kill_all(children)
                return
            pending += data
            for request in _messages(pending):
                _start(request, children, bootstrap)


def _ignore(signum: int, frame: Any) -> None:
    pass


def _read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


def _messages(pending: bytearray) -> list[dict[str, Any]]:
    """The complete messages at the start of `pending`, removed from it."""
    found = []
    while len(pending) >= 4:
        size = int.from_bytes(pending[:4], "big")
        if len(pending) < 4 + size:
            break
        found.append(json.loads(bytes(pending[4 : 4 + size])))
        del pending[: 4 + size]
    return found


def _first_message(pending: bytearray) -> dict[str, Any]:
    """Read until `pending` holds a whole message; remove and return the first."""
    while len(pending) < 4 or len(pending) < 4 + int.from_bytes(pending[:4], "big"):
        data = os.read(0, 1 << 20)
        if not data:
            raise SystemExit(0)  # closed before it said anything
        pending += data
    size = int.from_bytes(pending[:4], "big")
    message: dict[str, Any] = json.loads(bytes(pending[4 : 4 + size]))
    del pending[: 4 + size]
    return message


def _write(line: str) -> None:
    os.write(1, f"{line}\n".encode())  # short lines: one atomic pipe write each


def _start(request: dict[str, Any], children: dict[int, int], bootstrap: str) -> None:
    request_id = request["id"]
    if "argv" in request:
        # Compiled here once rather than in each task that runs the same component.
        sys.modules[_RUNTIME].precompile(request["argv"])
    opened: list[int] = []
    try:
        opened.append(os.open(request["cwd"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        opened.append(os.open(request["log"], flags, 0o666))
        pid = os.fork()
    except OSError as e:
        for fd in opened:
            os.close(fd)
        message = f"Cannot start the task: {e}"[:2000]  # one short line: one pipe write
        _write(f"failed {request_id} {json.dumps(message)}")
        return
    if pid == 0:
        try:
            _child(request, opened[0], opened[1], bootstrap)
        finally:
            os._exit(1)  # a child must never return into the zygote's loop
    for fd in opened:
        os.close(fd)
    children[pid] = request_id
    _write(f"started {request_id} {pid}")


def _reap(children: dict[int, int]) -> None:
    reaped = False
    while True:
        if hasattr(os, "waitid"):
            try:
                found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # no child at all
                break
            if found is None:
                break
            pid = found.si_pid
            # Like a container's end, nothing the task started outlives it. Killed before
            # the task is reaped: while it is a zombie, its pid (the group's id) cannot be
            # reused by another process.
            _kill_group(pid)
            _, status = os.waitpid(pid, 0)
        else:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _kill_group(pid)
        reaped = True
        request_id = children.pop(pid, None)
        if request_id is not None:
            _write(f"exited {request_id} {os.waitstatus_to_exitcode(status)}")
    if reaped:
        # What an ended task left outside its group was adopted by the zygote when the
        # task ended; what a killed leftover had started, when that one died.
        _kill_strays(children)


def _kill_all(children: dict[int, int]) -> None:
    for pid in children:
        _kill_group(pid)
    for pid in children:
        os.waitpid(pid, 0)
    children.clear()
    strays = _kill_strays(children)
    while strays:  # what each killed one leaves is adopted in turn
        for pid in strays:
            try:  # noqa: SIM105
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        strays = _kill_strays(children)


def _kill_strays(children: dict[int, int]) -> list[int]:
    """SIGKILL the zygote's children that are not tasks it runs (orphans adopted from
    ended tasks), and return them. Reaped as any child is."""
    strays = [pid for pid in _own_children() if pid not in children]
    for pid in strays:
        _kill_group(pid)  # its own group, if it made one
        try:  # noqa: SIM105
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return strays


def _own_children() -> list[int]:
    pid = os.getpid()
    try:  # one thread: its children are the process's
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except OSError:  # no procfs: no subreaper either, nothing is adopted
        return []


def _kill_group(pid: int) -> None:
    # try rather than contextlib.suppress, here and below: run once per task, every object
    # a call touches costs a page copied between the zygote and its children.
    try:  # noqa: SIM105
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- in the child -----------------------------------------------------------------------


def _child(request: dict[str, Any], cwd: int, log: int, bootstrap: str) -> NoReturn:
    code = 1
    try:
        os.setsid()
        _become_subreaper()  # not inherited through fork
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.fchdir(cwd)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # also the zygote's wakeup pipe
    except BaseException:
        os._exit(code)  # nowhere to say why: stdout may still be the zygote's pipe
    try:
        _confine(request)
        if "exec" in request:
            _exec(request)
        if "kfp" in request:
            code = _kfp_task(request, bootstrap)
        else:
            _become_task(request)
            _set_argv(["-c", *request["argv"]], ["-c", bootstrap, *request["argv"]])
            code = _run(lambda: sys.modules[_RUNTIME].main(request["argv"]))
    except BaseException as e:
        sys.excepthook(type(e), e, e.__traceback__)
    finally:
        os._exit(code & 0xFF)  # what the OS keeps of any int; cannot raise


def _confine(request: dict[str, Any]) -> None:
    """Apply the task's bounds to this process (and so to all it starts), before it runs
    anything: a task that cannot be held to them does not run."""
    try:
        for procs in request.get("cgroups", ()):
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # 0: the writing process
            finally:
                os.close(fd)
        if "rlimit_data" in request:
            import resource

            limit = request["rlimit_data"]
            if "exec" not in request:  # forked: what it shares with the zygote is not its use
                limit += _data_size()
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        if "cpus" in request:
            os.sched_setaffinity(0, request["cpus"])
    except (OSError, ValueError) as e:
        os.write(2, f"dagyard: cannot hold the task to its cgroup and limits: {e}\n".encode())
        os._exit(1)


def _data_size() -> int:
    """This process's data segment (what RLIMIT_DATA counts), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _exec(request: dict[str, Any]) -> NoReturn:
    """Replace this process with the request's command, as `subprocess.Popen` would."""
    _environment(request)
    for name in ("SIGPIPE", "SIGXFSZ"):  # ignored by Python, kept ignored by exec
        if hasattr(signal, name):
            _signal.signal(int(getattr(signal, name)), int(signal.SIG_DFL))
    argv = request["exec"]
    try:
        os.execvpe(argv[0], argv, os.environ)
    except OSError as e:
        os.write(2, f"dagyard: Cannot start {argv[0]!r}: {e}\n".encode())
    os._exit(127)


def _environment(request: dict[str, Any]) -> None:
    # The request holds only what differs: most of a task's environment is the zygote's.
    for key in request["unset"]:
        os.environ.pop(key, None)
    for key, value in request["env"].items():
        os.environ[key] = value


def _become_task(request: dict[str, Any]) -> None:
    """Become a fresh interpreter in the task's environment, writing to its log."""
    _signal.set_wakeup_fd(-1)
    _signal.signal(_SIGCHLD, _SIGCHLD_AT_START)
    _environment(request)
    time.tzset()  # TZ may differ from the zygote's
    # Stdin is /dev/null, like the files _stdio_ahead built them on; stdout and stderr
    # share one file description, the log the zygote opened.
    streams = _STDIO if _seekable_at_start(1) else None
    for fd, name in enumerate(_STDIO_NAMES):
        stream = streams[fd] if streams else _stdio(fd, getattr(sys, f"__{name}__"))
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    # `random` reseeds itself in a forked child (os.register_at_fork), as do tempfile's
    # name sequences; nothing to do for them here.


def _set_argv(argv: list[str], options: list[str]) -> None:
    """`sys.argv` as `argv`, and `sys.orig_argv` as this interpreter's program with
    `options`."""
    sys.argv = argv
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = [sys.orig_argv[0], *options]


def _kfp_task(request: dict[str, Any], module: str) -> int:
    """What kfp's runner script does with `request["kfp"]` (its `$0 "$@"`), from the
    shell's `mktemp -d` to `python3 -m module`'s exit code."""
    source, *args = request["kfp"]
    _become_task(request)
    try:
        folder = _mktemp_folder()
    except OSError as e:
        os.write(2, f"mktemp: failed to create directory: {e}\n".encode())
        return 1
    path = os.path.join(folder, "ephemeral_component.py")
    try:
        with open(path, "wb") as f:
            f.write(os.fsencode(source))  # the very bytes `printf "%s" "$0"` writes
    except OSError as e:
        os.write(2, f"sh: cannot create {path}: {e.strerror}\n".encode())
        return 2  # the shell's exit for a failed redirection
    _shell_pwd()
    os.environ["_KFP_RUNTIME"] = "true"
    rest = ["--component_module_path", path, *args]
    # As `python3 -m` starts: argv[0] is "-m" until runpy puts the module's file there.
    sys.argv = ["-m", *rest]
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = ["python3", "-m", module, *rest]  # as the shell found it on PATH
    if not getattr(sys.flags, "safe_path", False):
        sys.path.insert(0, os.getcwd())
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=builtins, __annotations__={})
    sys.modules["__main__"] = main  # the zygote's own lives on in its functions' globals
    return _run(lambda: _run_module(module))


def _run_module(module: str) -> None:
    """Run `module` as `python -m` runs it (its globals are not an exit code)."""
    runpy._run_module_as_main(module)  # type: ignore[attr-defined]


_TEMP_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _mktemp_folder() -> str:
    """A new folder as `mktemp -d` makes it: TMPDIR/tmp.XXXXXXXXXX, mode 0700."""
    root = os.environ.get("TMPDIR") or "/tmp"
    while True:
        name = "tmp." + "".join(_TEMP_LETTERS[b % 62] for b in os.urandom(10))
        path = os.path.join(root, name)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path


def _shell_pwd() -> None:
    """PWD as a POSIX shell exports it: the inherited one if it names the working folder
    by an absolute path, else the working folder's own."""
    pwd = os.environ.get("PWD", "")
    try:
        same = pwd.startswith("/") and os.path.samefile(pwd, ".")
    except OSError:
        same = False
    os.environ["PWD"] = pwd if same else os.getcwd()


def _stdio_ahead() -> list[io.TextIOWrapper]:
    """A task's standard streams on fds 0-2, built while those are /dev/null.

    What a stream learns of its file when it is made: whether it is seekable, and where it
    starts (a text stream skips the BOM of an encoding that has one past the start). Built
    on /dev/null, they are what a child makes for itself when its files are seekable and at
    their start, as its /dev/null and newly opened log are (`_seekable_at_start`).
    """
    saved = [os.dup(fd) for fd in (0, 1, 2)]  # the zygote's own: its pipes and stderr
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        return [_stdio(fd, getattr(sys, f"__{name}__")) for fd, name in enumerate(_STDIO_NAMES)]
    finally:
        for fd, copy in enumerate(saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)


def _seekable_at_start(fd: int) -> bool:
    try:
        return os.lseek(fd, 0, os.SEEK_CUR) == 0
    except OSError:  # a pipe or such, not seekable
        return False


def _stdio(fd: int, template: io.TextIOWrapper) -> io.TextIOWrapper:
    """A standard stream as an unbuffered interpreter (PYTHONUNBUFFERED=1) makes it."""
    raw = io.FileIO(fd, "rb" if fd == 0 else "wb", closefd=False)
    raw.name = f"<{_STDIO_NAMES[fd]}>"
    # Output goes straight to the raw file, as CPython's own unbuffered streams do; stdin
    # stays buffered even then, since TextIOWrapper reads through read1().
    buffer: Any = io.BufferedReader(raw) if fd == 0 else raw
    stream = io.TextIOWrapper(
        buffer,
        encoding=template.encoding,
        errors=template.errors,
        newline="\n",
        write_through=True,
    )
    setattr(stream, "mode", "r" if fd == 0 else "w")  # noqa: B010 - read-only to type checkers
    return stream


def _run(main: Callable[[], object]) -> int:
    """`sys.exit(main())` and the interpreter's exit, as the bootstrap (or `-m`) would run
    them."""
    interrupted = False
    try:
        code = _exit_code(main())
    except SystemExit as e:
        code = _exit_code(e.code)
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        sys.excepthook(type(e), e, e.__traceback__)
        code = 1
    _finalize()
    if interrupted:  # the interpreter then dies of SIGINT, so its parent knows
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _finalize() -> None:
    """What the interpreter does at exit before it is gone (as multiprocessing's children)."""
    threading = sys.modules.get("threading")
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()  # joins the non-daemon threads the task started
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105
            stream.flush()
        except Exception:
            pass


if __name__ == "__main__":
    _main()
