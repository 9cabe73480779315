"""The task side of KFP's executor contract for a lightweight Python component.

Belongs here: turning the ExecutorInput JSON into
the user function's arguments, calling it, and writing the ExecutorOutput JSON. Nothing
else: this file is shipped as source inside every compiled component (see `embed.py`) and
runs in a plain `python:3.x` image (3.9 or later), so it imports only the standard library
and `dagyard.runtime.artifacts`/`packages`, and keeps import cost tiny (no `inspect`, nothing
third-party; rarely needed modules are imported where they are used).

Command line, every flag followed by one value:
    --executor_input JSON        KFP's ExecutorInput (the `{{$}}` placeholder)
    --function_to_execute NAME   the function to call
    --function_source TEXT       module text that defines it
    --packages_to_install JSON   optional list of pip requirements
    --pip_index_urls JSON        optional list of index URLs; the first is `--index-url`
    --embedded_archive BASE64    optional gzip'd tar of what the component embeds, unpacked
                                 into a temporary folder put first on sys.path
    --embedded_file NAME         the one embedded file in it, if a file was embedded

Exit codes: 0 done; 1 the user's code raised, or returned what its annotations forbid;
2 the arguments or the executor input are wrong; 3 installing packages failed; 4 a write
failed for lack of disk space (an OSError ENOSPC or EDQUOT, raised by the user's code or
while writing the outputs; one wrapped in another error is 1). What it prints then may
be lost with the disk: the executor names a full disk too, from the space it reports.
"""

from __future__ import annotations

import json
import os
import sys
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from dagyard.runtime.artifacts import (
    Artifact,
    EmbeddedAnnotation,
    InputAnnotation,
    InputPath,
    OutputAnnotation,
    OutputPath,
    PipelineTaskFinalStatus,
    TaskConfig,
    artifact_class,
    embedded_asset,
    is_artifact_class,
    set_embedded,
    set_task_root,
    uri_to_path,
)
from dagyard.runtime.packages import ensure_packages

EXIT_USER_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INSTALL_FAILED = 3
EXIT_NO_SPACE = 4

_FLAGS = frozenset(
    {
        "--executor_input",
        "--function_to_execute",
        "--function_source",
        "--packages_to_install",
        "--pip_index_urls",
        "--embedded_archive",
        "--embedded_file",
    }
)
# kfp's name for the module holding the user's source; tracebacks and pickles show it.
_MODULE_NAME = "ephemeral_component"
# Function sources compiled ahead by `precompile`, by (source, function name): filled only
# in a fork server's zygote, so that each task forked from it need not compile its source.
_precompiled: dict[tuple[str, str], types.CodeType] = {}
_PRECOMPILED_MAX = 16  # distinct components; a zygote lives as long as its executor
_NONE = type(None)
_UNIONS = (typing.Union, getattr(types, "UnionType", typing.Union))  # `X | Y` is 3.10+
_MISSING: Any = object()
# KFP v1 type names that may appear as strings in InputPath/OutputPath.
_NAMED_TYPES = {"string": str, "str": str, "text": str, "integer": int, "int": int}
_NAMED_TYPES.update({"float": float, "double": float, "boolean": bool, "bool": bool})
_NAMED_TYPES.update({"list": list, "jsonarray": list, "dict": dict, "jsonobject": dict})
# Go's strconv.ParseBool, with which KFP's launcher reads BOOLEAN output files.
_BOOLS = dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True)
_BOOLS.update(dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False))


class BadInput(Exception):
    """The arguments or the executor input are wrong (exit code 2)."""


class BadOutput(Exception):
    """The function produced outputs that its annotations do not allow (exit code 1)."""


def main(argv: Sequence[str]) -> int:
    """Run the component described by `argv` (see the module docstring); return the exit code."""
    try:
        options = _parse_argv(argv)
        executor_input = _json_option(options, "--executor_input")
        name = _option(options, "--function_to_execute")
        source = _option(options, "--function_source")
        if not isinstance(executor_input, dict):
            raise BadInput("--executor_input must be a JSON object")
        output_file = _key(executor_input, "outputs", "outputFile")
        set_task_root(os.path.dirname(str(output_file)))
        packages = _json_list(options, "--packages_to_install")
        index_urls = _json_list(options, "--pip_index_urls")
    except BadInput as e:
        return _fail(EXIT_BAD_INPUT, f"bad executor input: {e}")
    if packages and not ensure_packages(packages, index_urls):
        return EXIT_INSTALL_FAILED
    embedded = None
    try:
        if "--embedded_archive" in options:
            embedded = _unpack(options["--embedded_archive"], options.get("--embedded_file"))
        return _call(source, name, executor_input, str(output_file))
    except BadInput as e:
        return _fail(EXIT_BAD_INPUT, f"bad executor input: {e}")
    finally:
        if embedded is not None:
            import shutil

            shutil.rmtree(embedded, ignore_errors=True)


