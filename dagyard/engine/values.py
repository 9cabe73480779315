"""Parameter values and their IR types: checking, converting and parsing.

IR written by kfp carries integers as floats (`defaultValue: 2.0`), and values that went
through protobuf lose their int-ness; here they are brought back to the declared type.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dagyard.errors import RunError

_TYPE_NAMES = {
    "STRING": "a string",
    "NUMBER_INTEGER": "an integer",
    "NUMBER_DOUBLE": "a number",
    "BOOLEAN": "true or false",
    "LIST": "a JSON list",
    "STRUCT": "a JSON object",
}


def _integral(value: float) -> bool:
    return math.isfinite(value) and value == int(value)


_PLAIN_TYPES: dict[str, type | tuple[type, ...]] = {
    "STRING": str,
    "BOOLEAN": bool,
    "LIST": list,
    "STRUCT": dict,
}


def coerce(value: Any, parameter_type: str, *, what: str) -> Any:
    """`value` as a value of the IR `parameter_type`; raises RunError naming `what`."""
    if parameter_type in ("TASK_FINAL_STATUS", "TASK_CONFIG"):
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if parameter_type == "NUMBER_INTEGER" and number:
        if isinstance(value, int):
            return value
        if _integral(value):
            return int(value)
    plain = _PLAIN_TYPES.get(parameter_type)
    if (parameter_type == "NUMBER_DOUBLE" and number) or (plain and isinstance(value, plain)):
        return value
    raise RunError(
        f"{what} must be {_TYPE_NAMES.get(parameter_type, parameter_type)}; got {value!r}."
    )


def from_ir(value: Any, parameter_type: str | None) -> Any:
    """A value read from IR, with a whole float back to an int where the type is integer.
    Never raises."""
    if parameter_type == "NUMBER_INTEGER" and isinstance(value, float) and _integral(value):
        return int(value)
    return value


def parse_cli(text: str, parameter_type: str, *, what: str) -> Any:
    """A value given on the command line (`-p n=3`), read as its IR type."""
    if parameter_type == "STRING":
        return text
    if parameter_type == "BOOLEAN":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise RunError(f"{what} must be true or false; got {text!r}.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise RunError(
            f"{what} must be {_TYPE_NAMES.get(parameter_type, parameter_type)}; "
            f"{text!r} is not valid JSON ({e.msg})."
        ) from e
    return coerce(value, parameter_type, what=what)


__all__ = ["coerce", "from_ir", "parse_cli"]
