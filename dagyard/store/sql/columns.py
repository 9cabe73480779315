"""Column types that make SQLite, PostgreSQL and MySQL/MariaDB store values alike.

- `UTCDateTime`: timezone-aware UTC in, timezone-aware UTC out, with microseconds, on
  every backend (MySQL's DATETIME and SQLite's text dates have no time zone).
- `JSONDocument`: a dict or list stored as JSON text, serialized by Python's `json` on
  every backend. Not the native JSON types, on purpose: PostgreSQL's `json` rejects the
  NaN/Infinity an ML metric can hold, MySQL's `JSON` reorders object keys, and MariaDB's
  `JSON` is LONGTEXT anyway. LONGTEXT on MySQL, so a large `pipeline_spec` fits.
- `LongText`: unbounded text (MySQL's TEXT stops at 64 KB).
- `enum_type`: a Python string enum stored as its values in a VARCHAR (no native enum
  types: adding a state later must not need an ALTER TYPE).

Only types belong here; the tables are in `schema.py`. The initial migration spells the
same column types without importing this module, so that it never changes.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

_MYSQL = ("mysql", "mariadb")

LongText = sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)


def enum_type(enum_class: type[enum.StrEnum]) -> sa.Enum:
    """A VARCHAR(32) holding the enum's values (e.g. TaskKind.CONTAINER as 'container')."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime, stored as UTC with microseconds and read back as aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # Generic types, not dialect.type_descriptor(...): psycopg's adaptation of Text
        # would write VARCHAR in DDL.
        return mysql.DATETIME(fsp=6) if dialect.name in _MYSQL else sa.DateTime(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # Callers are checked earlier (rows.py); this guards query parameters.
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware UTC time")
        value = value.astimezone(UTC)
        # PostgreSQL's timestamptz keeps the instant; the others store naive UTC.
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONDocument(sa.TypeDecorator[Any]):
    """A JSON value (dict, list, str, number...) as text; NULL stands for None."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return mysql.LONGTEXT() if dialect.name in _MYSQL else sa.Text()

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        # ASCII escapes keep any str storable (lone surrogates, NUL on PostgreSQL);
        # compact separators keep a large pipeline_spec small.
        return json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)
