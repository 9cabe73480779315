"""Python annotations and type names to IR types, and type compatibility between tasks.

Reading a function signature into `IOSpec`s lives here; nothing here builds tasks.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from dagyard.dsl import structures as st
from dagyard.dsl.artifact_imports import check_schema
from dagyard.errors import DslError
from dagyard.runtime import artifacts as ar

_PYTHON_PARAMETER_TYPES: dict[Any, str] = {
    str: st.STRING,
    int: st.NUMBER_INTEGER,
    float: st.NUMBER_DOUBLE,
    bool: st.BOOLEAN,
    list: st.LIST,
    dict: st.STRUCT,
}

# Type names used in v1 component.yaml files and in kfp's string annotations.
_NAMED_PARAMETER_TYPES: dict[str, str] = {
    "str": st.STRING,
    "string": st.STRING,
    "text": st.STRING,
    "int": st.NUMBER_INTEGER,
    "integer": st.NUMBER_INTEGER,
    "float": st.NUMBER_DOUBLE,
    "double": st.NUMBER_DOUBLE,
    "bool": st.BOOLEAN,
    "boolean": st.BOOLEAN,
    "list": st.LIST,
    "jsonarray": st.LIST,
    "dict": st.STRUCT,
    "jsonobject": st.STRUCT,
}
for _name in st.PARAMETER_TYPES:
    _NAMED_PARAMETER_TYPES[_name.lower()] = _name

_ARTIFACT_BY_CLASS_NAME = {cls.__name__.lower(): cls for cls in ar.ARTIFACT_CLASSES.values()}


def parameter_type_of(annotation: Any) -> str | None:
    """The IR parameter type of a Python annotation or type name, or None if it is not one."""
    annotation = _strip_optional(annotation)
    if isinstance(annotation, str):
        return _NAMED_PARAMETER_TYPES.get(annotation.strip().lower())
    if annotation is ar.PipelineTaskFinalStatus:
        return st.TASK_FINAL_STATUS
    if annotation is ar.TaskConfig:
        return st.TASK_CONFIG
    origin = typing.get_origin(annotation)
    if origin is not None:
        if origin in (list, collections.abc.Sequence, typing.List):  # noqa: UP006
            return st.LIST
        if origin in (dict, collections.abc.Mapping, typing.Dict):  # noqa: UP006
            return st.STRUCT
        return None
    return _PYTHON_PARAMETER_TYPES.get(annotation)


def artifact_class_of(annotation: Any) -> type[ar.Artifact] | None:
    """The artifact class named by an annotation (a class or a name like 'Dataset')."""
    if isinstance(annotation, str):
        name = annotation.strip()
        if name.startswith("system."):
            return ar.artifact_class(name)
        return _ARTIFACT_BY_CLASS_NAME.get(name.lower())
    if ar.is_artifact_class(annotation):
        return typing.cast(type[ar.Artifact], annotation)
    return None


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _is_optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(annotation)


def _list_item(annotation: Any) -> Any | None:
    if typing.get_origin(annotation) in (list, typing.List, collections.abc.Sequence):  # noqa: UP006
        args = typing.get_args(annotation)
        return args[0] if args else None
    return None


def list_item_types(annotation: Any) -> dict[str, str | None]:
    """`item_type` and `item_value_type` of a typed list annotation, for loop items."""
    item = _list_item(_strip_optional(annotation))
    if item is None:
        return {}
    value_type = None
    if typing.get_origin(item) in (dict, typing.Dict, collections.abc.Mapping):  # noqa: UP006
        args = typing.get_args(item)
        value_type = parameter_type_of(args[1]) if len(args) == 2 else None
    return {"item_type": parameter_type_of(item), "item_value_type": value_type}


def artifact_io(cls: type[ar.Artifact], *, is_list: bool = False, **extra: Any) -> st.IOSpec:
    check_schema(cls)
    return st.IOSpec(
        artifact_type=cls.schema_title,
        schema_version=cls.schema_version,
        is_list=is_list,
        **extra,
    )


class FunctionIO:
    """The inputs and outputs of a Python function, and how each one is passed."""

    def __init__(self) -> None:
        self.inputs: dict[str, st.IOSpec] = {}
        self.outputs: dict[str, st.IOSpec] = {}
        # name -> "value" | "input_path" | "output_path" | "input" | "output" | "artifact"
        # | "embedded" ("artifact": a bare artifact class, `x: Dataset`, an input as
        # Input[...] is; "embedded": EmbeddedInput[...], given by the task, not an input)
        self.passing: dict[str, str] = {}
        self.return_names: list[str] = []


def read_function_io(func: Callable[..., Any], component_name: str) -> FunctionIO:
    """Read a component function's signature. Raises DslError naming what to fix."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except NameError as e:
        raise DslError(
            f"Component '{component_name}': an annotation cannot be resolved ({e}). "
            "Import the types it uses at module level."
        ) from e
    io = FunctionIO()
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise DslError(
                f"Component '{component_name}' takes *{param.name}; components need "
                "named, annotated arguments only."
            )
        if param.name not in hints:
            raise DslError(
                f"Missing type annotation for argument '{param.name}' of component "
                f"'{component_name}'. Add one, e.g. `{param.name}: str`."
            )
        _read_parameter(io, component_name, param, hints[param.name])
    _read_return(io, component_name, hints.get("return"))
    return io


