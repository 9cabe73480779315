"""Components and the decorators that make them: `@component` (lightweight Python),
`@container_component`, `@pipeline` (a graph), and `importer`.

A component is a `ComponentSpec` plus the means to call it inside a pipeline, which
makes a `PipelineTask`. Writing IR is the compiler's job, not this module's.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import dis
import functools
import inspect
import os
import textwrap
import types
import typing
from collections.abc import Callable, Sequence, Set
from typing import Any, overload

from dagyard.dsl import artifact_imports, context, embedded
from dagyard.dsl import structures as st
from dagyard.dsl import types as ty
from dagyard.dsl.channels import PipelineChannel, find_in
from dagyard.dsl.pipeline_config import PipelineConfig, check_workspace_use
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.dsl.placeholders import (
    ArtifactPlaceholders,
    InputPathPlaceholder,
    InputValuePlaceholder,
    OutputParameterPlaceholder,
    OutputPathPlaceholder,
)
from dagyard.dsl.task_config import TaskConfigField, TaskConfigPassthrough, passthroughs
from dagyard.errors import DslError
from dagyard.runtime import artifacts as ar
from dagyard.runtime.embed import DSL_NAMES

DEFAULT_BASE_IMAGE = "python:3.11"


class BaseComponent:
    """Something a pipeline can call to make a task."""

    def __init__(self, spec: st.ComponentSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.description = spec.description

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        """Inside a pipeline, make a task (a nested pipeline, for a pipeline). Outside
        any pipeline, run now through the runner `dagyard.local.init()` installed; the
        result then is a `dagyard.local.LocalTask`, whose `.output` and `.outputs` hold
        values instead of channels."""
        if args:
            raise DslError(
                f"Component '{self.name}' was called with positional arguments; pass every "
                "argument by name, e.g. `" + self.name.replace("-", "_") + "(x=1)`."
            )
        if context.current() is None:
            runner = context.immediate_runner()
            if runner is None:
                raise DslError(
                    f"Component '{self.name}' was called outside a pipeline. Call it inside "
                    "a function decorated with @dsl.pipeline, then compile or run that "
                    "pipeline; or call `dagyard.local.init()` first to run it now, here."
                )
            # Typed as a task so that pipeline code keeps its checks; the local result
            # has the same `.output` / `.outputs` names.
            return typing.cast(PipelineTask, runner(self, kwargs))
        return PipelineTask(self, kwargs)

    @property
    def component_spec(self) -> st.ComponentSpec:
        return self.spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}'>"


class PythonComponent(BaseComponent):
    """A lightweight Python component: the function's source runs inside the task."""

    def __init__(
        self, spec: st.ComponentSpec, python_func: Callable[..., Any], source: str
    ) -> None:
        super().__init__(spec)
        self.python_func = python_func
        self.source = source
        functools.update_wrapper(self, python_func)


class ContainerComponent(BaseComponent):
    """A component that runs a command in an image."""


class GraphComponent(BaseComponent):
    """A pipeline: a DAG of tasks. It can be compiled, or called inside another pipeline."""

    def __init__(
        self,
        spec: st.ComponentSpec,
        pipeline_func: Callable[..., Any],
        *,
        display_name: str | None,
        pipeline_root: str | None,
    ) -> None:
        super().__init__(spec)
        self.pipeline_func = pipeline_func
        self.display_name = display_name
        self.pipeline_root = pipeline_root
        self.pipeline_config: PipelineConfig | None = None
        functools.update_wrapper(self, pipeline_func)

    @property
    def graph(self) -> context.Graph:
        assert isinstance(self.spec.implementation, st.GraphImplementation)
        return self.spec.implementation.graph


@dataclasses.dataclass
class ContainerSpec:
    """What a `@container_component` function returns: image, command and args."""

    image: str
    command: list[Any] | None = None
    args: list[Any] | None = None


# -- @component ----------------------------------------------------------------------