def _call(source: str, name: str, executor_input: dict[str, Any], output_file: str) -> int:
    """Load the function, call it and write its outputs; the exit code."""
    try:
        func = _load_function(source, name)
        task = _Task(func, executor_input)
        kwargs = task.arguments()
        try:
            result = func(**kwargs)
        finally:
            task.cleanup()
        output = task.executor_output(result)
        _write_json(output_file, output)
    except BadInput as e:
        return _fail(EXIT_BAD_INPUT, f"bad executor input: {e}")
    except BadOutput as e:
        return _fail(EXIT_USER_ERROR, str(e))
    except Exception as e:
        # ENOSPC or EDQUOT: a full disk (the user's own OSError, as most libraries let it be)
        code = EXIT_NO_SPACE if getattr(e, "errno", 0) in (28, 122) else EXIT_USER_ERROR
        try:  # stderr on a full disk fails too
            _report_user_exception(e, source, name)
            if code == EXIT_NO_SPACE:
                _fail(code, "no space left on device: free space on the disk, then retry the run")
        except OSError:
            pass
        return code
    return 0


def _unpack(archive: str, file: str | None) -> str:
    """Unpack `--embedded_archive` into a new temporary folder (under the task's TMPDIR),
    put it first on sys.path so that embedded modules import, as kfp's extraction helper
    does, and note it for EmbeddedInput parameters; the folder."""
    import base64
    import io
    import tarfile
    import tempfile

    folder = tempfile.mkdtemp(prefix="dagyard-embedded-")
    try:
        data = base64.b64decode(archive.encode("ascii"), validate=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            # The "data" filter (3.12, and late 3.9-3.11 releases) keeps every file inside.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(folder, filter="data")
            else:
                tar.extractall(folder)
    except (ValueError, tarfile.TarError) as e:
        raise BadInput(f"--embedded_archive is not a base64 gzip'd tar ({e})") from e
    sys.path.insert(0, folder)
    set_embedded(folder, os.path.join(folder, file) if file else None)
    return folder


def _fail(code: int, message: str) -> int:
    print(f"dagyard executor: {message}", file=sys.stderr, flush=True)
    return code


def _parse_argv(argv: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    i = 0
    while i < len(argv):
        flag, eq, value = argv[i].partition("=")
        if flag in _FLAGS and eq:
            options[flag] = value
        elif flag in _FLAGS:
            if i + 1 >= len(argv):
                raise BadInput(f"{flag} needs a value")
            options[flag] = argv[i + 1]
            i += 1
        # Unknown arguments are ignored, as kfp's executor does, so that newer command
        # lines still run on an older runtime.
        i += 1
    return options


def _option(options: dict[str, str], flag: str) -> str:
    if flag not in options:
        raise BadInput(f"the command line has no {flag}")
    return options[flag]


def _json_option(options: dict[str, str], flag: str) -> Any:
    try:
        return json.loads(_option(options, flag))
    except ValueError as e:
        raise BadInput(f"{flag} is not JSON ({e}); was its placeholder substituted?") from e


def _json_list(options: dict[str, str], flag: str) -> list[str]:
    if flag not in options:
        return []
    value = _json_option(options, flag)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{flag} must be a JSON list of strings, got {value!r}")
    return value


def _key(document: Any, *keys: str) -> Any:
    """`document[k1][k2]...`, or BadInput naming the first missing key."""
    for depth, key in enumerate(keys):
        if not isinstance(document, dict) or key not in document:
            raise BadInput(f"the executor input has no '{'.'.join(keys[: depth + 1])}'")
        document = document[key]
    return document


# --- the user's function ----------------------------------------------------------------


def _source_filename(name: str) -> str:
    return f"<component {name}>"


def _load_function(source: str, name: str) -> Callable[..., Any]:
    module = types.ModuleType(_MODULE_NAME)
    # Registered so that NamedTuple classes and string annotations in the source resolve.
    sys.modules[_MODULE_NAME] = module
    code = _precompiled.get((source, name))
    if code is None:
        code = _compile_source(source, name)
    exec(code, module.__dict__)
    func = module.__dict__.get(name)
    func = getattr(func, "python_func", func)  # a kfp-style component object wraps it
    if not isinstance(func, types.FunctionType):
        raise BadInput(f"--function_source defines no function named '{name}'")
    return func


def _compile_source(source: str, name: str) -> types.CodeType:
    # Compiled here, so with this module's __future__ flags wherever it is called from.
    return compile(source, _source_filename(name), "exec")


def precompile(argv: Sequence[str]) -> None:
    """Compile the function source of command line `argv` now, for the tasks that a fork
    server forks from this process: they find it compiled (`_precompiled`).

    A source that does not compile, or warns while compiling, is left alone: its task
    compiles it and reports what is wrong, as it would have if nothing were compiled
    ahead. Never raises.
    """
    try:
        options = _parse_argv(argv)
        key = (options["--function_source"], options["--function_to_execute"])
        if key in _precompiled:
            return
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = _compile_source(*key)
        if caught:
            return
    except Exception:
        return
    if len(_precompiled) >= _PRECOMPILED_MAX:
        del _precompiled[next(iter(_precompiled))]  # the oldest
    _precompiled[key] = code


def _report_user_exception(exc: BaseException, source: str, name: str) -> None:
    import linecache
    import traceback

    # Let the traceback show the lines of the user's source, which has no file.
    filename = _source_filename(name)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == main.__code__.co_filename:
        tb = tb.tb_next  # our own frames only hide the user's error...
    # ...unless the error is ours alone; then all of it helps whoever fixes it.
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__, file=sys.stderr)
    sys.stderr.flush()


def _type_hints(owner: Any, globalns: dict[str, Any]) -> dict[str, Any]:
    plain = _plain_class_hints(owner, globalns)
    if plain is not None:
        return plain
    try:
        return typing.get_type_hints(owner, globalns, include_extras=True)
    except Exception:
        pass
    # get_type_hints gives up on the whole function when one annotation fails, and before
    # Python 3.11 a string annotation such as "InputPath('Dataset')" fails because it is
    # not a type. Evaluate them one by one, keeping what cannot be evaluated as it is.
    hints: dict[str, Any] = {}
    for key, value in getattr(owner, "__annotations__", {}).items():
        hints[key] = _eval_annotation(value, globalns)
    return hints


def _plain_class_hints(func: Any, globalns: dict[str, Any]) -> dict[str, Any] | None:
    """What get_type_hints gives a function whose annotations all name classes, or None.

    The usual component's annotations are names of classes (`i: int`, `-> str`), and strings
    under `from __future__ import annotations`: get_type_hints compiles and evaluates each
    one, in every task. For such a name it finds the class; so does this, by looking it up.
    None, to let get_type_hints decide, for anything else, and where it would do more:
    `__no_type_check__`, or a None default (Python < 3.11 adds Optional then).
    """
    if not isinstance(func, types.FunctionType) or getattr(func, "__no_type_check__", None):
        return None
    defaults = (*(func.__defaults__ or ()), *(func.__kwdefaults__ or {}).values())
    if any(default is None for default in defaults):
        return None
    builtins = globalns.get("__builtins__")
    if isinstance(builtins, types.ModuleType):
        builtins = builtins.__dict__
    if not isinstance(builtins, dict):
        return None
    hints: dict[str, Any] = {}
    for name, value in func.__annotations__.items():
        if isinstance(value, str):
            if not value.isidentifier():
                return None
            value = globalns[value] if value in globalns else builtins.get(value)
        if not isinstance(value, type) or isinstance(value, types.GenericAlias):
            return None
        hints[name] = value
    return hints


def _eval_annotation(value: Any, globalns: dict[str, Any]) -> Any:
    if isinstance(value, str):
        try:
            return eval(value, globalns)
        except Exception:
            return value
    return _NONE if value is None else value


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in _UNIONS:
        args = typing.get_args(annotation)
        if len(args) == 2 and _NONE in args:
            return args[0] if args[1] is _NONE else args[1]
    return annotation


def _artifact_io(annotation: Any) -> tuple[str, Any] | None:
    """('input' or 'output', T) for `Input[T]` and `Output[T]`."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        for extra in extras:
            if extra is InputAnnotation:
                return "input", inner
            if extra is OutputAnnotation:
                return "output", inner
    return None


def _embedded_class(annotation: Any) -> Any:
    """The artifact class of `EmbeddedInput[T]` (Artifact if T is none), else None."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        if EmbeddedAnnotation in extras:
            return inner if _is_artifact_class(inner) else Artifact
    return None


def _is_artifact_class(annotation: Any) -> bool:
    return is_artifact_class(annotation)


def _list_item(annotation: Any) -> Any:
    """T for `list[T]`/`List[T]`, else _MISSING."""
    args = typing.get_args(annotation)
    return args[0] if typing.get_origin(annotation) is list and args else _MISSING


def _is_named_tuple(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, tuple)
        and hasattr(annotation, "_fields")
    )


