"""kfp-compiled lightweight tasks forked from a warm zygote of kfp's executor: a task so
started cannot tell it was not run by kfp's own command line, and ends the same way.

kfp's compiler (`component_factory._get_command_and_args_for_lightweight_component`)
writes the command `sh -ec SCRIPT SOURCE --executor_input ... --function_to_execute F`,
whose SCRIPT makes a folder with `mktemp -d`, writes SOURCE into it as
`ephemeral_component.py` and runs `_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main
--component_module_path THAT_FILE "$@"`; kfp's `executor_main` loads the file as module
`ephemeral_component` (`dsl.utils.load_module`) and kfp's `Executor` writes the outputs.
Each test runs the same launch with the fork server on (forked from the kfp zygote) and
off (that command exec'd), and compares.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from test_executor_contract import finish

from dagyard.engine.python_functions import task_command
from dagyard.executors.base import Launch, Outcome, PythonFunction
from dagyard.executors.environments import EnvironmentCache
from dagyard.executors.local import LocalExecutor

pytestmark = pytest.mark.kfp


@kfp_dsl.component(base_image="python:3.11")
def probe(x: int) -> str:
    import json
    import os
    import signal
    import stat
    import sys

    component = sys.modules["ephemeral_component"]
    folder = os.path.dirname(component.__file__)
    with open(component.__file__, "rb") as f:
        source = f.read().decode()
    main = sys.modules["__main__"]
    streams = {}
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name)
        streams[name] = [stream.encoding, stream.errors, stream.write_through, stream.name]
    handlers = {}
    for name in ("SIGINT", "SIGTERM", "SIGCHLD", "SIGPIPE"):
        handler = signal.getsignal(getattr(signal, name))
        handlers[name] = getattr(handler, "__name__", str(handler))
    return json.dumps(
        {
            "x": x,
            "argv": sys.argv,
            "orig_argv": getattr(sys, "orig_argv", None),
            "executable": sys.executable,
            "path": sys.path[:2],
            "main": [main.__name__, main.__file__, sorted(vars(main))],
            "component": [component.__name__, os.path.basename(component.__file__)],
            "source_starts": source[:40],
            "folder": [os.path.dirname(folder), stat.S_IMODE(os.stat(folder).st_mode)],
            "folder_name": os.path.basename(folder),
            "cwd": os.getcwd(),
            "environ": dict(os.environ),
            "stdin": os.readlink("/proc/self/fd/0"),
            "streams": streams,
            "handlers": handlers,
            "ppid": os.getppid(),
        }
    )


@kfp_dsl.component(base_image="python:3.11")
def fails(x: int) -> int:
    raise ValueError(f"no good: {x}")


@kfp_dsl.component(base_image="python:3.11")
def exits(x: int) -> int:
    import sys

    sys.exit(x)


def kfp_argv(component: Any, folder: Path) -> list[str]:
    """command + args of `component` as the real kfp compiles it."""
    path = folder / f"{component.name}.yaml"
    kfp_compiler.Compiler().compile(component, str(path))
    spec = yaml.safe_load(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    return [*executor["container"]["command"], *executor["container"]["args"]]


def launch(component: Any, root: Path, x: int) -> Launch:
    """One attempt of `component` with input x, in its own folder under `root`."""
    root.mkdir(parents=True)
    document = {
        "inputs": {"parameterValues": {"x": x}},
        "outputs": {
            "parameters": {"Output": {"outputFile": str(root / "Output")}},
            "outputFile": str(root / "executor_output.json"),
        },
    }
    argv = [a.replace("{{$}}", json.dumps(document)) for a in kfp_argv(component, root)]
    return Launch(
        task_id=root.name,
        run_id="run",
        attempt=1,
        command=task_command(argv),
        image="python:3.11",
        env={"PWD": "/elsewhere"},  # a stale PWD, which the shell replaces
        workdir=root,
        log_path=root / "logs" / "attempt-1.log",
    )


def run(executor: LocalExecutor, attempt: Launch) -> Outcome:
    handle = executor.submit(attempt)
    return finish(executor, [handle])[handle]


def output(attempt: Launch) -> Any:
    document = json.loads((attempt.workdir / "executor_output.json").read_text())
    return document["parameterValues"]["Output"]


@pytest.fixture(params=[True, False], ids=["forked", "execd"])
def either(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(
        kill_grace=2.0,
        fork_server=request.param,
        environments=EnvironmentCache(tmp_path / "envs"),
    )
    yield executor
    executor.close()


def test_the_command_is_read_as_kfps_runner_script(tmp_path: Path) -> None:
    command = launch(probe, tmp_path / "t", 1).command
    assert isinstance(command, PythonFunction) and command.kfp_program is not None
    source, *args = command.kfp_program
    assert "def probe(x: int) -> str:" in source
    assert args[0] == "--executor_input" and args[-2:] == ["--function_to_execute", "probe"]


def test_a_forked_task_sees_what_kfps_command_would_show_it(tmp_path: Path) -> None:
    """Forked and exec'd, the task sees the same argv, paths, `__main__`, environment,
    temporary folder and streams; only the pids and the folder's random name differ (and
    the session: forked, the Python leads it, where the shell would)."""
    reports = {}
    for forking in (True, False):
        executor = LocalExecutor(
            kill_grace=2.0, fork_server=forking, environments=EnvironmentCache(tmp_path / "e")
        )
        try:
            attempt = launch(probe, tmp_path / f"fork-{forking}", 7)
            outcome = run(executor, attempt)
            assert outcome.ok, attempt.log_path.read_text()
            report = json.loads(output(attempt))
            if forking:
                assert report["ppid"] in executor.kfp_zygote_pids.values()
            else:
                assert not executor.kfp_zygote_pids
        finally:
            executor.close()
        name = report.pop("folder_name")
        assert re.fullmatch(r"tmp\.[A-Za-z0-9]{10}", name)  # as mktemp names it
        text = json.dumps(report).replace(name, "TMP").replace(str(attempt.workdir), "WORK")
        # A long temporary folder is named through a short alias, one per attempt.
        text = text.replace(report["environ"]["TMPDIR"], "TMPDIR")
        report = json.loads(text)
        report.pop("ppid")
        reports[forking] = report
    forked, execd = reports[True], reports[False]
    assert forked["x"] == 7
    folder = forked["folder"][0]
    assert forked["argv"][1:3] == [
        "--component_module_path",
        f"{folder}/TMP/ephemeral_component.py",
    ]
    assert forked["argv"][0].endswith("kfp/dsl/executor_main.py")
    assert forked["path"] == [f"{folder}/TMP", "WORK"]  # load_module puts its folder first
    assert forked["main"][0] == "__main__"
    assert forked["environ"]["_KFP_RUNTIME"] == "true"
    assert forked["environ"]["PWD"] == "WORK"
    assert forked["folder"] == [forked["environ"].get("TMPDIR", "/tmp"), 0o700]
    assert forked == execd


def test_outputs_and_failures_match_the_command(either: LocalExecutor, tmp_path: Path) -> None:
    raised = launch(fails, tmp_path / "fails", 3)
    outcome = run(either, raised)
    assert outcome.exit_code == 1
    log = raised.log_path.read_text()
    assert "ValueError: no good: 3" in log and "Traceback (most recent call last)" in log
    exited = launch(exits, tmp_path / "exits", 5)
    assert run(either, exited).exit_code == 5


def test_tasks_from_one_zygote_share_no_state(tmp_path: Path) -> None:
    """Two tasks of the same component, one after the other from the same zygote: each
    loads its own `ephemeral_component` from its own folder."""
    executor = LocalExecutor(kill_grace=2.0, environments=EnvironmentCache(tmp_path / "e"))
    try:
        first, second = launch(probe, tmp_path / "a", 1), launch(probe, tmp_path / "b", 2)
        assert run(executor, first).ok and run(executor, second).ok
        one, two = json.loads(output(first)), json.loads(output(second))
    finally:
        executor.close()
    assert (one["x"], two["x"]) == (1, 2)
    assert one["ppid"] == two["ppid"]
    assert one["argv"][2] != two["argv"][2]


def test_a_task_that_sets_a_startup_variable_is_execd(tmp_path: Path) -> None:
    executor = LocalExecutor(kill_grace=2.0, environments=EnvironmentCache(tmp_path / "e"))
    try:
        attempt = launch(probe, tmp_path / "t", 1)
        attempt = Launch(**{**vars(attempt), "env": {"PYTHONHASHSEED": "7"}})
        assert run(executor, attempt).ok, attempt.log_path.read_text()
        report = json.loads(output(attempt))
        zygotes = executor.kfp_zygote_pids
    finally:
        executor.close()
    assert zygotes and report["ppid"] not in zygotes.values()  # started, but declined it
    assert report["environ"]["PYTHONHASHSEED"] == "7"
