"""Records to rows and back, with the checks that every backend must apply alike.

SQLite enforces neither string lengths nor much else, so values are checked here before
they reach any database: the same bad value gets the same StoreError everywhere. Queries
do not belong here (see `store.py`).

Text is checked here too, for every text column and every string inside a JSON document:
a lone surrogate (what `json.loads` makes of "\\ud800") is not UTF-8, so no driver can
send it and no API answer could show it; a NUL character fits SQLite and MariaDB text
but not PostgreSQL's. Both are refused in text columns, whatever the backend; JSON keeps
NUL (it is stored escaped, alike everywhere) and refuses lone surrogates.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from dagyard.errors import StoreError
from dagyard.store.sql.columns import JSONDocument, UTCDateTime
from dagyard.store.sql.schema import Base

R = TypeVar("R")
M = TypeVar("M", bound=Base)

# Record fields whose attribute on the row differs (names SQLAlchemy reserves).
_ATTRIBUTES = {"metadata": "metadata_"}

# What no text column may hold: NUL, and a surrogate code point, which in a Python str is
# always a lone one (a valid pair is one code point).
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def attribute(field: str) -> str:
    """The row attribute that holds a record field."""
    return _ATTRIBUTES.get(field, field)


def to_row(model: type[M], record: Any) -> M:
    """A new row with the record's values, checked (see `check_value`)."""
    values = {
        attribute(field.name): check_value(model, field.name, getattr(record, field.name))
        for field in dataclasses.fields(record)
    }
    return model(**values)


def column_values(
    model: type[Base], record_type: type[Any], *, key: bool = True
) -> Callable[[Any], dict[str, Any]]:
    """A function from a `record_type` record to its checked values by column name (as
    `check_value` checks them), for Core statements; without the primary key if `key` is
    false. Which check each column needs is decided once, here."""
    table = _table(model)
    checks = [
        (field.name, _checker(model, field.name))
        for field in dataclasses.fields(record_type)
        if key or not table.c[field.name].primary_key
    ]

    def values(record: Any) -> dict[str, Any]:
        return {
            name: getattr(record, name) if check is None else check(getattr(record, name))
            for name, check in checks
        }

    return values


def _checker(model: type[Base], field: str) -> Callable[[Any], Any] | None:
    """`check_value` for `field`, or None if every value passes it unchanged. The usual
    good value is let through at once; any other goes to `check_value`, which converts
    it or says what is wrong."""
    column = _table(model).c[field]
    kind = column.type
    nullable = column.nullable

    def slow(value: Any) -> Any:
        return check_value(model, field, value)

    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        members = kind.enum_class
        return lambda v: v if isinstance(v, members) else slow(v)
    if isinstance(kind, UTCDateTime):
        return lambda v: (
            v
            if (v is None and nullable) or (isinstance(v, datetime) and v.tzinfo is not None)
            else slow(v)
        )
    if isinstance(kind, sa.String):
        limit = kind.length
        return lambda v: (
            v
            if (v is None and nullable)
            or (
                isinstance(v, str)
                and (limit is None or len(v) <= limit)
                and _BAD_TEXT.search(v) is None
            )
            else slow(v)
        )
    if isinstance(kind, JSONDocument):
        return lambda v: (
            v if (v is None and nullable) or (v is not None and _plain_json(v)) else slow(v)
        )
    if not nullable:
        return lambda v: v if v is not None else slow(v)
    return None


def to_record(row: Base, record_type: type[R]) -> R:
    """The record a row holds."""
    fields = dataclasses.fields(record_type)  # type: ignore[arg-type]
    return record_type(**{field.name: getattr(row, attribute(field.name)) for field in fields})


def check_changes(model: type[Base], record_type: type[Any], changes: dict[str, Any]) -> None:
    """Reject updates of unknown fields or of the primary key; check and convert values
    in place (e.g. a state given as a string becomes the enum member)."""
    table = _table(model)
    known = {field.name for field in dataclasses.fields(record_type)}
    for name, value in changes.items():
        if name not in known:
            raise StoreError(
                f"{record_type.__name__} has no field {name!r}; "
                f"fields that can change: {', '.join(sorted(known))}."
            )
        if table.c[name].primary_key:
            raise StoreError(f"{record_type.__name__}.{name} is the record's id and cannot change.")
        changes[name] = check_value(model, name, value)


