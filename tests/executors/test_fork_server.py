"""The local executor's fork server: which tasks it forks, and that a forked task cannot
tell it was not exec'd (same view of its process, same outcomes, no state shared between
tasks), and that the zygote is restarted when it dies and stopped by `close`.

The contract suite (test_executor_contract.py) also runs with the fork server on and off.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_executor_contract import IGNORE_SIGTERM, _alive, finish, wait_until

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Launch, Outcome
from dagyard.executors.local import LocalExecutor
from dagyard.runtime.embed import EXECUTOR_INPUT_PLACEHOLDER, lightweight_container

PROBE = """\
from dagyard.dsl import *
from typing import *

def probe() -> str:
    import json, os, signal, sys, dagyard, dagyard.dsl
    handlers = {}
    for name in ("SIGINT", "SIGTERM", "SIGCHLD", "SIGPIPE", "SIGHUP"):
        handler = signal.getsignal(getattr(signal, name))
        handlers[name] = getattr(handler, "__name__", str(handler))
    streams = {}
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name)
        streams[name] = [stream.encoding, stream.errors, stream.line_buffering,
                         stream.write_through, stream.name, stream.mode, stream.fileno(),
                         stream.seekable(), stream.tell(),
                         stream is getattr(sys, "__" + name + "__")]
    return json.dumps({
        "pid": os.getpid(),
        "cmdline": open("/proc/self/cmdline").read(),
        "ppid": os.getppid(),
        "own_session": os.getsid(0) == os.getpid() == os.getpgrp(),
        "cwd": os.getcwd(),
        # The temporary folder's variables by the folder they name (a long one is given
        # through a short alias of its own, different for each attempt).
        "environ": {k: os.path.realpath(v) if k in ("TMPDIR", "TEMP", "TMP") else v
                    for k, v in os.environ.items()},
        "argv": sys.argv,
        "path0": sys.path[0],
        "stdin": [os.readlink("/proc/self/fd/0"), sys.stdin.read()],
        "fds": sorted(os.listdir("/proc/self/fd")),
        "streams": streams,
        "handlers": handlers,
        "dsl": sorted(n for n in dir(dagyard.dsl) if not n.startswith("_")),
        "dagyard": sorted(n for n in dir(dagyard) if not n.startswith("_")),
    })
"""


# In the command line of a process forked from the zygote (the zygote's own), never in
# that of an exec'd task.
ZYGOTE_DOCSTRING = "The fork server's zygote: a warm Python"


class Task:
    """A lightweight component `name` from `source`, launched in its own folder."""

    def __init__(
        self,
        root: Path,
        source: str,
        name: str,
        *,
        env: dict[str, str] | None = None,
        command: Callable[[list[str]], list[str]] = lambda c: c,
        **inputs: Any,
    ) -> None:
        root.mkdir(parents=True)
        self.root = root
        self.output_file = root / "executor_output.json"
        command_, args = lightweight_container(function_source=source, function_name=name)
        document = {
            "inputs": {"parameterValues": inputs},
            "outputs": {
                "parameters": {"Output": {"outputFile": str(root / "Output")}},
                "outputFile": str(self.output_file),
            },
        }
        text = json.dumps(document)
        argv = [a.replace(EXECUTOR_INPUT_PLACEHOLDER, text) for a in command(command_) + args]
        self.launch = Launch(
            task_id=root.name,
            run_id="run",
            attempt=1,
            command=task_command(argv),
            image="python:3.11",
            env=env or {},
            workdir=root,
            log_path=root / "logs" / "attempt-1.log",
        )

    @property
    def log(self) -> str:
        return self.launch.log_path.read_text()

    def output(self) -> Any:
        return json.loads(self.output_file.read_text())["parameterValues"]["Output"]


def function(body: str, returns: str = "str") -> str:
    """The source of a component `f() -> returns` whose body is `body`."""
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return f"from dagyard.dsl import *\nfrom typing import *\n\ndef f() -> {returns}:\n{lines}"


def run(executor: LocalExecutor, task: Task) -> Outcome:
    handle = executor.submit(task.launch)
    return finish(executor, [handle])[handle]


@pytest.fixture
def executor() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(kill_grace=2.0)
    yield executor
    executor.close()


@pytest.fixture(params=[True, False], ids=["fork-server", "no-fork-server"])
def either(request: pytest.FixtureRequest) -> Iterator[LocalExecutor]:
    """An executor with the fork server on, then off: the test's result must not differ."""
    executor = LocalExecutor(kill_grace=2.0, fork_server=request.param)
    yield executor
    executor.close()


