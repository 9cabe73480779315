"""The container command of a compiled lightweight Python component.

Belongs here: building the `command` and `args` that run a user's function in a plain
`python:3.x` image with nothing of ours installed, and recognising such a command later.
This runs at compile time (in the SDK), never inside a task; what runs inside a task is
`executor.py`, `packages.py` and `artifacts.py`, which the command carries as compressed source.

Why embed instead of `pip install dagyard` per task: kfp pays about half a second per
task for `pip install kfp`. The embedded runtime (~30 KB of source without comments and
docstrings, ~12 KB compressed in the command) unpacks and compiles in about 20 ms at task
start and needs no network.

The command is

    ["python3", "-c", BOOTSTRAP,
     ("--packages_to_install", JSON, ("--pip_index_urls", JSON)?)?,
     ("--embedded_archive", BASE64, ("--embedded_file", NAME)?)?,
     "--function_source", SOURCE]

and the args are `["--executor_input", "{{$}}", "--function_to_execute", NAME]`, so the
bootstrap hands `sys.argv[1:]` unchanged to `executor.main`. BOOTSTRAP is one fixed text
per Dagyard version: it starts with a comment holding `RUNTIME_MARKER`.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import io
import json
import tokenize
import zlib
from collections.abc import Sequence

from dagyard.errors import CompileError

RUNTIME_MARKER = "dagyard-lightweight-runtime/1"
"""Present in every lightweight command's bootstrap (`command[2]`); an engine that finds
it may run the component with `executor.main(command[3:] + args)` instead of the image.
Bump the number when the command line that `executor.main` reads changes incompatibly."""

EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"

# Names `from dagyard.dsl import *` gives a component's source inside a task: the
# annotation vocabulary of `artifacts.py`, nothing that builds or compiles pipelines.
DSL_NAMES = (
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "EmbeddedInput",
    "HTML",
    "Input",
    "InputPath",
    "Markdown",
    "Metrics",
    "Model",
    "Output",
    "OutputPath",
    "PipelineTaskFinalStatus",
    "SlicedClassificationMetrics",
    "TaskConfig",
    "get_uri",
)

# The bootstrap registers the embedded modules under their real names, so that
# `from dagyard.dsl import *` in the component source and `import dagyard.runtime.artifacts`
# in the executor resolve to them. It always uses the embedded copy, even where dagyard is
# installed: the task then runs the very code it was compiled with (an installed dagyard of
# another version could read the command differently), and skips importing the whole
# installed package (`import dagyard` pulls in the SDK). The `__loader__` lets tracebacks
# show the embedded lines, which exist in no file.
_BOOTSTRAP = """\
# @MARKER@: runs a Dagyard lightweight component (see dagyard/runtime/embed.py)
import base64, sys, types, zlib
class _Source:
    def __init__(self, text): self.text = text
    def get_source(self, name): return self.text
def _module(name, source=None):
    module = sys.modules[name] = types.ModuleType(name)
    parent, _, child = name.rpartition(".")
    if parent: setattr(sys.modules[parent], child, module)
    if source is None: module.__path__ = []
    else:
        module.__loader__ = _Source(source)
        filename = "<embedded>/" + name.replace(".", "/") + ".py"
        exec(compile(source, filename, "exec"), module.__dict__)
    return module