def check_value(model: type[Base], field: str, value: Any) -> Any:
    """The value to store in `field`, or a StoreError that names the field and the fix."""
    column = _table(model).c[field]
    where = f"{model.__tablename__}.{field}"
    if value is None:
        if not column.nullable:
            raise StoreError(f"{where} cannot be None.")
        return None
    column_type = column.type
    if isinstance(column_type, sa.Enum):
        enum_class = column_type.enum_class
        if enum_class is not None and not isinstance(value, enum_class):
            try:
                return enum_class(value)
            except ValueError:
                allowed = ", ".join(str(member.value) for member in enum_class)
                raise StoreError(f"{where} cannot be {value!r}; use one of: {allowed}.") from None
    elif isinstance(column_type, UTCDateTime):
        check_time(where, value)
    elif isinstance(column_type, sa.String) and column_type.length is not None:
        if not isinstance(value, str):
            raise StoreError(f"{where} must be a string, not {type(value).__name__}: {value!r}.")
        if len(value) > column_type.length:
            raise StoreError(
                f"{where} is {len(value)} characters long, more than the "
                f"{column_type.length} the database holds: {value[:60]!r}... Use a shorter value."
            )
        check_text(where, value)
    elif isinstance(column_type, sa.String) and isinstance(value, str):
        check_text(where, value)
    elif isinstance(column_type, JSONDocument):
        check_json(where, value)
    return value


def check_text(where: str, value: str) -> None:
    """Reject text that not every backend can hold: a NUL character or a lone surrogate.
    The message names `where` and the position, never the text itself (an answer that
    showed a lone surrogate could not be encoded)."""
    found = _BAD_TEXT.search(value)
    if found is not None:
        raise StoreError(_bad_text(where, value, found.start()))


def check_json(where: str, value: Any) -> None:
    """Reject a JSON document with a lone surrogate in any key or string, naming the
    path to it (e.g. `runs.runtime_config at parameters.greeting`)."""
    if _plain_json(value):
        return
    found = _surrogate_path(value, ())
    if found is not None:
        path, text, index = found
        at = f"{where} at {'.'.join(path)}" if path else where
        raise StoreError(_bad_text(at, text, index))


def _plain_json(value: Any) -> bool:
    """Whether `value` holds no lone surrogate (or is not JSON at all: the column says
    so when it serializes it). One pass in C; the slow search only on a hit."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return True
    return _SURROGATE.search(text) is None


def _surrogate_path(value: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], str, int] | None:
    """The path to the first string holding a lone surrogate, the string and where in it."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return None if found is None else (path, value, found.start())
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    for key, item in items:
        if isinstance(key, str) and (hit := _SURROGATE.search(key)) is not None:
            return (*path, ascii(key)[1:-1]), key, hit.start()
        if (inner := _surrogate_path(item, (*path, str(key)))) is not None:
            return inner
    return None


def _bad_text(where: str, value: str, index: int) -> str:
    if value[index] == "\x00":
        return (
            f"{where} contains a NUL character (at position {index}); remove it: the "
            "database cannot hold it in text on every backend."
        )
    return (
        f"{where} is not valid UTF-8 text (a lone surrogate, {value[index]!a} at "
        f"position {index}); send well-formed text, whose surrogates come in pairs."
    )


def check_time(where: str, value: Any) -> None:
    """Reject anything but an aware datetime (stored, or used in a query)."""
    if not isinstance(value, datetime):
        raise StoreError(f"{where} must be a datetime, not {type(value).__name__}: {value!r}.")
    if value.tzinfo is None:
        raise StoreError(
            f"{where} is a naive datetime ({value.isoformat()}); "
            "pass an aware one, e.g. datetime.now(timezone.utc)."
        )


def enum_value(value: enum.Enum | str) -> str:
    """The stored form of an enum member (its value)."""
    return str(value.value) if isinstance(value, enum.Enum) else value


def _table(model: type[Base]) -> sa.Table:
    table = model.__table__
    if not isinstance(table, sa.Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
