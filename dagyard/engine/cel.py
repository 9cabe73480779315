"""CEL, as KFP uses it: `triggerPolicy.condition` over `inputs.parameter_values[...]`,
and `parameterExpressionSelector` (`parseJson(string_value)["a"]`) over one value.

Evaluated with cel-python, imported when the first expression is (most pipelines have
none, and a command that runs one should not pay for its parser). Compiled programs are
cached: a loop of 1,000 iterations evaluates the same condition 1,000 times.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from dagyard.engine.failures import TaskFailure

if TYPE_CHECKING:
    import celpy
    from celpy import celtypes


def _parse_json(text: celtypes.StringType) -> Any:
    from celpy.adapter import json_to_cel

    return json_to_cel(json.loads(str(text)))


@functools.cache
def _program(expression: str) -> celpy.Runner:
    import celpy
    from celpy.celparser import CELParseError

    env = celpy.Environment()
    try:
        ast = env.compile(expression)
    except CELParseError as e:
        raise TaskFailure(f"Cannot parse the CEL expression {expression!r}: {e}") from e
    return env.program(ast, functions={"parseJson": _parse_json})


def _to_python(value: Any) -> Any:
    from celpy import celtypes

    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [_to_python(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {str(k): _to_python(v) for k, v in value.items()}
    if value is None or isinstance(value, celtypes.NullType):
        return None
    return value


def condition_holds(expression: str, parameter_values: dict[str, Any]) -> bool:
    """Evaluate a trigger condition against a task's resolved input parameters."""
    from celpy import celtypes
    from celpy.adapter import json_to_cel
    from celpy.evaluation import CELEvalError

    activation = {"inputs": json_to_cel({"parameter_values": parameter_values})}
    try:
        result = _program(expression).evaluate(activation)
    except CELEvalError as e:
        raise TaskFailure(f"Condition {expression!r} failed to evaluate: {e}") from e
    if isinstance(result, CELEvalError):
        raise TaskFailure(f"Condition {expression!r} failed to evaluate: {result}")
    if not isinstance(result, celtypes.BoolType):
        raise TaskFailure(f"Condition {expression!r} gave {result!r}, not true or false.")
    return bool(result)


def select(expression: str, value: Any) -> Any:
    """Apply a `parameterExpressionSelector` to one parameter value."""
    from celpy import celtypes
    from celpy.evaluation import CELEvalError

    string_value = value if isinstance(value, str) else json.dumps(value)
    activation = {"string_value": celtypes.StringType(string_value)}
    try:
        result = _program(expression).evaluate(activation)
    except CELEvalError as e:
        raise TaskFailure(f"Selector {expression!r} failed on {value!r}: {e}") from e
    if isinstance(result, CELEvalError):
        raise TaskFailure(f"Selector {expression!r} failed on {value!r}: {result}")
    return _to_python(result)
