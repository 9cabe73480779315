"""Secrets and config maps on SQL (`named_values`): written whole, read by name. Part of
`SqlMetadataStore`; nothing but named values belongs here.

A secret's values pass through here and nowhere else is told them: errors name the
kind, namespace and name, never a value.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import sqlalchemy as sa

from dagyard.errors import NotFound
from dagyard.store.records import NamedValues, ValuesKind
from dagyard.store.sql import rows
from dagyard.store.sql.schema import NamedValuesRow
from dagyard.store.sql.transactions import Conflict, Transactions, now


class ValuesStorage(Transactions):
    """`put_values`, `get_values`, `list_values` and `delete_values` of the metadata
    store."""

    def put_values(self, values: NamedValues) -> NamedValues:
        key = _key(values.kind, values.name, values.namespace)
        try:
            return self._put(values, key)
        except Conflict:  # created by another caller since we looked: replace it
            return self._put(values, key)

    def get_values(self, kind: ValuesKind, name: str, namespace: str = "") -> NamedValues:
        key = _key(kind, name, namespace)
        with self._session() as session:
            row = session.get(NamedValuesRow, key)
            if row is None:
                raise _not_found(kind, name, namespace)
            return rows.to_record(row, NamedValues)

    def list_values(self, kind: ValuesKind, namespace: str = "") -> list[NamedValues]:
        rows.check_text("named_values.namespace", namespace)
        return self._list(
            NamedValues,
            sa.select(NamedValuesRow)
            .where(NamedValuesRow.kind == kind, NamedValuesRow.namespace == namespace)
            .order_by(NamedValuesRow.name),
        )

    def delete_values(self, kind: ValuesKind, name: str, namespace: str = "") -> None:
        _key(kind, name, namespace)
        with self._session(write=True) as session:
            result = session.execute(
                sa.delete(NamedValuesRow).where(
                    NamedValuesRow.kind == kind,
                    NamedValuesRow.namespace == namespace,
                    NamedValuesRow.name == name,
                )
            )
            if cast(sa.CursorResult[Any], result).rowcount == 0:
                raise _not_found(kind, name, namespace)

    def _put(self, values: NamedValues, key: tuple[ValuesKind, str, str]) -> NamedValues:
        with self._session(write=True) as session:
            row = session.get(NamedValuesRow, key, with_for_update=True)
            stamp = now()
            if row is None:
                record = dataclasses.replace(values, created_at=stamp, updated_at=stamp)
                row = rows.to_row(NamedValuesRow, record)
                session.add(row)
            else:
                row.data = rows.check_value(NamedValuesRow, "data", dict(values.data))
                row.updated_at = stamp
            session.flush()
            return rows.to_record(row, NamedValues)


def _key(kind: ValuesKind, name: str, namespace: str) -> tuple[ValuesKind, str, str]:
    rows.check_text("named_values.name", name)
    rows.check_text("named_values.namespace", namespace)
    return (ValuesKind(kind), namespace, name)


def _not_found(kind: ValuesKind, name: str, namespace: str) -> NotFound:
    noun = ValuesKind(kind).value.replace("_", " ")
    return NotFound(
        f"No {noun} named {name!r} in namespace {namespace!r}; create it with "
        f"`dagyard {noun.replace(' ', '')}s set {name} KEY=VALUE`."
    )
