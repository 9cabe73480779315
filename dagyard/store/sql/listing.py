"""Listings evaluated in SQL: KFP-style predicates, sorting and offset pages over one
table. What may be filtered and sorted per record type is declared here (`RUNS`, ...);
the plain query and page types are in `dagyard.store.listing`.

Runs sort by two keys that are no column: `duration` (milliseconds from `started_at` to
`finished_at`; unfinished runs last) and `metric:<key>` (the run's value of the metric
"<task path>/<metric>" in `run_metrics`; runs without it last).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from dagyard.errors import StoreError, UsageError
from dagyard.store.listing import (
    MAX_PAGE_SIZE,
    ListQuery,
    Operation,
    Page,
    Position,
    Predicate,
    decode_token,
    encode_token,
)
from dagyard.store.sql import rows
from dagyard.store.sql.columns import UTCDateTime
from dagyard.store.sql.schema import (
    ArtifactRow,
    Base,
    ExperimentRow,
    PipelineRow,
    PipelineVersionRow,
    RecurringRunRow,
    RunMetricRow,
    RunRow,
)

METRIC_SORT_PREFIX = "metric:"


@dataclasses.dataclass(frozen=True)
class Listable:
    """A table that can be listed: its filter/sort keys (API key -> column name)."""

    model: type[Base]
    noun: str
    id_column: str
    keys: dict[str, str]
    # Sort keys that are no column: key -> the value to sort by (NULL sorts last).
    computed: dict[str, Callable[[], sa.ColumnElement[Any]]] = dataclasses.field(
        default_factory=dict
    )
    # Whether "metric:<key>" sorts by a run's metric.
    metrics: bool = False


def _keys(*names: str, **aliases: str) -> dict[str, str]:
    return {**{name: name for name in names}, **aliases}


RUNS = Listable(
    RunRow,
    "runs",
    "run_id",
    _keys(
        "run_id",
        "display_name",
        "description",
        "state",
        "storage_state",
        "experiment_id",
        "pipeline_id",
        "pipeline_version_id",
        "recurring_run_id",
        "service_account",
        "created_at",
        "scheduled_at",
        "finished_at",
        id="run_id",
        name="display_name",
    ),
    computed={"duration": lambda: _Milliseconds(RunRow.started_at, RunRow.finished_at)},
    metrics=True,
)
EXPERIMENTS = Listable(
    ExperimentRow,
    "experiments",
    "experiment_id",
    _keys(
        "experiment_id",
        "display_name",
        "description",
        "namespace",
        "storage_state",
        "created_at",
        "last_run_created_at",
        id="experiment_id",
        name="display_name",
    ),
)
PIPELINES = Listable(
    PipelineRow,
    "pipelines",
    "pipeline_id",
    _keys(
        "pipeline_id",
        "name",
        "display_name",
        "description",
        "namespace",
        "created_at",
        id="pipeline_id",
    ),
)
PIPELINE_VERSIONS = Listable(
    PipelineVersionRow,
    "pipeline versions",
    "pipeline_version_id",
    _keys(
        "pipeline_version_id",
        "pipeline_id",
        "name",
        "display_name",
        "description",
        "created_at",
        id="pipeline_version_id",
    ),
)
RECURRING_RUNS = Listable(
    RecurringRunRow,
    "recurring runs",
    "recurring_run_id",
    _keys(
        "recurring_run_id",
        "display_name",
        "description",
        "experiment_id",
        "namespace",
        "pipeline_id",
        "pipeline_version_id",
        "max_concurrency",
        "created_at",
        "updated_at",
        id="recurring_run_id",
        name="display_name",
    ),
)
ARTIFACTS = Listable(
    ArtifactRow,
    "artifacts",
    "artifact_id",
    _keys(
        "artifact_id",
        "run_id",
        "name",
        "schema_title",
        "schema_version",
        "digest",
        "producer_task_id",
        "output_key",
        "created_at",
        id="artifact_id",
    ),
)


def fetch(
    session: Session,
    listable: Listable,
    record_type: type[Any],
    query: ListQuery,
    scope: tuple[Predicate, ...] = (),
) -> Page[Any]:
    """The page of `listable` that `query` asks for, among the rows matching `scope` too.

    Page tokens are keyset positions (the last row's sort value and id), so the 1,000th
    page costs what the first does."""
    size = query.size()
    conditions = [_condition(listable, p) for p in (*scope, *query.predicates)]
    column, descending = _sort(listable, query.sort_by)
    identity = _table_column(listable, listable.id_column)
    fingerprint = _fingerprint(listable, query, scope)
    position = decode_token(query.page_token, fingerprint) if query.page_token else None
    table = listable.model.__table__
    total = session.scalar(sa.select(sa.func.count()).select_from(table).where(*conditions))
    after = [] if position is None else [_after(column, identity, descending, position)]
    # Keys first, rows second: the sort walks an index and carries only keys, not whole
    # rows (a run's row holds its pipeline spec).
    keys = session.execute(
        sa.select(identity, column)
        .where(*conditions, *after)
        .order_by(*_order(column, identity, descending))
        .limit(size + 1)
    ).all()
    wanted = [k for k, _ in keys[:size]]
    by_key = {
        getattr(row, listable.id_column): row
        for row in session.scalars(sa.select(listable.model).where(identity.in_(wanted)))
    }
    found = [by_key[k] for k in wanted if k in by_key]
    next_token = ""
    if len(keys) > size:
        last_key, last_value = keys[size - 1]
        offset = (position.offset if position else 0) + size
        next_token = encode_token(Position(last_value, last_key, offset), fingerprint)
    return Page(
        records=[rows.to_record(row, record_type) for row in found],
        total_size=int(total or 0),
        next_page_token=next_token,
    )


def metric_keys(session: Session, query: ListQuery, scope: tuple[Predicate, ...]) -> list[str]:
    """The metric keys of the runs matching `scope` and `query`'s predicates, sorted, at
    most MAX_PAGE_SIZE (its sort and page do not matter)."""
    conditions = [_condition(RUNS, p) for p in (*scope, *query.predicates)]
    runs = sa.select(RunRow.run_id).where(*conditions)
    found = session.scalars(
        sa.select(RunMetricRow.key)
        .where(RunMetricRow.run_id.in_(runs))
        .distinct()
        .order_by(RunMetricRow.key)
        .limit(MAX_PAGE_SIZE)
    )
    return list(found)


def _column(listable: Listable, key: str, what: str) -> sa.Column[Any]:
    name = listable.keys.get(key)
    if name is None:
        known = ", ".join(sorted(listable.keys))
        raise UsageError(f"Cannot {what} {listable.noun} by {key!r}; use one of: {known}.")
    return _table_column(listable, name)


def _table_column(listable: Listable, name: str) -> sa.Column[Any]:
    table = listable.model.__table__
    if not isinstance(table, sa.Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{listable.model.__name__} is not mapped to a table")
    column: sa.Column[Any] = table.c[name]
    return column


def _condition(listable: Listable, predicate: Predicate) -> sa.ColumnElement[bool]:
    column = _column(listable, predicate.key, "filter")
    op = predicate.operation
    if op == Operation.IN:
        values = predicate.value
        if not isinstance(values, list | tuple):
            raise UsageError(
                f"Filter {predicate.key!r} IN needs a list of values (string_values, "
                f"int_values or long_values), not {values!r}."
            )
        return column.in_([_value(listable, column, predicate, v) for v in values])
    value = _value(listable, column, predicate, predicate.value)
    if op == Operation.IS_SUBSTRING:
        if not isinstance(value, str):
            raise UsageError(
                f"Filter {predicate.key!r} IS_SUBSTRING needs a string value, not {value!r}."
            )
        return column.contains(value, autoescape=True)
    comparisons = {
        Operation.EQUALS: column.__eq__,
        Operation.NOT_EQUALS: column.__ne__,
        Operation.GREATER_THAN: column.__gt__,
        Operation.GREATER_THAN_EQUALS: column.__ge__,
        Operation.LESS_THAN: column.__lt__,
        Operation.LESS_THAN_EQUALS: column.__le__,
    }
    condition: sa.ColumnElement[bool] = comparisons[op](value)
    return condition


def _value(listable: Listable, column: sa.Column[Any], predicate: Predicate, value: Any) -> Any:
    where = f"Filter on {predicate.key!r}"
    if isinstance(column.type, UTCDateTime):
        return _time(where, value)
    if value is None or isinstance(value, bool | dict | list | tuple):
        raise UsageError(f"{where} cannot compare with {value!r}; give a string or a number.")
    if isinstance(column.type, sa.String | sa.Text | sa.Enum):
        value = str(value)
    try:
        return rows.check_value(listable.model, column.name, value)
    except StoreError as e:
        raise UsageError(f"{where}: {e}") from None


def _time(where: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _time(where, int(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise UsageError(
        f"{where} needs a time: RFC 3339 text such as '2024-01-31T12:00:00Z' or Unix "
        f"seconds, not {value!r}."
    )


def _sort(listable: Listable, sort_by: str) -> tuple[sa.ColumnElement[Any], bool]:
    """What to sort by, and whether descending. The field may hold spaces (a metric's
    name can); a last word 'asc' or 'desc' is the direction."""
    words = sort_by.split()
    descending = False
    if len(words) > 1 and words[-1].lower() in ("asc", "desc"):
        descending = words.pop().lower() == "desc"
    field = " ".join(words) or "created_at"
    if field in listable.computed:
        return listable.computed[field](), descending
    if listable.metrics and field.startswith(METRIC_SORT_PREFIX):
        return _metric(listable, field.removeprefix(METRIC_SORT_PREFIX)), descending
    if len(words) > 1:
        raise UsageError(
            f"sort_by {sort_by!r} is not understood; give a field, optionally followed by "
            "'desc' or 'asc', e.g. 'created_at desc'."
        )
    return _column(listable, field, "sort"), descending


def _metric(listable: Listable, key: str) -> sa.ColumnElement[Any]:
    """A run's value of metric `key`, NULL when it has none."""
    if not key:
        raise UsageError(
            f"sort_by {METRIC_SORT_PREFIX!r} needs a metric's key after it, "
            f"e.g. '{METRIC_SORT_PREFIX}train/accuracy desc'."
        )
    run_id = _table_column(listable, listable.id_column)
    value: sa.ColumnElement[Any] = (
        sa.select(RunMetricRow.value)
        .where(RunMetricRow.run_id == run_id, RunMetricRow.key == key)
        .scalar_subquery()
    )
    return value


class _Milliseconds(sa.sql.expression.FunctionElement[int]):
    """Whole milliseconds from the first time to the second; NULL if either is."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "milliseconds_between"


@compiles(_Milliseconds)
def _sqlite_milliseconds(element: _Milliseconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST((julianday({end}) - julianday({start})) * 86400000 AS INTEGER)"


@compiles(_Milliseconds, "postgresql")
def _postgresql_milliseconds(element: _Milliseconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000 AS BIGINT)"


@compiles(_Milliseconds, "mysql")
@compiles(_Milliseconds, "mariadb")
def _mysql_milliseconds(element: _Milliseconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(TIMESTAMPDIFF(MICROSECOND, {start}, {end}) DIV 1000)"


def _order(
    column: sa.ColumnElement[Any], identity: sa.Column[Any], descending: bool
) -> list[sa.ColumnElement[Any]]:
    """By the column, NULLs last either way (the same on every backend), then by id."""
    order: list[sa.ColumnElement[Any]] = []
    if _nullable(column):
        order.append(sa.case((column.is_(None), 1), else_=0))
    if descending:
        return [*order, column.desc(), identity.desc()]
    return [*order, column.asc(), identity.asc()]


def _after(
    column: sa.ColumnElement[Any], identity: sa.Column[Any], descending: bool, position: Position
) -> sa.ColumnElement[bool]:
    """The rows that come after `position` in the order of `_order`."""

    def beyond(col: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        compared: sa.ColumnElement[bool] = col < value if descending else col > value
        return compared

    if column is identity:
        return beyond(identity, position.key)
    if position.value is None:  # among the NULLs, which come last
        return sa.and_(column.is_(None), beyond(identity, position.key))
    later = sa.or_(
        beyond(column, position.value),
        sa.and_(column == position.value, beyond(identity, position.key)),
    )
    return sa.or_(later, column.is_(None)) if _nullable(column) else later


def _nullable(value: sa.ColumnElement[Any]) -> bool:
    """Whether `value` may be NULL: a nullable column, or anything computed."""
    return not isinstance(value, sa.Column) or bool(value.nullable)


def _fingerprint(listable: Listable, query: ListQuery, scope: tuple[Predicate, ...]) -> str:
    described = [
        listable.model.__tablename__,
        [[p.key, str(p.operation), repr(p.value)] for p in (*scope, *query.predicates)],
        query.sort_by.strip().lower(),
        query.size(),
    ]
    digest = hashlib.sha256(json.dumps(described).encode()).hexdigest()
    return digest[:16]