def _plain_type(annotation: Any) -> Any:
    """The runtime type to check a parameter against, or None when there is none."""
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, str):
        return _NAMED_TYPES.get(annotation.lower())
    origin = typing.get_origin(annotation) or annotation
    # typing.Any is a class from Python 3.11 on, but isinstance() rejects it.
    return origin if isinstance(origin, type) and origin not in (typing.Any, object) else None


def _coerce(value: Any, annotation: Any) -> Any:
    """Undo what JSON and protobuf did to a value typed by `annotation`."""
    annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, str):
        annotation = _NAMED_TYPES.get(annotation.lower())
    args = typing.get_args(annotation)
    if annotation is int and isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf's Value has no integers: 3 arrives as 3.0
    if annotation is float and type(value) is int:
        return float(value)
    if typing.get_origin(annotation) is list and args and isinstance(value, list):
        return [_coerce(item, args[0]) for item in value]
    if typing.get_origin(annotation) is dict and len(args) == 2 and isinstance(value, dict):
        return {key: _coerce(item, args[1]) for key, item in value.items()}
    return value


def _final_status(value: Any, name: str) -> PipelineTaskFinalStatus:
    if not isinstance(value, dict):
        raise BadInput(f"inputs.parameterValues.{name} must be an object, got {value!r}")
    error = value.get("error") or {}
    code = error.get("code")
    # kfp reads the camelCase keys and falls back to the deprecated snake_case ones.
    job = value.get("pipelineJobResourceName", value.get("pipeline_job_resource_name", ""))
    task = value.get("pipelineTaskName", value.get("pipeline_task_name", ""))
    return PipelineTaskFinalStatus(
        state=str(value.get("state", "")),
        pipeline_job_resource_name=str(job),
        pipeline_task_name=str(task),
        error_code=int(code) if isinstance(code, (int, float)) else code,
        error_message=error.get("message"),
    )


