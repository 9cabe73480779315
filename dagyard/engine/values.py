"""Parameter values and their IR types: checking, converting and parsing.

IR written by kfp carries integers as floats (`defaultValue: 2.0`), and values that went
through protobuf lose their int-ness; here they are brought back to the declared type.
A value that is not a string reaching a STRING input becomes its JSON text, and an output
parameter file is read by its declared type, both as KFP's driver and launcher do (see
`as_text` and `parse_output`).
"""

from __future__ import annotations

import json
import math
import re
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
    """A value read from IR as its declared type: a whole float back to an int where the
    type is integer, anything but a string (or None) as its JSON text where it is STRING
    (`as_text`). Never raises."""
    if parameter_type == "NUMBER_INTEGER" and isinstance(value, float) and _integral(value):
        return int(value)
    if parameter_type == "STRING" and value is not None and not isinstance(value, str):
        return as_text(value)
    return value


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and _integral(value):
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return value


def as_text(value: Any) -> str:
    """A non-string value as the text a STRING input receives, as KFP's driver gives it:
    JSON (`true`, `[1, 2]`, `{"a": 1}`), numbers written without a fraction when they are
    whole (110, not 110.0: protobuf keeps every number as a double, and Go writes 110)."""
    return json.dumps(_whole_numbers(value))


# What Go's strconv.ParseBool accepts, which KFP's launcher uses for BOOLEAN outputs.
_BOOLEANS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_output(text: str, parameter_type: str) -> Any:
    """The value of an output parameter file holding `text`, read as KFP's launcher reads
    it (`TextToPbValue`): STRING as it is; the rest with surrounding white space dropped,
    BOOLEAN as Go's ParseBool (1, t, T, TRUE, true, True and their 0/f/false
    counterparts), NUMBER_INTEGER as a decimal integer (`3.0` is not one), NUMBER_DOUBLE as
    a number (`3`, `2.5`, `1e-3`, `inf`, `nan`), LIST and STRUCT as JSON. ValueError,
    saying what was expected, if the text is not such a value."""
    if parameter_type == "STRING":
        return text
    stripped = text.strip()
    if parameter_type == "BOOLEAN":
        if stripped in _BOOLEANS:
            return _BOOLEANS[stripped]
        raise ValueError("a BOOLEAN is one of true, false, True, False, TRUE, FALSE, 1, 0")
    if parameter_type == "NUMBER_INTEGER":
        if _INTEGER.fullmatch(stripped):
            return int(stripped)
        raise ValueError("a NUMBER_INTEGER is written as a decimal integer such as 3 (not 3.0)")
    if parameter_type == "NUMBER_DOUBLE":
        if stripped and "_" not in stripped:
            try:
                return float(stripped)
            except ValueError:
                pass
        raise ValueError("a NUMBER_DOUBLE is written as a number such as 2.5 or 3")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as e:
        raise ValueError(f"a {parameter_type} is written as JSON ({e.msg})") from e


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


__all__ = ["as_text", "coerce", "from_ir", "parse_cli", "parse_output"]
