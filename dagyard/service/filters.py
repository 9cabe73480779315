"""KFP's list parameters turned into a `ListQuery`: the `filter` JSON (`filter.proto`,
as protojson reads it: camelCase or snake_case fields, operations by name or number),
`sort_by`, `page_size` and `page_token`. Evaluating the query is the store's job.
"""

from __future__ import annotations

import json
from typing import Any

from dagyard.errors import UsageError
from dagyard.store.listing import OPERATION_CODES, ListQuery, Operation, Predicate

_SINGLE = {
    "int_value": "intValue",
    "long_value": "longValue",
    "string_value": "stringValue",
    "timestamp_value": "timestampValue",
    "bool_value": "boolValue",
}
_LISTS = {"int_values": "intValues", "long_values": "longValues", "string_values": "stringValues"}


def list_query(
    *, filter: str | None = None, sort_by: str = "", page_size: int = 0, page_token: str = ""
) -> ListQuery:
    """A checked query from KFP's list parameters; UsageError says what is wrong."""
    return ListQuery(
        predicates=parse_filter(filter or ""),
        sort_by=sort_by or "",
        page_size=page_size or 0,
        page_token=page_token or "",
    )


def parse_filter(text: str) -> tuple[Predicate, ...]:
    """The predicates of a KFP filter JSON document ("" for none)."""
    if not text.strip():
        return ()
    try:
        document = json.loads(text)
    except ValueError as e:
        raise UsageError(
            f"The filter is not JSON ({e}); give e.g. "
            '{"predicates": [{"operation": "EQUALS", "key": "display_name", '
            '"string_value": "x"}]}.'
        ) from None
    if not isinstance(document, dict):
        raise UsageError(f"The filter must be a JSON object with 'predicates', not {text[:80]!r}.")
    unknown = set(document) - {"predicates"}
    if unknown:
        raise UsageError(f"The filter has unknown field {sorted(unknown)[0]!r}; use 'predicates'.")
    items = document.get("predicates") or []
    if not isinstance(items, list):
        raise UsageError("The filter's 'predicates' must be a list.")
    return tuple(_predicate(i, item) for i, item in enumerate(items))


def _predicate(index: int, item: Any) -> Predicate:
    where = f"Filter predicate {index}"
    if not isinstance(item, dict):
        raise UsageError(f"{where} must be an object with operation, key and a value.")
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise UsageError(f"{where} has no 'key'; name the field to filter on.")
    operation = _operation(where, item.get("operation"))
    values: list[Any] = []
    for snake, camel in _SINGLE.items():
        for name in (snake, camel):
            if name in item:
                values.append(_single(where, name, item[name]))
    for snake, camel in _LISTS.items():
        for name in (snake, camel):
            if name in item:
                values.append(_many(where, name, item[name]))
    if len(values) != 1:
        raise UsageError(
            f"{where} ({key}) needs exactly one value field (string_value, int_value, "
            f"long_value, timestamp_value, string_values, ...), found {len(values)}."
        )
    return Predicate(key, operation, values[0])


def _operation(where: str, value: Any) -> Operation:
    if isinstance(value, int) and not isinstance(value, bool) and value in OPERATION_CODES:
        return OPERATION_CODES[value]
    if isinstance(value, str):
        if value.isdigit() and int(value) in OPERATION_CODES:
            return OPERATION_CODES[int(value)]
        if value in Operation.__members__:
            return Operation(value)
    names = ", ".join(f"{op} ({code})" for code, op in OPERATION_CODES.items())
    raise UsageError(f"{where} has operation {value!r}; use one of: {names}.")


def _single(where: str, name: str, value: Any) -> Any:
    if name.startswith(("int", "long")):
        # protojson writes int64 as a string.
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise UsageError(f"{where}: {name} must be a whole number, not {value!r}.")
    if name.startswith("bool"):
        if isinstance(value, bool):
            return "true" if value else "false"
        raise UsageError(f"{where}: {name} must be true or false, not {value!r}.")
    if not isinstance(value, str):
        raise UsageError(f"{where}: {name} must be a string, not {value!r}.")
    return value


def _many(where: str, name: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, dict):
        value = value.get("values", [])
    if not isinstance(value, list):
        raise UsageError(f"{where}: {name} must be {{'values': [...]}}, not {value!r}.")
    single = "int_value" if name.startswith("int") else "long_value"
    if name.startswith("string"):
        single = "string_value"
    return tuple(_single(where, single, v) for v in value)