def _task_config(value: Any, name: str) -> TaskConfig:
    # As kfp's executor reads it: camelCase keys; empty when the input is absent.
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise BadInput(f"inputs.parameterValues.{name} must be an object, got {value!r}")
    return TaskConfig(
        affinity=value.get("affinity"),
        tolerations=value.get("tolerations"),
        node_selector=value.get("nodeSelector"),
        env=value.get("env"),
        volumes=value.get("volumes"),
        volume_mounts=value.get("volumeMounts"),
        resources=value.get("resources"),
    )


def _write_json(path: str, document: Any) -> None:
    data = json.dumps(document).encode()  # ASCII: json.dumps escapes everything else
    _makedirs_for(path)
    # Written whole, then renamed, so a reader never sees half a file. Through os rather
    # than open(): no buffer and text layers to build for one write, in every task.
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(path + ".tmp", path)


def _makedirs_for(path: str) -> None:
    folder = os.path.dirname(path)
    # The folder usually exists: makedirs would find out by failing to make it.
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)


class _Task:
    """One call of the user's function: its arguments in, its outputs out."""

    def __init__(self, func: Callable[..., Any], executor_input: dict[str, Any]) -> None:
        self.func = func
        self.name: str = func.__name__
        self.globals: dict[str, Any] = getattr(func, "__globals__", {})
        self.hints = _type_hints(func, self.globals)
        inputs = executor_input.get("inputs") or {}
        outputs = executor_input.get("outputs") or {}
        self.parameter_values: dict[str, Any] = inputs.get("parameterValues") or {}
        self.input_artifacts: dict[str, Any] = inputs.get("artifacts") or {}
        self.output_parameters: dict[str, Any] = outputs.get("parameters") or {}
        self.output_artifacts: dict[str, Artifact] = {}
        self.output_path_parameters: dict[str, tuple[str, Any]] = {}
        self.temp_dir: str | None = None
        for out_name, entry in (outputs.get("artifacts") or {}).items():
            runtime = (entry or {}).get("artifacts") or []
            if runtime:
                where = f"outputs.artifacts.{out_name}"
                artifact = self._artifact(runtime[0], self._output_class(out_name), where)
                _makedirs_for(artifact.path)
                self.output_artifacts[out_name] = artifact

    def _output_class(self, name: str) -> Any:
        """The artifact class that the function's annotations give output `name`."""
        annotation = _strip_optional(self.hints.get(name))
        io = _artifact_io(annotation)
        if io is not None:
            return io[1]
        if isinstance(annotation, OutputPath):
            return annotation.type
        returns = self.hints.get("return")
        if _is_named_tuple(returns):
            return _type_hints(returns, self.globals).get(name)
        return returns if name == "Output" else None

    def _artifact(self, runtime: Any, cls: Any, where: str) -> Artifact:
        if not isinstance(runtime, dict) or "uri" not in runtime:
            raise BadInput(f"{where} has no 'uri'")
        if not _is_artifact_class(cls) or cls is Artifact:
            cls = artifact_class((runtime.get("type") or {}).get("schemaTitle", ""))
        artifact: Artifact = cls(
            name=runtime.get("name", ""), uri=runtime["uri"], metadata=runtime.get("metadata")
        )
        return artifact

    def _input_artifacts(self, name: str, cls: Any) -> list[Artifact]:
        runtime = (self.input_artifacts.get(name) or {}).get("artifacts") or []
        where = f"inputs.artifacts.{name}"
        return [self._artifact(r, cls, f"{where}.artifacts[{i}]") for i, r in enumerate(runtime)]

    def _parameter_file(self, name: str, value: Any) -> str:
        import tempfile

        if self.temp_dir is None:
            self.temp_dir = tempfile.mkdtemp(prefix="dagyard-inputs-")
        path = os.path.join(self.temp_dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(value if isinstance(value, str) else json.dumps(value))
        return path

    def cleanup(self) -> None:
        if self.temp_dir is not None:
            import shutil

            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def arguments(self) -> dict[str, Any]:
        code = self.func.__code__
        positional = code.co_varnames[: code.co_argcount]
        keyword_only = code.co_varnames[
            code.co_argcount : code.co_argcount + code.co_kwonlyargcount
        ]
        defaults = self.func.__defaults__ or ()
        first = len(positional) - len(defaults)
        default_of = {positional[first + i]: value for i, value in enumerate(defaults)}
        default_of.update(self.func.__kwdefaults__ or {})
        kwargs: dict[str, Any] = {}
        for name in positional + keyword_only:
            value, where = self._argument(name, _strip_optional(self.hints.get(name)))
            if value is _MISSING:
                value = default_of.get(name, _MISSING)
            if value is _MISSING:
                raise BadInput(
                    f"the executor input has no '{where}' for parameter '{name}' of function "
                    f"'{self.name}', which has no default"
                )
            kwargs[name] = value
        return kwargs

    def _argument(self, name: str, annotation: Any) -> tuple[Any, str]:
        """The value for parameter `name` (_MISSING if absent) and where it comes from."""
        embedded = _embedded_class(annotation)
        if embedded is not None:
            try:
                artifact = embedded(name=name)
                artifact.path = embedded_asset()[1]
            except RuntimeError as e:
                raise BadInput(f"parameter '{name}' is an EmbeddedInput, but {e}") from e
            return artifact, "--embedded_archive"
        io = _artifact_io(annotation)
        if io is not None and io[0] == "output":
            return self.output_artifacts.get(name, _MISSING), f"outputs.artifacts.{name}"
        where = f"inputs.artifacts.{name}"
        inner = io[1] if io is not None else annotation
        if _is_artifact_class(_list_item(inner)):
            if name not in self.input_artifacts:
                return _MISSING, where
            return self._input_artifacts(name, _list_item(inner)), where
        if _is_artifact_class(inner):
            found = self._input_artifacts(name, inner)
            return (found[0] if found else _MISSING), where
        if isinstance(annotation, OutputPath):
            if name in self.output_artifacts:
                return self.output_artifacts[name].path, where
            path = (self.output_parameters.get(name) or {}).get("outputFile")
            if not isinstance(path, str):
                raise BadInput(
                    f"the executor input has no 'outputs.parameters.{name}.outputFile' "
                    f"(nor 'outputs.artifacts.{name}') for OutputPath parameter '{name}'"
                )
            _makedirs_for(path)
            self.output_path_parameters[name] = (path, annotation.type)
            return path, where
        if isinstance(annotation, InputPath) and name in self.input_artifacts:
            found = self._input_artifacts(name, annotation.type)
            return (found[0].path if found else _MISSING), where
        where = f"inputs.parameterValues.{name}"
        if annotation is TaskConfig:
            return _task_config(self.parameter_values.get(name), name), where
        if name not in self.parameter_values:
            return _MISSING, where
        value = self.parameter_values[name]
        if annotation is PipelineTaskFinalStatus:
            return _final_status(value, name), where
        if isinstance(annotation, InputPath):
            return self._parameter_file(name, value), where
        return _coerce(value, annotation), where

    def executor_output(self, result: Any) -> dict[str, Any]:
        """The ExecutorOutput document for the function's return value `result`."""
        parameters: dict[str, Any] = {}
        for name, (path, type_) in self.output_path_parameters.items():
            parameters[name] = self._read_output_parameter(name, path, type_)
        returns = self.hints.get("return", _MISSING)
        if _is_named_tuple(returns):
            fields = _type_hints(returns, self.globals)
            if not isinstance(result, tuple) or len(result) != len(returns._fields):
                raise BadOutput(
                    f"function '{self.name}' returned {result!r}; its annotation wants a "
                    f"tuple of {len(returns._fields)} values {returns._fields}."
                )
            for i, field in enumerate(returns._fields):
                self._output(field, fields.get(field), result[i], parameters)
        elif returns is _MISSING or returns is _NONE:
            if result is not None:
                raise BadOutput(
                    f"function '{self.name}' returned {type(result).__name__} but its return "
                    "annotation does not declare an output; annotate it, e.g. '-> int'."
                )
        else:
            self._output("Output", returns, result, parameters)
        artifacts = {}
        for name, artifact in self.output_artifacts.items():
            self._check_json(f"the metadata of output artifact '{name}'", artifact.metadata)
            artifacts[name] = {"artifacts": [_runtime_artifact(artifact)]}
        return {"parameterValues": parameters, "artifacts": artifacts}

    def _check_json(self, what: str, value: Any) -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise BadOutput(f"function '{self.name}' left {what} not JSON-serialisable: {e}") from e

    def _output(self, name: str, annotation: Any, value: Any, parameters: dict[str, Any]) -> None:
        if value is None:
            if _strip_optional(annotation) is not annotation:
                return  # an Optional output left unset
            raise BadOutput(
                f"function '{self.name}' returned None for output '{name}', which is not Optional."
            )
        if _is_artifact_class(annotation):
            if name not in self.output_artifacts:
                raise BadInput(f"the executor input has no 'outputs.artifacts.{name}'")
            declared = self.output_artifacts[name]
            if is_artifact_class(type(value)):
                value.name = value.name or declared.name
                value.uri = value.uri or declared.uri
                self.output_artifacts[name] = value
            else:  # kfp's convention: other values become the artifact's content
                mode, data = ("wb", value) if isinstance(value, bytes) else ("w", str(value))
                with open(declared.path, mode) as f:
                    f.write(data)
            return
        parameters[name] = self._checked(name, annotation, value)

    def _checked(self, name: str, annotation: Any, value: Any) -> Any:
        value = _coerce(value, annotation)
        expected = _plain_type(annotation)
        try:
            ok = expected is None or isinstance(value, expected)
        except TypeError:  # a Protocol or other class that refuses isinstance()
            ok = True
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise BadOutput(
                f"function '{self.name}' gave output '{name}' the value {value!r} "
                f"({type(value).__name__}); its annotation wants {expected.__name__}."
            )
        self._check_json(f"output '{name}'", value)
        return value

    def _read_output_parameter(self, name: str, path: str, type_: Any) -> Any:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise BadOutput(
                f"function '{self.name}' did not write output parameter '{name}' to {path}."
            ) from None
        if type_ is None or _plain_type(type_) is str:
            return text
        if _plain_type(type_) is bool and text.strip() in _BOOLS:
            return _BOOLS[text.strip()]  # str(True) is 'True': read as KFP's launcher does
        try:
            value = json.loads(text)
        except ValueError as e:
            raise BadOutput(
                f"function '{self.name}' wrote {text[:80]!r} to output parameter '{name}', "
                f"which is not JSON ({e}); write json.dumps(value)."
            ) from e
        return self._checked(name, type_, value)


def _runtime_artifact(artifact: Artifact) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": artifact.name, "uri": artifact.uri}
    entry["metadata"] = artifact.metadata
    if artifact.path != uri_to_path(artifact.uri):
        entry["custom_path"] = artifact.path  # kfp's key: the bytes are there, not at uri
    return entry