def forked(executor: LocalExecutor, pid: int) -> bool:
    """Whether `pid` is the parent of a forked task (else: this process, which exec'd it)."""
    assert pid in (executor.zygote_pid, os.getpid())
    return pid == executor.zygote_pid


def test_a_lightweight_task_is_forked_from_the_zygote(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    assert executor.zygote_pid is None  # started on first use
    task = Task(tmp_path / "t", PROBE, "probe")
    assert run(executor, task).ok, task.log
    zygote = executor.zygote_pid
    assert zygote is not None and zygote != os.getpid()
    assert json.loads(task.output())["ppid"] == zygote
    again = Task(tmp_path / "again", PROBE, "probe")
    assert run(executor, again).ok
    assert json.loads(again.output())["ppid"] == zygote == executor.zygote_pid


def test_a_forked_task_sees_what_an_execd_one_sees(tmp_path: Path) -> None:
    views = []
    for fork_server in (True, False):
        executor = LocalExecutor(fork_server=fork_server)
        try:
            task = Task(tmp_path / str(fork_server), PROBE, "probe", env={"DAGYARD_X": "a b=c"})
            assert run(executor, task).ok, task.log
            view = json.loads(task.output())
            assert forked(executor, view.pop("ppid")) == fork_server
        finally:
            executor.close()
        assert view.pop("pid") != os.getpid()
        assert (ZYGOTE_DOCSTRING in view.pop("cmdline")) == fork_server
        assert Path(view.pop("cwd")).samefile(task.root)
        assert task.log == ""
        view["argv"] = [a.replace(str(task.root), "<root>") for a in view["argv"]]
        view["environ"] = {
            k: v.replace(str(task.root), "<root>") for k, v in view["environ"].items()
        }
        views.append(view)
    assert views[0] == views[1]
    view = views[0]
    assert view["own_session"] and view["stdin"] == ["/dev/null", ""]
    temporary = dict.fromkeys(("TMPDIR", "TEMP", "TMP"), "<root>/tmp")  # the attempt's own
    assert view["environ"] == {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DAGYARD_X": "a b=c",
        **temporary,
    }
    assert view["path0"] == "" and view["argv"][0] == "-c"
    assert view["handlers"]["SIGINT"] == "default_int_handler"
    assert "component" not in view["dsl"] and view["dagyard"] == ["dsl", "runtime"]


def test_log_gets_stdout_and_stderr_in_order_and_exit_codes_match(
    either: LocalExecutor, tmp_path: Path
) -> None:
    body = "import sys\nprint('one')\nprint('two', file=sys.stderr)\nprint('three', end='')\n"
    task = Task(tmp_path / "t", function(body + "sys.exit(3)"), "f")
    assert run(either, task) == Outcome(3, None, os.uname().nodename)
    assert task.log == "one\ntwo\nthree"
    failing = Task(tmp_path / "failing", function("raise ValueError('boom')"), "f")
    outcome = run(either, failing)
    assert outcome.exit_code == 1
    assert failing.log.endswith("ValueError: boom\n") and "line 5, in f" in failing.log


def test_a_source_that_warns_when_compiled_warns_in_the_log_of_each_task(
    either: LocalExecutor, tmp_path: Path
) -> None:
    # The zygote compiles a component's source ahead for the tasks it forks, but not one
    # that warns: the warning belongs in every task's log, as when it is exec'd.
    source = function("x = 'a'\nreturn str(x is 'a')")
    for name in ("first", "second"):
        task = Task(tmp_path / name, source, "f")
        assert run(either, task).ok, task.log
        assert 'SyntaxWarning: "is" with a literal' in task.log
        assert task.output() == "True"


def test_a_task_that_aborts_is_killed_by_signal_6(either: LocalExecutor, tmp_path: Path) -> None:
    task = Task(tmp_path / "t", function("import os\nos.abort()"), "f")
    assert run(either, task) == Outcome(None, "killed by signal 6", os.uname().nodename)


def test_an_interrupted_task_dies_of_sigint_as_python_does(
    either: LocalExecutor, tmp_path: Path
) -> None:
    task = Task(tmp_path / "t", function("raise KeyboardInterrupt"), "f")
    assert run(either, task).error == "killed by signal 2"
    assert "KeyboardInterrupt" in task.log


def test_a_task_exits_as_an_interpreter_does(either: LocalExecutor, tmp_path: Path) -> None:
    # Python joins non-daemon threads, then runs atexit functions, then flushes.
    body = (
        "import atexit, sys, threading, time\n"
        "atexit.register(lambda: print('atexit'))\n"
        "def late():\n"
        "    time.sleep(0.2)\n"
        "    print('thread')\n"
        "threading.Thread(target=late).start()\n"
        "sys.stdout.write('unflushed')\n"
        "return 'done'"
    )
    task = Task(tmp_path / "t", function(body), "f")
    assert run(either, task).ok, task.log
    assert task.log == "unflushedthread\natexit\n"
    assert task.output() == "done"


def test_cancel_kills_a_forked_task_and_its_children(either: LocalExecutor, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    grandchild = f"{IGNORE_SIGTERM}time.sleep(60)"
    body = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {grandchild!r}])\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write(str(child.pid))\n"
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        "time.sleep(60)"
    )
    task = Task(tmp_path / "t", function(body), "f")
    handle = either.submit(task.launch)
    wait_until(pid_file.exists, "the grandchild has started")
    pid = int(pid_file.read_text())
    assert _alive(pid)
    either.cancel(handle)
    outcome = finish(either, [handle])[handle]
    assert outcome.error == "cancelled (killed by signal 15)"
    wait_until(lambda: not _alive(pid), f"the grandchild {pid} is gone")


