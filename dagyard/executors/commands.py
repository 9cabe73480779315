"""Which Python a task's command line needs, read from the command line itself.

Belongs here: recognising the two kinds of lightweight Python component commands, ours
(`dagyard.runtime.embed`) and kfp's (`sh -c "<pip install ...> && \\"$0\\" \\"$@\\"" sh -ec
<runner> SOURCE ...`), and rewriting them to run on a given interpreter without installing
anything per task. Not here: choosing or building the interpreter (`environments.py`) and
starting processes (`local.py`). Pure functions over argv; no I/O.

A command that is recognised neither way is none of our business: it runs as it is.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Sequence
from typing import Literal

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
_PIP_FLAGS = {"--quiet", "-q", "--no-warn-script-location", "--no-deps", "--upgrade", "-U"}
_PIP_INDEX_OPTIONS = {"--index-url": 0, "-i": 0, "--extra-index-url": 1, "--trusted-host": 2}


@dataclasses.dataclass(frozen=True)
class PythonCommand:
    """A lightweight component's command line and the packages it needs."""

    kind: Literal["dagyard", "kfp"]
    # The command line as given, placeholders resolved.
    argv: tuple[str, ...]
    # pip requirement strings the interpreter must satisfy, in the order given.
    requirements: tuple[str, ...]
    # Package index URLs; the first is the main index, the others extra ones.
    index_urls: tuple[str, ...]
    # Where the part that runs the component starts in argv (after any install step).
    body_start: int

    def argv_for(self, python: str) -> list[str]:
        """The command line that runs the component on `python` with nothing to install.

        For our commands, `python` replaces `python3` and the package options are dropped:
        the executor has made sure of the packages, and a runtime that checked again would
        call pip for requirements it cannot judge (URLs), in an environment without pip.
        kfp's runner is a shell script calling `python3`, so it keeps its argv and needs
        `python` first on PATH instead (see `environments.bin_dir_for`).
        """
        if self.kind == "kfp":
            return list(self.argv[self.body_start :])
        return [python, *self.argv[1:3], *self.argv[self.body_start :]]


def python_command(argv: Sequence[str]) -> PythonCommand | None:
    """What `argv` needs if it is a lightweight Python component's command, else None."""
    if is_lightweight_command(argv):
        return _dagyard_command(argv)
    return _kfp_command(argv)


def _dagyard_command(argv: Sequence[str]) -> PythonCommand | None:
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
    return PythonCommand("dagyard", tuple(argv), tuple(requirements), tuple(index_urls), start)


def _json_strings(text: str) -> list[str]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"not a JSON list of strings: {text!r}")
    return value


def _kfp_command(argv: Sequence[str]) -> PythonCommand | None:
    body_start = 0
    requirements: list[str] = []
    index_urls: list[str] = []
    if len(argv) >= 4 and list(argv[:2]) == ["sh", "-c"]:
        match = _KFP_INSTALL.fullmatch(argv[2])
        if match is not None:
            parsed = _pip_installs(match.group("installs"))
            if parsed is None:
                return None
            requirements, index_urls = parsed
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
    return PythonCommand("kfp", tuple(argv), tuple(requirements), tuple(index_urls), body_start)


def _pip_installs(script: str) -> tuple[list[str], list[str]] | None:
    """The requirements and index URLs of kfp's `python3 -m pip install ... && ...` chain,
    or None if the script does anything else."""
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
    for command in commands:
        if command[:4] != ["python3", "-m", "pip", "install"]:
            return None
        words = iter(command[4:])
        for word in words:
            if word in _PIP_FLAGS:
                continue  # --no-deps too: a cached environment gets the dependencies
            if word in _PIP_INDEX_OPTIONS:
                value = next(words, None)
                if value is None:
                    return None
                if _PIP_INDEX_OPTIONS[word] < 2 and value not in index_urls:
                    index_urls.append(value)
            elif word.startswith("-"):
                return None
            elif word not in requirements:
                requirements.append(word)
    return requirements, index_urls