def _read_parameter(
    io: FunctionIO, component: str, param: inspect.Parameter, annotation: Any
) -> None:
    name = param.name
    has_default = param.default is not inspect.Parameter.empty
    extra: dict[str, Any] = {}
    if has_default:
        extra["optional"] = True
        if param.default is not None:
            extra["default"] = param.default
    # `Optional[Input[Artifact]] = None` as well as `Input[Optional[Artifact]]`.
    optional_artifact = _is_optional(annotation) or has_default
    if typing.get_origin(_strip_optional(annotation)) is typing.Annotated:
        annotation = _strip_optional(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *markers = typing.get_args(annotation)
        if ar.EmbeddedAnnotation in markers:
            io.passing[name] = "embedded"  # no input: kfp leaves it out of the interface
            return
        optional_artifact = optional_artifact or _is_optional(inner)
        inner = _strip_optional(inner)
        item = _list_item(inner)
        cls = artifact_class_of(item if item is not None else inner)
        if cls is None:
            raise DslError(
                f"Argument '{name}' of component '{component}' is annotated with "
                f"{annotation!r}; Input[...] and Output[...] take an artifact class such "
                "as Dataset or Model."
            )
        if ar.OutputAnnotation in markers:
            io.outputs[name] = artifact_io(cls, is_list=item is not None)
            io.passing[name] = "output"
        else:
            io.inputs[name] = artifact_io(cls, is_list=item is not None, optional=optional_artifact)
            io.passing[name] = "input"
        return
    if isinstance(annotation, ar.InputPath | ar.OutputPath):
        _read_path_parameter(io, component, name, annotation, extra)
        return
    if annotation is ar.PipelineTaskFinalStatus:
        io.inputs[name] = st.IOSpec(parameter_type=st.TASK_FINAL_STATUS, optional=True)
        io.passing[name] = "value"
        return
    if annotation is ar.TaskConfig:
        # Filled in when the task starts (KFP's driver: every TASK_CONFIG input).
        io.inputs[name] = st.IOSpec(parameter_type=st.TASK_CONFIG, optional=True)
        io.passing[name] = "value"
        return
    bare = _strip_optional(annotation)
    item = _list_item(bare)
    cls = artifact_class_of(item if item is not None else bare)
    if cls is not None and not isinstance(bare, str):
        # A pythonic artifact input: `x: Dataset`, `xs: List[Dataset]` (kfp reads them as
        # Input[...]; only lightweight components and pipelines take them).
        io.inputs[name] = artifact_io(cls, is_list=item is not None, optional=optional_artifact)
        io.passing[name] = "artifact"
        return
    ptype = parameter_type_of(annotation)
    if ptype is None:
        raise DslError(
            f"Argument '{name}' of component '{component}' has unsupported type "
            f"{annotation!r}. Use str, int, float, bool, list, dict (or typed forms such "
            "as List[int]), an Input[...]/Output[...] artifact, InputPath or OutputPath."
        )
    if _is_optional(annotation) and "optional" not in extra:
        extra["optional"] = True
    if ptype == st.LIST:
        extra.update(list_item_types(annotation))
    # `extra` holds only IOSpec fields: optional, default, item types.
    io.inputs[name] = st.IOSpec(parameter_type=ptype, **extra)
    io.passing[name] = "value"


def _read_path_parameter(
    io: FunctionIO,
    component: str,
    name: str,
    annotation: ar.InputPath | ar.OutputPath,
    extra: dict[str, Any],
) -> None:
    cls = artifact_class_of(annotation.type) if annotation.type is not None else ar.Artifact
    is_input = isinstance(annotation, ar.InputPath)
    if cls is None:
        ptype = parameter_type_of(annotation.type)
        # Unknown type names in v1-style paths ('CSV', 'TFModel') are generic artifacts.
        spec = (
            st.IOSpec(parameter_type=ptype, **(extra if is_input else {}))
            if ptype is not None
            else artifact_io(ar.Artifact, **(extra if is_input else {}))
        )
    else:
        spec = artifact_io(cls, **(extra if is_input else {}))
    if is_input:
        io.inputs[name] = spec
        io.passing[name] = "input_path"
    else:
        io.outputs[name] = spec
        io.passing[name] = "output_path"


def _read_return(io: FunctionIO, component: str, annotation: Any) -> None:
    if annotation is None or annotation is type(None) or annotation is inspect.Signature.empty:
        return
    fields = getattr(annotation, "__annotations__", None)
    if isinstance(annotation, type) and issubclass(annotation, tuple) and fields:
        for field, field_type in fields.items():
            io.outputs[field] = _return_spec(component, field, field_type)
            io.return_names.append(field)
        return
    io.outputs["Output"] = _return_spec(component, "Output", annotation)
    io.return_names.append("Output")


def _return_spec(component: str, name: str, annotation: Any) -> st.IOSpec:
    cls = artifact_class_of(annotation)
    if cls is not None:
        return artifact_io(cls)
    item = _list_item(annotation)
    item_cls = artifact_class_of(item) if item is not None else None
    if item_cls is not None:
        # A pipeline returning dsl.Collected(...) of artifacts.
        return artifact_io(item_cls, is_list=True)
    ptype = parameter_type_of(annotation)
    if ptype is None or ptype in (st.TASK_FINAL_STATUS, st.TASK_CONFIG):
        raise DslError(
            f"Return value '{name}' of component '{component}' has unsupported type "
            f"{annotation!r}; return str, int, float, bool, list, dict, an artifact class "
            "or a NamedTuple of those."
        )
    if ptype == st.LIST:
        items = list_item_types(annotation)
        return st.IOSpec(
            parameter_type=ptype,
            item_type=items.get("item_type"),
            item_value_type=items.get("item_value_type"),
        )
    return st.IOSpec(parameter_type=ptype)


def parameter_types_compatible(given: str, expected: str) -> bool:
    """Whether a value of IR type `given` may feed an input of type `expected`."""
    if given == expected:
        return True
    # An int is a valid double, as in Python; everything is a valid string in f-strings
    # but not as a direct argument. A task's final status is a struct (kfp lets a
    # pipeline pass its PipelineTaskFinalStatus input on to a `dict` input). A TaskConfig
    # input takes a struct too, as in kfp, though the task's own settings replace it.
    return (given, expected) in (
        (st.NUMBER_INTEGER, st.NUMBER_DOUBLE),
        (st.TASK_FINAL_STATUS, st.STRUCT),
        (st.STRUCT, st.TASK_CONFIG),
    )


def artifact_types_compatible(given: str, expected: str) -> bool:
    return given == expected or ar.Artifact.schema_title in (given, expected)


def constant_parameter_type(value: Any) -> str | None:
    """The IR type of a constant Python value, or None if it cannot be a parameter."""
    if isinstance(value, bool):
        return st.BOOLEAN
    for python_type in (str, int, float, list, dict):
        if isinstance(value, python_type):
            return _PYTHON_PARAMETER_TYPES[python_type]
    return None
