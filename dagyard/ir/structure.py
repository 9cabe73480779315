"""Structural validation: does a JSON-shaped dict have the shape of a protobuf message?

Belongs here: parsing a dict into a `pipeline_spec_pb2` message with protobuf's
`json_format` (the authority on shape), and a walk of the dict against the message
descriptor that finds where the first offending field is, so the error can name it in
the document's own terms (`root.dag.tasks.train.inputs.parameters.x`). Protobuf's own
messages sometimes name the parent instead of the field, and use another syntax.

Must not hold rules about how the parts of a document refer to each other: those are in
`semantics.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from dagyard.errors import IRError
from dagyard.ir.schema import JsonDict, Message

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER_RANGES = {
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_INTEGER_TEXT = re.compile(r"-?\d+")
_DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
# ParseError text carries the place as `at "PipelineSpec.root.dag.tasks[a].inputs"`.
_PROTOBUF_PLACE = re.compile(r'\s*\bat "?\w+((?:\.\w+|\[[^\]]*\])*)"?')
_PROTOBUF_PREFIX = re.compile(r"^(Failed to parse \w+ field: )+")


def parse(data: JsonDict, message_class: Any, *, path: str = "") -> Message:
    """Parse `data` into a new `message_class`; raise IRError naming the offending place.

    `path` is where `data` sits in the document, prefixed to every error path.
    """
    check_shape(data, message_class.DESCRIPTOR, path=path)
    message = message_class()
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as e:
        # The walk accepts something protobuf rejects: keep protobuf's own words.
        text = _PROTOBUF_PLACE.sub("", _PROTOBUF_PREFIX.sub("", str(e))).rstrip(". ")
        raise IRError(text, path=_protobuf_path(str(e), path)) from e
    return message


def check_shape(value: object, descriptor: Descriptor, *, path: str = "") -> None:
    """Raise IRError at the first place where `value` does not fit `descriptor`."""
    special = _WELL_KNOWN.get(descriptor.full_name)
    if special is not None:
        special(value, path)
        return
    if not isinstance(value, dict):
        raise IRError(f"expected a mapping ({descriptor.name}), got {_describe(value)}", path=path)
    fields = {field.json_name: field for field in descriptor.fields}
    chosen: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise IRError(f"field names must be strings, got {_describe(key)}", path=path)
        here = _join(path, key)
        field = fields.get(key)
        if field is None:
            snake = descriptor.fields_by_name.get(key)
            if snake is not None:
                raise IRError(
                    f"write '{key}' as '{snake.json_name}': IR field names are camelCase",
                    path=here,
                )
            raise IRError(
                f"unknown field '{key}' in {descriptor.name}; "
                f"expected one of: {', '.join(sorted(fields))}",
                path=here,
            )
        if item is None:
            # Like protobuf: null means "not set" (or null_value for a Value).
            continue
        oneof = field.containing_oneof
        if oneof is not None:
            first = chosen.setdefault(oneof.name, key)
            if first != key:
                raise IRError(
                    f"'{first}' and '{key}' are alternatives ({descriptor.name}.{oneof.name}); "
                    "give only one",
                    path=here,
                )
        _check_field(item, field, here)


def _check_field(value: object, field: FieldDescriptor, path: str) -> None:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        if not isinstance(value, dict):
            raise IRError(f"expected a mapping, got {_describe(value)}", path=path)
        value_field = entry.fields_by_name["value"]
        for key, item in value.items():
            here = _join(path, str(key))
            if not isinstance(key, str):
                raise IRError(f"keys must be strings, got {_describe(key)}; quote it", path=here)
            if item is None:
                raise IRError("a map value cannot be null", path=here)
            _check_single(item, value_field, here)
    elif field.is_repeated:
        if not isinstance(value, list):
            raise IRError(f"expected a list, got {_describe(value)}", path=path)
        for index, item in enumerate(value):
            here = f"{path}[{index}]"
            if item is None:
                raise IRError("a list item cannot be null", path=here)
            _check_single(item, field, here)
    else:
        _check_single(value, field, path)


def _check_single(value: object, field: FieldDescriptor, path: str) -> None:
    kind = field.type
    if field.message_type is not None:
        check_shape(value, field.message_type, path=path)
    elif field.enum_type is not None:
        names = field.enum_type.values_by_name
        if isinstance(value, str):
            if value not in names:
                raise IRError(
                    f"unknown value '{value}'; expected one of: {', '.join(names)}", path=path
                )
        elif not _is_int(value):
            raise IRError(f"expected one of: {', '.join(names)}; got {_describe(value)}", path=path)
    elif kind in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        if not isinstance(value, str):
            raise IRError(f"expected a string, got {_describe(value)}; quote it", path=path)
    elif kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise IRError(f"expected true or false, got {_describe(value)}", path=path)
    elif kind in _INTEGER_RANGES:
        _check_integer(value, _INTEGER_RANGES[kind], path)
    elif kind in _FLOAT_TYPES and not _is_number(value):
        raise IRError(f"expected a number, got {_describe(value)}", path=path)


def _check_integer(value: object, bounds: tuple[int, int], path: str) -> None:
    # The JSON mapping writes 64-bit integers as strings ("count: '1'"): accept both.
    whole = (
        (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) is not None)
        or (isinstance(value, float) and value.is_integer())
        or _is_int(value)
    )
    if not whole or not isinstance(value, str | float | int):
        raise IRError(f"expected an integer, got {_describe(value)}", path=path)
    low, high = bounds
    if not low <= int(value) <= high:
        raise IRError(f"{int(value)} is out of range [{low}, {high}]", path=path)


def _check_json(value: object, path: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise IRError(f"{value} cannot be stored in a protobuf Value", path=path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        _check_struct(value, path)
    else:
        raise IRError(f"{_describe(value)} is not a JSON value", path=path)


def _check_struct(value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise IRError(f"expected a mapping, got {_describe(value)}", path=path)
    for key, item in value.items():
        if not isinstance(key, str):
            raise IRError(f"keys must be strings, got {_describe(key)}; quote it", path=path)
        _check_json(item, _join(path, key))


def _check_list_value(value: object, path: str) -> None:
    if not isinstance(value, list):
        raise IRError(f"expected a list, got {_describe(value)}", path=path)
    _check_json(value, path)


def _check_duration(value: object, path: str) -> None:
    if not (isinstance(value, str) and _DURATION.fullmatch(value)):
        raise IRError(f"expected a duration such as '10s', got {_describe(value)}", path=path)


_WELL_KNOWN: dict[str, Callable[[object, str], None]] = {
    "google.protobuf.Struct": _check_struct,
    "google.protobuf.Value": _check_json,
    "google.protobuf.ListValue": _check_list_value,
    "google.protobuf.Duration": _check_duration,
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        return value in ("NaN", "Infinity", "-Infinity")
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _protobuf_path(text: str, base: str) -> str:
    match = _PROTOBUF_PLACE.search(text)
    if match is None:
        return base
    inner = re.sub(r"\[([^\]]*)\]", r".\1", match.group(1)).lstrip(".")
    return _join(base, inner) if inner else base