@overload
def component(func: Callable[..., Any]) -> PythonComponent: ...
@overload
def component(
    func: None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = None,
    output_component_file: str | None = None,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    additional_funcs: Sequence[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | os.PathLike[str] | None = None,
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> Callable[[Callable[..., Any]], PythonComponent]: ...
def component(
    func: Callable[..., Any] | None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = None,
    output_component_file: str | None = None,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    additional_funcs: Sequence[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | os.PathLike[str] | None = None,
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> PythonComponent | Callable[[Callable[..., Any]], PythonComponent]:
    """Make a lightweight Python component from a self-contained function.

    The function's source is embedded in the IR and runs in `base_image` with
    `packages_to_install` present. kfp's `install_kfp_package`, `kfp_package_path`,
    `target_image`, `pip_trusted_hosts` and `use_venv` are accepted so kfp code keeps
    working; Dagyard's runtime travels inside the command, so nothing is installed for it.
    `additional_funcs`: helper functions whose source goes in with the function's, before
    it, as kfp puts it, so the function may call them.
    `embedded_artifact_path`: a local file or folder packed into the component (at most
    90 KiB compressed); when the task runs it is unpacked into a temporary folder put first
    on `sys.path`, and a parameter annotated `dsl.EmbeddedInput[Dataset]` (any artifact
    class) gets an artifact whose `path` is the file, or the folder, as kfp gives it.
    `task_config_passthroughs`: the task settings (dsl.TaskConfigField) a `dsl.TaskConfig`
    parameter receives; a bare field is not applied to the task itself, as in kfp.
    """

    def decorate(f: Callable[..., Any]) -> PythonComponent:
        comp = make_python_component(
            f,
            base_image=base_image or DEFAULT_BASE_IMAGE,
            packages_to_install=list(packages_to_install or []),
            pip_index_urls=list(pip_index_urls) if pip_index_urls else None,
            additional_funcs=list(additional_funcs or []),
            embedded_artifact_path=embedded_artifact_path,
            task_config_passthroughs=task_config_passthroughs,
        )
        if output_component_file:
            write_component_file(comp, output_component_file)
        return comp

    return decorate(func) if func is not None else decorate


def write_component_file(comp: BaseComponent, path: str) -> None:
    """`output_component_file=...`: the component compiled to `path`, as kfp writes it."""
    from dagyard.compiler import Compiler

    Compiler().compile(comp, path)


def make_python_component(
    func: Callable[..., Any],
    *,
    base_image: str,
    packages_to_install: list[str],
    pip_index_urls: list[str] | None,
    additional_funcs: Sequence[Callable[..., Any]] = (),
    embedded_artifact_path: str | os.PathLike[str] | None = None,
    embedded_file: str | None = None,
    preamble: str = "",
    task_config_passthroughs: Sequence[TaskConfigPassthrough | TaskConfigField] | None = None,
) -> PythonComponent:
    """A PythonComponent for `func`. `embedded_file`: the name, in the folder at
    `embedded_artifact_path`, of what EmbeddedInput gets instead of the folder;
    `preamble`: source that goes before the function's (a notebook component's runner)."""
    from dagyard.runtime import embed

    name = context.k8s_name(func.__name__)
    io = ty.read_function_io(func, name)
    packed = None
    if embedded_artifact_path is not None:
        packed = embedded.pack(
            embedded_artifact_path, component=name, what="embedded_artifact_path"
        )
    else:
        for arg in [a for a, passing in io.passing.items() if passing == "embedded"]:
            raise DslError(
                f"Argument '{arg}' of component '{name}' is an EmbeddedInput, but the "
                "component embeds nothing: give @dsl.component an embedded_artifact_path, "
                f"or pass '{arg}' as an input."
            )
    source = function_source(func, name, additional_funcs, preamble=preamble)
    command, args = embed.lightweight_container(
        function_source=source,
        function_name=func.__name__,
        packages_to_install=packages_to_install,
        pip_index_urls=pip_index_urls,
        embedded_archive=packed.archive if packed else None,
        embedded_file=embedded_file or (packed.file if packed else None),
    )
    spec = st.ComponentSpec(
        name=name,
        inputs=io.inputs,
        outputs=io.outputs,
        implementation=st.ContainerImplementation(
            image=base_image, command=tuple(command), args=tuple(args)
        ),
        description=inspect.getdoc(func) or "",
        task_config_passthroughs=passthroughs(task_config_passthroughs, component=name),
    )
    return PythonComponent(spec, func, source)


# Names a component body may use without importing them: what the runtime provides.
_PROVIDED = set(dir(builtins))
_PROVIDED |= set(typing.__all__) | set(DSL_NAMES) | {"dsl"}
_SOURCE_PREFIX = "from dagyard import dsl\nfrom dagyard.dsl import *\nfrom typing import *\n\n"


def function_source(
    func: Callable[..., Any],
    component: str,
    additional_funcs: Sequence[Callable[..., Any]] = (),
    *,
    preamble: str = "",
) -> str:
    """The function's own source (decorators removed), after that of `additional_funcs`,
    checked to be self-contained: each may use only what the runtime provides and the
    additional functions. `preamble` (trusted source of ours) goes first."""
    helpers = {f.__name__ for f in additional_funcs}
    sources: list[str] = []
    # kfp's line per artifact class of another module, after `from typing import *`.
    imports = artifact_imports.import_lines(func, _parsed(_definition(func, component)))
    prefix = _SOURCE_PREFIX.rstrip("\n") + "".join(f"\n{line}" for line in imports) + "\n\n"
    provided = helpers | artifact_imports.imported_names(imports)
    for f in [*additional_funcs, func]:
        body = _definition(f, component)
        _check_self_contained(f, component, "".join(sources) + body, also=provided, prefix=prefix)
        sources.append(body + "\n" if f is not func else body)
    return prefix + preamble + "".join(sources)


def _parsed(definition: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    node = ast.parse(definition).body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        raise AssertionError(f"not a function definition: {definition[:80]!r}")
    return node


def _definition(func: Callable[..., Any], component: str) -> str:
    try:
        text = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as e:
        raise DslError(
            f"Cannot read the source of component '{component}' ({e}). Define it in a .py "
            "file so its source can be embedded."
        ) from e
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    lines = text.splitlines()[node.lineno - 1 :]
    return textwrap.dedent("\n".join(lines)) + "\n"


def _local_names(code: types.CodeType) -> set[str]:
    names = set(code.co_varnames) | set(code.co_cellvars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _local_names(const)
    return names


def _globals_read(func: Callable[..., Any]) -> set[str]:
    """The module globals the function's body reads. Not `inspect.getclosurevars`'
    globals, which are every name of the code's that the module also defines, attribute
    names included: `custom_types.Checkpoint` is no use of a global `Checkpoint`."""
    read = {
        str(instruction.argval)
        for instruction in dis.get_instructions(func.__code__)
        if instruction.opname == "LOAD_GLOBAL"
    }
    return read & set(func.__globals__)


def _check_self_contained(
    func: Callable[..., Any],
    component: str,
    body: str,
    *,
    also: Set[str] = frozenset(),
    prefix: str = _SOURCE_PREFIX,
) -> None:
    closure = inspect.getclosurevars(func)
    # `import x` inside the body names `x` in the code's names too; it is local, not a
    # use of the module's own `x`.
    local = _local_names(func.__code__)
    outside = sorted(
        name
        for name in [*_globals_read(func), *closure.nonlocals]
        if name not in _PROVIDED
        and name != func.__name__
        and name not in local
        and name not in also
    )
    if outside:
        raise DslError(
            f"Component '{component}' is not self-contained: it uses {', '.join(outside)} "
            "from outside the function, which will not exist when the task runs. Move the "
            "imports and helpers it needs inside the function body."
        )
    namespace: dict[str, Any] = {}
    exec(compile(prefix, "<prefix>", "exec"), namespace)
    try:
        exec(compile(body, f"<component {component}>", "exec"), namespace)
    except NameError as e:
        raise DslError(
            f"Component '{component}' is not self-contained: its signature uses a name "
            f"defined outside the function ({e}). Use only builtin, typing and dsl types in "
            "annotations, artifact classes of a module the task can import, or define "
            "NamedTuple outputs inline."
        ) from e


# -- @container_component ------------------------------------------------------------


def container_component(func: Callable[..., ContainerSpec]) -> ContainerComponent:
    """Make a component from a function that returns a `dsl.ContainerSpec`; its
    arguments stand for the component's inputs and outputs inside the command."""
    name = context.k8s_name(func.__name__)
    hints = typing.get_type_hints(func, include_extras=True)
    hints.pop("return", None)
    func_for_io = _without_return(func, hints)
    io = ty.read_function_io(func_for_io, name)
    placeholders: dict[str, Any] = {}
    for arg, passing in io.passing.items():
        spec = io.inputs.get(arg) or io.outputs[arg]
        if passing == "artifact":
            raise DslError(
                f"Argument '{arg}' of container component '{name}' is a bare artifact class "
                f"({spec.type_name}); write `{arg}: Input[...]` or `Output[...]`: a container "
                "component's command needs to know which it is."
            )
        if passing == "embedded":
            raise DslError(
                f"Argument '{arg}' of container component '{name}' is an EmbeddedInput; only "
                "@dsl.component functions can embed files (embedded_artifact_path)."
            )
        if passing == "value":
            placeholders[arg] = InputValuePlaceholder(arg)
        elif passing == "input_path":
            placeholders[arg] = (
                InputPathPlaceholder(arg) if spec.is_artifact else InputValuePlaceholder(arg)
            )
        elif passing == "output_path":
            placeholders[arg] = (
                OutputPathPlaceholder(arg) if spec.is_artifact else OutputParameterPlaceholder(arg)
            )
        else:
            placeholders[arg] = ArtifactPlaceholders(arg, output=passing == "output")
    result = func(**placeholders)
    if not isinstance(result, ContainerSpec):
        raise DslError(
            f"Container component '{name}' must return dsl.ContainerSpec(image=..., "
            f"command=[...], args=[...]); it returned {result!r}."
        )
    component_spec = st.ComponentSpec(
        name=name,
        inputs=io.inputs,
        outputs=io.outputs,
        implementation=st.ContainerImplementation(
            image=result.image,
            command=tuple(result.command or ()),
            args=tuple(result.args or ()),
        ),
        description=inspect.getdoc(func) or "",
    )
    comp = ContainerComponent(component_spec)
    functools.update_wrapper(comp, func)
    return comp


def _without_return(func: Callable[..., Any], hints: dict[str, Any]) -> Callable[..., Any]:
    """A stand-in with the same parameters and no return annotation, for signature reading."""

    def stand_in(*args: Any, **kwargs: Any) -> None: ...

    stand_in.__signature__ = inspect.signature(func).replace(  # type: ignore[attr-defined]
        return_annotation=inspect.Signature.empty
    )
    stand_in.__annotations__ = hints
    stand_in.__name__ = func.__name__
    return stand_in


# -- @pipeline -----------------------------------------------------------------------


@overload
def pipeline(func: Callable[..., Any]) -> GraphComponent: ...
@overload
def pipeline(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: PipelineConfig | None = None,
) -> Callable[[Callable[..., Any]], GraphComponent]: ...
def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: PipelineConfig | None = None,
) -> GraphComponent | Callable[[Callable[..., Any]], GraphComponent]:
    """Make a pipeline from a function that calls components. The function runs once,
    now, with channels for its inputs; the tasks it creates form the pipeline's DAG.
    `pipeline_config` holds its workspace (`dagyard/dsl/pipeline_config.py`)."""
    if pipeline_config is not None and not isinstance(pipeline_config, PipelineConfig):
        raise DslError(
            f"pipeline_config={pipeline_config!r} is not a dsl.PipelineConfig; make it with "
            "dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=...))."
        )

    def decorate(f: Callable[..., Any]) -> GraphComponent:
        return build_pipeline(
            f,
            name=name or f.__name__,
            description=description or inspect.getdoc(f) or "",
            pipeline_root=pipeline_root,
            display_name=display_name,
            pipeline_config=pipeline_config,
        )

    return decorate(func) if func is not None else decorate


def build_pipeline(
    func: Callable[..., Any],
    *,
    name: str,
    description: str,
    pipeline_root: str | None,
    display_name: str | None,
    pipeline_config: PipelineConfig | None = None,
) -> GraphComponent:
    component_name = context.k8s_name(name)
    io = ty.read_function_io(func, component_name)
    for arg, passing in io.passing.items():
        if passing not in ("value", "input", "artifact"):
            raise DslError(
                f"Pipeline '{name}' argument '{arg}': pipeline inputs are parameters or "
                "Input[...] artifacts; outputs are returned, not passed as OutputPath/Output."
            )
    graph = context.Graph(component_name)
    for arg, input_spec in io.inputs.items():
        graph.inputs[arg] = PipelineChannel(arg, input_spec)
    with context.building(graph):
        result = func(**graph.inputs)
    outputs, output_channels = _pipeline_outputs(name, io, result)
    graph.outputs = output_channels
    given = {task.name: task.arguments for task in graph.tasks.values()}
    check_workspace_use(name, given, pipeline_config)
    spec = st.ComponentSpec(
        name=component_name,
        inputs=io.inputs,
        outputs=outputs,
        implementation=st.GraphImplementation(graph),
        description=description,
    )
    graph.component_spec = spec
    built = GraphComponent(spec, func, display_name=display_name, pipeline_root=pipeline_root)
    built.pipeline_config = pipeline_config
    return built


def _pipeline_outputs(
    name: str, io: ty.FunctionIO, result: Any
) -> tuple[dict[str, st.IOSpec], dict[str, PipelineChannel]]:
    if result is None:
        if io.outputs:
            raise DslError(
                f"Pipeline '{name}' declares outputs {sorted(io.outputs)} but returns nothing."
            )
        return {}, {}
    if isinstance(result, PipelineTask):
        result = result.output
    if isinstance(result, PipelineChannel):
        channels = {"Output": result}
    elif isinstance(result, tuple) and hasattr(result, "_fields"):
        channels = dict(zip(result._fields, result, strict=True))
    elif isinstance(result, dict):
        # `return task.outputs`, as kfp allows: the outputs by name.
        channels = dict(result)
    else:
        raise DslError(
            f"Pipeline '{name}' returned {result!r}; return a task output, a NamedTuple of "
            "task outputs, a task's `.outputs`, or nothing."
        )
    specs: dict[str, st.IOSpec] = {}
    for key, channel in channels.items():
        if not isinstance(channel, PipelineChannel):
            raise DslError(f"Pipeline '{name}' output '{key}' is {channel!r}, not a task output.")
        declared = io.outputs.get(key)
        specs[key] = declared or dataclasses.replace(channel.spec, default=st.NO_DEFAULT)
    return specs, channels


# -- importer ------------------------------------------------------------------------


def importer(
    artifact_uri: Any,
    artifact_class: type[ar.Artifact],
    reimport: bool = False,
    metadata: dict[str, Any] | None = None,
    download_to_workspace: bool = False,
) -> PipelineTask:
    """A task that registers an existing URI as an artifact of `artifact_class`."""
    # An artifact class of another module too (one built on kfp's Artifact, or any class
    # naming its schema), held to kfp's schema rules as in a component's signature.
    if not ar.is_artifact_class(artifact_class):
        raise DslError(
            f"dsl.importer needs an artifact class such as Dataset; got {artifact_class!r}."
        )
    artifact_imports.check_schema(artifact_class)
    if not isinstance(artifact_uri, str | PipelineChannel):
        raise DslError(
            f"dsl.importer artifact_uri must be a string or a parameter; got {artifact_uri!r}."
        )
    inputs = {"uri": st.IOSpec(parameter_type=st.STRING)}
    values: dict[str, PipelineChannel] = {}
    written = _metadata_inputs(dict(metadata or {}), inputs, values)
    spec = st.ComponentSpec(
        name="importer",
        inputs=inputs,
        outputs={"artifact": ty.artifact_io(artifact_class)},
        implementation=st.ImporterImplementation(
            artifact_uri="uri",
            uri_from_input=True,
            schema_title=artifact_class.schema_title,
            schema_version=artifact_class.schema_version,
            reimport=reimport,
            metadata=written,
        ),
    )
    return BaseComponent(spec)(uri=artifact_uri, **values)


def _metadata_inputs(
    value: Any, inputs: dict[str, st.IOSpec], values: dict[str, PipelineChannel]
) -> Any:
    """`value` (the importer's metadata, or a part of it) with each pipeline value in it,
    in keys, values and f-strings, replaced by the placeholder of an importer input made
    for it (`metadata`, `metadata-2`, ...: one per value), as kfp writes it."""
    if isinstance(value, PipelineChannel):
        if value.is_artifact:
            raise DslError(f"dsl.importer metadata takes parameters; {value!r} is an artifact.")
        name = next((n for n, v in values.items() if v is value), None)
        if name is None:
            name, n = "metadata", 1
            while name in values:
                n += 1
                name = f"metadata-{n}"
            values[name] = value
            inputs[name] = dataclasses.replace(value.spec, default=st.NO_DEFAULT, optional=False)
        return f"{{{{$.inputs.parameters['{name}']}}}}"
    if isinstance(value, dict):
        return {
            _metadata_inputs(k, inputs, values): _metadata_inputs(v, inputs, values)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_metadata_inputs(item, inputs, values) for item in value]
    if isinstance(value, str):
        for channel in find_in(value):
            value = value.replace(channel.pattern, _metadata_inputs(channel, inputs, values))
    return value
