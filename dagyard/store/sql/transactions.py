"""The plumbing under `SqlMetadataStore`: opening the database, one session per call,
translating database errors into StoreErrors, and the create/get/list/update/delete
every record type shares. What a method means belongs in `store.py`, not here.

Database errors are translated by whose fault they are (see `dagyard.errors`): a
database that does not answer, or a lock not granted in time, is StoreUnavailable (retry
later); a broken key is Conflict; a value the database cannot hold is a plain StoreError
(the caller's: text is checked before it is written, in `rows.py`, and ids before they are
looked up, here, so that every backend refuses the same text alike); anything else is
StoreFailure (ours). Only StoreUnavailable and StoreFailure name the database (its URL,
password masked): their messages are for the operator's log, and the API never shows
them to a client.

Threads: the engine's pool hands each session its own connection, and a session never
outlives the call that made it, so calls may come from any thread at the same time.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from dagyard.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    StoreError,
    StoreFailure,
    StoreUnavailable,
)
from dagyard.store.sql import database, migrate, rows
from dagyard.store.sql.schema import Base

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R")
M = TypeVar("M", bound=Base)
D = TypeVar("D", bound="DataclassInstance")


__all__ = ["Conflict", "Transactions", "now", "stamped"]

# What SQLite says, as an OperationalError, when it cannot do its part: a lock held past
# the busy timeout, a file it cannot open or write. Its other OperationalErrors (a missing
# table, bad SQL) are faults of ours, not outages.
_SQLITE_OUTAGES = ("locked", "busy", "unable to open", "disk i/o", "readonly", "full")


def now() -> datetime:
    return datetime.now(UTC)


def stamped(record: D, *fields: str) -> D:
    """The record with its unset (None) time `fields` set to now."""
    unset = {name: now() for name in fields if getattr(record, name) is None}
    return dataclasses.replace(record, **unset) if unset else record


class Transactions:
    """A database connection pool and the generic operations on its tables."""

    def __init__(self, url: str) -> None:
        self._url = database.parse_url(url)
        #: The database URL with the password masked.
        self.url = database.safe_url(self._url)
        self._engine = database.create_engine(self._url)
        try:
            migrate.upgrade(self._engine)
        except sa_exc.DBAPIError as error:
            self._engine.dispose()
            cause = database.connection_error(self._url, error)
            if isinstance(error, sa_exc.OperationalError):
                raise StoreUnavailable(str(cause)) from error
            raise cause from error
        except BaseException:
            self._engine.dispose()
            raise
        writer = self._engine
        if database.is_sqlite(self._engine):
            writer = database.write_engine(self._engine)
        self._writer = writer
        self._reading = sessionmaker(self._engine, expire_on_commit=False)
        self._writing = sessionmaker(writer, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def close(self) -> None:
        """Close the pooled connections. The store must not be used afterwards."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._translated(), (self._writing if write else self._reading).begin() as session:
            yield session

    @contextlib.contextmanager
    def _writing_connection(self) -> Iterator[sa.Connection]:
        """One writing transaction for Core statements only: cheaper than a session."""
        with self._translated(), self._writer.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Database errors as StoreErrors that say what to do, split by whose fault they
        are (the module's docstring)."""
        try:
            yield
        except sa_exc.IntegrityError as error:
            raise Conflict(f"The metadata database refused a write: {error.orig}") from error
        except sa_exc.OperationalError as error:  # lost server, lock timeout, deadlock...
            if self._is_outage(error):
                raise self._unavailable(error) from error
            raise StoreFailure(f"The metadata database {self.url} failed: {error.orig}") from error
        except sa_exc.DataError as error:  # e.g. a name longer than its column
            raise StoreError(
                f"Cannot store a value: {_first_line(error.orig)}. Give a shorter or "
                "well-formed value."
            ) from error
        except sa_exc.DBAPIError as error:
            if error.connection_invalidated:  # e.g. a connection the server closed
                raise self._unavailable(error) from error
            raise StoreFailure(f"The metadata database {self.url} failed: {error.orig}") from error
        except sa_exc.StatementError as error:  # e.g. a value that JSON cannot encode
            raise StoreError(f"Cannot store a value: {error.orig}") from error
        except UnicodeEncodeError as error:  # a lone surrogate in a lookup's value
            raise StoreError(
                "A value looked up is not valid UTF-8 text (it holds a lone surrogate); "
                "send well-formed text, whose surrogates come in pairs."
            ) from error

    def _unavailable(self, error: sa_exc.DBAPIError) -> StoreUnavailable:
        text = str(error.orig)
        if database.is_sqlite(self._engine) and "full" in text.lower():
            return StoreUnavailable(
                f"The metadata database {self.url} cannot write: {text}. Free space on the "
                "disk that holds it; writes resume by themselves.",
                reason="the disk that holds it is full",
            )
        return StoreUnavailable(
            f"The metadata database {self.url} does not answer: {text}. Check that the "
            "database server is running and reachable; after a lock timeout or a "
            "deadlock, retry."
        )

    def _is_outage(self, error: sa_exc.OperationalError) -> bool:
        if not database.is_sqlite(self._engine):
            return True  # on a server, OperationalError means the connection or a lock
        return any(word in str(error.orig).lower() for word in _SQLITE_OUTAGES)

    def _get(self, session: Session, model: type[M], key: str, *, lock: bool = False) -> M:
        _check_key(model, key)
        row = session.get(model, key, with_for_update=lock)
        if row is None:
            raise NotFound(f"No {_noun(model)} with id {key!r}.")
        return row

    def _require(self, session: Session, model: type[Base], key: str) -> None:
        column = _check_key(model, key)
        if session.scalar(sa.select(column).where(column == key)) is None:
            raise NotFound(f"No {_noun(model)} with id {key!r}.")

    def _id_taken(self, model: type[Base], key: str) -> AlreadyExists:
        return AlreadyExists(
            f"A {_noun(model)} with id {key!r} exists already; give the new one another id."
        )

    def _fetch(self, model: type[M], key: str, record_type: type[R]) -> R:
        with self._session() as session:
            record = rows.to_record(self._get(session, model, key), record_type)
        return record

    def _list(self, record_type: type[R], query: sa.Select[Any]) -> list[R]:
        with self._session() as session:
            records = [rows.to_record(row, record_type) for row in session.scalars(query)]
        return records

    def _create(
        self,
        record: D,
        model: type[Base],
        *,
        parent: tuple[type[Base], str] | None = None,
        unique: str | None = None,
    ) -> D:
        """Insert the record. NotFound if `parent` (model, id) does not exist;
        AlreadyExists if the id is taken, or with the message `unique` if another
        unique key is."""
        row = rows.to_row(model, record)
        key = getattr(record, str(_primary_key(model).key))
        try:
            with self._session(write=True) as session:
                if parent is not None:
                    self._require(session, *parent)
                session.add(row)
                session.flush()
                created = rows.to_record(row, type(record))
        except Conflict:
            with self._session() as session:
                taken = session.get(model, key) is not None
            if taken or unique is None:
                raise self._id_taken(model, key) from None
            raise AlreadyExists(unique) from None
        return created

    def _update(
        self,
        model: type[M],
        key: str,
        record_type: type[R],
        changes: dict[str, Any],
        *,
        also: Callable[[Session], dict[str, Any]] | None = None,
    ) -> R:
        """Set fields of a row (locked while it changes); StoreError for unknown fields.
        `also` gives more column values (of columns outside the record), computed in the
        same transaction before the row is locked."""
        rows.check_changes(model, record_type, changes)
        try:
            with self._session(write=True) as session:
                extra = also(session) if also is not None else {}
                row = self._get(session, model, key, lock=True)
                for name, value in changes.items():
                    setattr(row, rows.attribute(name), value)
                for name, value in extra.items():
                    setattr(row, name, value)
                session.flush()
                updated = rows.to_record(row, record_type)
        except Conflict as conflict:
            raise AlreadyExists(
                f"Cannot change {', '.join(changes)} of {_noun(model)} {key!r}: another "
                f"{_noun(model)} has that value already, or it names a record that does "
                f"not exist ({conflict})."
            ) from None
        return updated

    def _delete(self, model: type[Base], key: str) -> None:
        """Delete a row and, through the database's cascades, what it owns."""
        column = _check_key(model, key)
        with self._session(write=True) as session:
            result = session.execute(sa.delete(model).where(column == key))
            if cast(sa.CursorResult[Any], result).rowcount == 0:
                raise NotFound(f"No {_noun(model)} with id {key!r}.")


def _first_line(cause: BaseException | None) -> str:
    """A driver's message without the statement and parameters some append to it."""
    return str(cause).strip().splitlines()[0] if cause is not None else "unknown reason"


def _check_key(model: type[Base], key: Any) -> sa.ColumnElement[Any]:
    """The model's primary key column, once `key` is text every backend can look up
    (no NUL, no lone surrogate): the same 400 everywhere, not a driver's refusal on
    one backend and NotFound on the others."""
    column = _primary_key(model)
    if isinstance(key, str):
        rows.check_text(f"{model.__tablename__}.{column.key}", key)
    return column


def _primary_key(model: type[Base]) -> sa.ColumnElement[Any]:
    (column,) = sa.inspect(model).primary_key
    return column


def _noun(model: type[Base]) -> str:
    """'pipeline version' for PipelineVersionRow (from its table, 'pipeline_versions')."""
    return str(model.__tablename__).removesuffix("s").replace("_", " ")


def chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """`ids` without repeats, in lists short enough for one `IN (...)` each."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
