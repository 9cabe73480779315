"""Core statements compiled once per database and run straight on the driver's cursor.

Belongs here: the lean path for the few statements the engine runs for every task
(`SqlMetadataStore.write_tasks`). Running a Core statement through a `Connection` costs
several times what the database itself spends on a small batch: the compiled-cache
lookup, the execution context, events, the result object. A `Prepared` statement is
compiled once for the dialect; each call converts the values with the same bind
processors SQLAlchemy would use (JSON text, UTC datetimes, enum names) and hands them to
the cursor's `executemany` inside the caller's transaction. The SQL, the values stored
and the errors raised (wrapped as SQLAlchemy's, so `Transactions._translated` turns them
into StoreErrors) are the same as through `Connection.execute`.

Not here: any statement whose values need more than bind processing (expanding IN
lists, SQL expressions as values, RETURNING): those go through `Connection.execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class Prepared:
    """`statement` compiled for `dialect` with the parameters `keys` (the keys of every
    row given to `execute_many`, or of the parameters given to `fetch`)."""

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("A prepared statement cannot expand parameters at run time.")
        self.sql = compiled.string
        self._dbapi = dialect.loaded_dbapi
        self._positional = compiled.positional
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        assert names is not None
        # Per parameter, in the SQL's order: its name there, the row key it comes from,
        # and the processor that turns the row's value into the driver's.
        self._params: list[tuple[str, str, Processor | None]] = []
        for name in names:
            bind = compiled.binds[name]
            if bind.key not in keys:
                raise ValueError(f"The statement needs a parameter {bind.key!r} beyond {keys}.")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self._params.append((name, bind.key, processor))

    def execute_many(self, connection: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row, in `connection`'s transaction."""
        if rows:
            self._run(connection, [self._values(row) for row in rows], many=True)

    def fetch(self, connection: sa.Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query once; its rows as plain tuples (values as the driver returns them)."""
        return self._run(connection, self._values(params), many=False)

    def _values(self, row: Mapping[str, Any]) -> Any:
        try:
            values = [row[key] if p is None else p(row[key]) for _, key, p in self._params]
        except Exception as error:  # e.g. a value JSON cannot encode: as SQLAlchemy says it
            raise sa_exc.StatementError(str(error), self.sql, None, error) from error
        if self._positional:
            return tuple(values)
        return {name: value for (name, _, _), value in zip(self._params, values, strict=True)}

    def _run(self, connection: sa.Connection, values: Any, *, many: bool) -> list[Any]:
        cursor = connection.connection.cursor()
        try:
            if many:
                cursor.executemany(self.sql, values)
                return []
            cursor.execute(self.sql, values)
            return [tuple(row) for row in cursor.fetchall()]
        except self._dbapi.Error as error:
            # As Connection.execute reports it: IntegrityError, OperationalError, ...
            raise sa_exc.DBAPIError.instance(self.sql, values, error, self._dbapi.Error) from error
        finally:
            cursor.close()
