"""Which container commands are lightweight Python functions, and what they need.

Belongs here: recognising the two kinds of lightweight Python component commands, ours
(`dagyard.runtime.embed`) and kfp's (`sh -c "<pip install ...> && \\"$0\\" \\"$@\\"" sh -ec
<runner> SOURCE ...`), as the engine builds an attempt's launch: the executor is told
what it runs (`executors.base.PythonFunction`: its packages, index URLs and the part
that runs it without installing anything) and never reads a command line to find out.
Not here: choosing or building the interpreter, or starting processes (the executors').
Pure functions over argv; no I/O.

A command that is recognised neither way is a plain `Command`: it runs as it is.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence

from dagyard.executors.base import Command, PythonFunction
from dagyard.runtime.embed import is_lightweight_command

_PACKAGES = "--packages_to_install"
_INDEX_URLS = "--pip_index_urls"

# kfp's `_install_python_packages_script_template` (kfp 2.x): make sure pip exists, run the
# pip installs, then exec the rest of the command line.
_KFP_INSTALL = re.compile(
    r"\s*if ! \[ -x \"\$\(command -v pip\)\" \]; then\n[^\n]*ensurepip[^\n]*\nfi\n"
    r"(?P<installs>.*)&& \"\$0\" \"\$@\"\s*",
    re.DOTALL,
)
# kfp's `_use_venv_script_template`: a throwaway venv per task, which we replace by ours.
_KFP_VENV = re.compile(
    r"\n?export PIP_DISABLE_PIP_VERSION_CHECK=1\ntmp=\$\(mktemp -d\)\n"
    r"python3 -m venv \"\$tmp/venv\" --system-site-packages\n\. \"\$tmp/venv/bin/activate\"\n"
)
_PIP_FLAGS = {"--quiet", "-q", "--no-warn-script-location", "--upgrade", "-U"}
_NO_DEPS = "--no-deps"
# kfp's `_get_command_and_args_for_lightweight_component`: write the source (`$0`) to a
# fresh temporary folder and run kfp's executor on it with the other arguments.
_KFP_RUNNER = re.compile(
    r"\s*program_path=\$\(mktemp -d\)\s+"
    r'printf "%s" "\$0" > "\$program_path/ephemeral_component\.py"\s+'
    r"_KFP_RUNTIME=true python3 -m kfp\.dsl\.executor_main\s+--component_module_path\s+"
    r'"\$program_path/ephemeral_component\.py"\s+"\$@"\s*'
)
_PIP_INDEX_OPTIONS = {"--index-url": 0, "-i": 0, "--extra-index-url": 1, "--trusted-host": 2}


def task_command(argv: Sequence[str]) -> Command | PythonFunction:
    """What kind of command `argv` (placeholders resolved) is: a lightweight Python
    component's, with what it needs, or a command to run as it is."""
    return python_function(argv) or Command(tuple(argv))


def python_function(argv: Sequence[str]) -> PythonFunction | None:
    """What `argv` needs if it is a lightweight Python component's command, else None."""
    argv = list(argv)
    if is_lightweight_command(argv):
        return _dagyard_function(argv)
    return _kfp_function(argv)


def _dagyard_function(argv: Sequence[str]) -> PythonFunction | None:
    requirements: list[str] = []
    index_urls: list[str] = []
    start = 3
    try:
        if argv[start : start + 1] == [_PACKAGES]:
            requirements = _json_strings(argv[start + 1])
            start += 2
            if argv[start : start + 1] == [_INDEX_URLS]:
                index_urls = _json_strings(argv[start + 1])
                start += 2
    except (IndexError, ValueError):
        return None  # malformed: let the runtime report it
    return PythonFunction(
        argv=tuple(argv),
        runner="dagyard",
        packages=tuple(requirements),
        index_urls=tuple(index_urls),
        body=(*argv[1:3], *argv[start:]),
    )


def _json_strings(text: str) -> list[str]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"not a JSON list of strings: {text!r}")
    return value


def _kfp_function(argv: Sequence[str]) -> PythonFunction | None:
    body_start = 0
    requirements: list[str] = []
    index_urls: list[str] = []
    no_deps: list[str] = []
    if len(argv) >= 4 and list(argv[:2]) == ["sh", "-c"]:
        match = _KFP_INSTALL.fullmatch(argv[2])
        if match is not None:
            parsed = _pip_installs(match.group("installs"))
            if parsed is None:
                return None
            requirements, index_urls, no_deps = parsed
            body_start = 3
    body = argv[body_start:]
    is_runner = (
        len(body) >= 3
        and body[0] == "sh"
        and body[1] in ("-c", "-ec")
        and "kfp.dsl.executor_main" in body[2]
    )
    if not is_runner and body_start == 0:
        return None
    standard = len(body) >= 4 and body[1] == "-ec" and _KFP_RUNNER.fullmatch(body[2])
    return PythonFunction(
        argv=tuple(argv),
        runner="kfp",
        packages=tuple(requirements),
        index_urls=tuple(index_urls),
        body=tuple(body),
        no_deps=tuple(no_deps),
        kfp_program=tuple(body[3:]) if standard else None,
    )


def _pip_installs(script: str) -> tuple[list[str], list[str], list[str]] | None:
    """The requirements and index URLs of kfp's `python3 -m pip install ... && ...` chain,
    and those of the requirements installed with `--no-deps`, or None if the script does
    anything else."""
    script = _KFP_VENV.sub(" ", script).strip()
    script = script.removeprefix("PIP_DISABLE_PIP_VERSION_CHECK=1").strip()
    try:
        tokens = shlex.split(script)
    except ValueError:
        return None
    requirements: list[str] = []
    index_urls: list[str] = []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token == "&&":
            commands.append([])
        else:
            commands[-1].append(token)
    no_deps: list[str] = []
    for command in commands:
        if command[:4] != ["python3", "-m", "pip", "install"]:
            return None
        alone = _NO_DEPS in command  # kfp installs itself so, on top of the other packages
        words = iter(command[4:])
        for word in words:
            if word in _PIP_FLAGS or word == _NO_DEPS:
                continue
            if word in _PIP_INDEX_OPTIONS:
                value = next(words, None)
                if value is None:
                    return None
                if _PIP_INDEX_OPTIONS[word] < 2 and value not in index_urls:
                    index_urls.append(value)
            elif word.startswith("-"):
                return None
            else:
                if word not in requirements:
                    requirements.append(word)
                if alone and word not in no_deps:
                    no_deps.append(word)
    return requirements, index_urls, no_deps