def test_tasks_share_no_state(executor: LocalExecutor, tmp_path: Path) -> None:
    body = (
        "import json, random, sys, types\n"
        "seen = [getattr(json, 'mark', None), '/leak' in sys.path, 'leaky' in sys.modules]\n"
        "json.mark = 'set by a task'\n"
        "sys.path.append('/leak')\n"
        "sys.modules['leaky'] = types.ModuleType('leaky')\n"
        "return json.dumps([seen, random.random()])"
    )
    tasks = [Task(tmp_path / f"t{i}", function(body), "f") for i in range(2)]
    outputs = []
    for task in tasks:
        assert run(executor, task).ok, task.log
        outputs.append(json.loads(task.output()))
    assert [seen for seen, _ in outputs] == [[None, False, False]] * 2
    assert outputs[0][1] != outputs[1][1]  # each task draws its own random numbers


def test_tasks_the_zygote_cannot_run_as_exec_would_are_execd(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    def other_version(command: list[str]) -> list[str]:
        return [*command[:2], command[2] + "# compiled by another Dagyard\n", *command[3:]]

    assert run(executor, Task(tmp_path / "warm", PROBE, "probe")).ok
    tasks = [
        Task(tmp_path / "pythonpath", PROBE, "probe", env={"PYTHONPATH": str(tmp_path)}),
        Task(tmp_path / "locale", PROBE, "probe", env={"LC_ALL": "C"}),
        Task(tmp_path / "version", PROBE, "probe", command=other_version),
        Task(tmp_path / "forked", PROBE, "probe", env={"TZ": "UTC"}),
    ]
    starts = []
    for task in tasks:
        assert run(executor, task).ok, task.log
        view = json.loads(task.output())
        # Each is the zygote's child, exec'd from a fork of it or forked.
        assert forked(executor, view["ppid"])
        starts.append(ZYGOTE_DOCSTRING in view["cmdline"])
    assert starts == [False, False, False, True]


def test_a_dead_zygote_fails_its_tasks_and_is_replaced(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    body = f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(60)"
    task = Task(tmp_path / "t", function(body), "f")
    handle = executor.submit(task.launch)
    wait_until(started.exists, "the task runs")
    zygote = executor.zygote_pid
    assert zygote is not None
    (child,) = _children(zygote)
    os.kill(zygote, signal.SIGKILL)
    outcome = finish(executor, [handle])[handle]
    assert outcome.exit_code is None and outcome.error
    assert outcome.error.startswith(f"The fork server (pid {zygote}) was killed by signal 9 ")
    assert f"pid {child}, now killed" in outcome.error
    wait_until(lambda: not _alive(child), "the task of the dead zygote is gone")
    later = Task(tmp_path / "later", PROBE, "probe")
    assert run(executor, later).ok, later.log
    assert json.loads(later.output())["ppid"] == executor.zygote_pid != zygote


def test_close_stops_the_zygote(tmp_path: Path) -> None:
    executor = LocalExecutor()
    assert run(executor, Task(tmp_path / "t", PROBE, "probe")).ok
    zygote = executor.zygote_pid
    assert zygote is not None and _alive(zygote)
    executor.close()
    assert executor.zygote_pid is None
    assert not _alive(zygote)  # and reaped by close()


def test_an_interpreter_that_is_not_this_one_gets_its_own_zygote(tmp_path: Path) -> None:
    other = tmp_path / "bin" / "python"
    other.parent.mkdir()
    other.symlink_to(sys.executable)
    executor = LocalExecutor(python=str(other))
    try:
        task = Task(tmp_path / "t", function("import sys\nreturn sys.orig_argv[0]"), "f")
        assert run(executor, task).ok, task.log
        assert task.output() == str(other)
    finally:
        executor.close()


def _children(pid: int) -> list[int]:
    """The live children of process `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _alive(int(entry)):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


# A daemon as the textbook makes one: fork, setsid, fork again, the middle process exits;
# the daemon (which ignores SIGTERM) writes its pid to `pid_file` and sleeps.
DAEMONIZE = (
    "import os, signal, time\n"
    "def daemonize(pid_file):\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        if os.fork() == 0:\n"
    "            signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "            open(pid_file + '.tmp', 'w').write(str(os.getpid()))\n"
    "            os.replace(pid_file + '.tmp', pid_file)\n"
    "            time.sleep(60)\n"
    "        os._exit(0)\n"
    "    os.wait()\n"
    "    while not os.path.exists(pid_file):\n"
    "        time.sleep(0.005)\n"
)


@pytest.mark.parametrize("end", ["exits", "is cancelled"])
def test_a_daemon_a_forked_task_leaves_behind_is_killed_when_the_task_ends(
    executor: LocalExecutor, tmp_path: Path, end: str
) -> None:
    """The task and the zygote adopt orphans (child subreapers): a daemon that left the
    task's session is the zygote's child once the task ends, and is killed then."""
    pid_file = tmp_path / "daemon.pid"
    body = f"{DAEMONIZE}daemonize({str(pid_file)!r})\n"
    if end == "is cancelled":
        body += "time.sleep(60)\n"
    body += "return 'done'"
    task = Task(tmp_path / "t", function(body), "f")
    handle = executor.submit(task.launch)
    wait_until(pid_file.exists, "the daemon has started")
    pid = int(pid_file.read_text())
    if end == "is cancelled":
        assert _alive(pid)
        executor.cancel(handle)
    outcome = finish(executor, [handle])[handle]
    assert outcome.ok == (end == "exits"), task.log
    wait_until(lambda: not _alive(pid), f"the daemon {pid} is gone")


def test_a_daemon_of_a_forked_task_is_killed_when_the_zygote_is_stopped(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    """At the end of its input (closed, or its starter died), the zygote kills its tasks,
    then the daemons they leave behind."""
    pid_file = tmp_path / "daemon.pid"
    body = f"{DAEMONIZE}daemonize({str(pid_file)!r})\ntime.sleep(60)\nreturn 'done'"
    executor.submit(Task(tmp_path / "t", function(body), "f").launch)
    wait_until(pid_file.exists, "the daemon has started")
    pid = int(pid_file.read_text())
    executor.close()
    wait_until(lambda: not _alive(pid), f"the daemon {pid} is gone")