_artifacts, _packages, _executor = zlib.decompress(base64.b64decode("@BLOB@")).decode().split("\\0")
_module("dagyard"); _module("dagyard.runtime")
_artifacts = _module("dagyard.runtime.artifacts", _artifacts)
_module("dagyard.runtime.packages", _packages)
_dsl = _module("dagyard.dsl")
_dsl.__all__ = @DSL_NAMES@
for _name in _dsl.__all__: setattr(_dsl, _name, getattr(_artifacts, _name))
sys.exit(_module("dagyard.runtime.executor", _executor).main(sys.argv[1:]))
"""


def lightweight_container(
    *,
    function_source: str,
    function_name: str,
    packages_to_install: Sequence[str] = (),
    pip_index_urls: Sequence[str] | None = None,
    embedded_archive: str | None = None,
    embedded_file: str | None = None,
) -> tuple[list[str], list[str]]:
    """(command, args) of a container that runs `function_name` from `function_source`.

    `function_source` is a module text that defines the function (without its component
    decorator), normally prefixed with `from dagyard.dsl import *` and
    `from typing import *`. Identical arguments give byte-identical results, so identical
    components deduplicate. `pip_index_urls` only matter when there are packages.
    `embedded_archive`: what the component embeds (base64 of a gzip'd tar), `embedded_file`
    the name in it of the one file handed to EmbeddedInput parameters, if not the folder.
    """
    if not function_name.isidentifier():
        raise CompileError(f"Function name {function_name!r} is not a Python identifier.")
    for requirement in packages_to_install:
        if not isinstance(requirement, str) or not requirement.strip():
            raise CompileError(
                f"packages_to_install entry {requirement!r} is not a requirement string such "
                "as 'pandas==2.2.2'."
            )
    command = ["python3", "-c", bootstrap()]
    if packages_to_install:
        command += ["--packages_to_install", json.dumps(list(packages_to_install))]
        if pip_index_urls:
            command += ["--pip_index_urls", json.dumps(list(pip_index_urls))]
    if embedded_archive:
        command += ["--embedded_archive", embedded_archive]
        if embedded_file:
            command += ["--embedded_file", embedded_file]
    command += ["--function_source", function_source]
    args = ["--executor_input", EXECUTOR_INPUT_PLACEHOLDER, "--function_to_execute", function_name]
    return command, args


def is_lightweight_command(command: Sequence[str]) -> bool:
    """Whether `command` is one that `lightweight_container` built (of any version)."""
    return (
        len(command) >= 3
        and list(command[:2]) == ["python3", "-c"]
        and command[2].startswith("# " + RUNTIME_MARKER.rsplit("/", 1)[0] + "/")
    )


@functools.cache
def bootstrap() -> str:
    """The `python3 -c` program of every lightweight command: fixed per Dagyard version."""
    sources = [stripped_source(name) for name in ("artifacts", "packages", "executor")]
    # Level 9 and base64 keep it small and ASCII; joined, the two compress better.
    blob = base64.b64encode(zlib.compress("\0".join(sources).encode(), 9)).decode()
    return (
        _BOOTSTRAP.replace("@MARKER@", RUNTIME_MARKER)
        .replace("@DSL_NAMES@", repr(list(DSL_NAMES)))
        .replace("@BLOB@", blob)
    )


def stripped_source(module: str) -> str:
    """The source of `dagyard.runtime.<module>` as it is shipped in a command: without
    comments and docstrings."""
    path = importlib.resources.files("dagyard.runtime").joinpath(f"{module}.py")
    return _strip_for_embedding(path.read_text(encoding="utf-8"))


def _strip_for_embedding(source: str) -> str:
    """`source` without comments and docstrings, which are a quarter of its size.

    Edits the text at the positions the tokenizer reports rather than re-rendering tokens,
    so the result is the same whichever Python version compiles the pipeline.
    """
    lines = source.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    code = [t for t in tokens if t.type not in (tokenize.NL, tokenize.COMMENT)]
    edits: list[tuple[int, int, int, int, str]] = []  # start row, col, end row, col, text
    for token in tokens:
        if token.type == tokenize.COMMENT:
            edits.append((*token.start, token.start[0], len(lines[token.start[0] - 1]), "\n"))
    statement_starts = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for i, token in enumerate(code[:-1]):
        # A string that is a whole statement: a docstring (or an equally idle string).
        if (
            token.type == tokenize.STRING
            and (i == 0 or code[i - 1].type in statement_starts)
            and code[i + 1].type == tokenize.NEWLINE
        ):
            edits.append((*token.start, *token.end, '""'))
    edits.sort()
    for start_row, start_col, end_row, end_col, text in reversed(edits):
        head = lines[start_row - 1][:start_col]
        tail = lines[end_row - 1][end_col:]
        if text == "\n":
            head = head.rstrip()
        lines[start_row - 1 : end_row] = [head + text + tail] if head or text != "\n" else []
    return "".join(lines)
