"""Paged, filtered, sorted listings: the query a caller gives and the page it gets back.

Plain data shared by every metadata backend; the SQL that evaluates a query is in
`dagyard.store.sql.listing`. Keys are record field names (KFP's filter keys); parsing
KFP's filter JSON into predicates belongs to the service layer, not here.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from dagyard.errors import UsageError

R = TypeVar("R")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000


class Operation(enum.StrEnum):
    """KFP's filter operations (`filter.proto`); the numbers are KFP's codes."""

    EQUALS = "EQUALS"
    NOT_EQUALS = "NOT_EQUALS"
    GREATER_THAN = "GREATER_THAN"
    GREATER_THAN_EQUALS = "GREATER_THAN_EQUALS"
    LESS_THAN = "LESS_THAN"
    LESS_THAN_EQUALS = "LESS_THAN_EQUALS"
    IN = "IN"
    IS_SUBSTRING = "IS_SUBSTRING"


OPERATION_CODES = {
    1: Operation.EQUALS,
    2: Operation.NOT_EQUALS,
    3: Operation.GREATER_THAN,
    5: Operation.GREATER_THAN_EQUALS,
    6: Operation.LESS_THAN,
    7: Operation.LESS_THAN_EQUALS,
    8: Operation.IN,
    9: Operation.IS_SUBSTRING,
}


@dataclasses.dataclass(frozen=True)
class Predicate:
    """`key` `operation` `value`. For IN, `value` is a tuple; times may be datetimes,
    RFC 3339 text or Unix seconds."""

    key: str
    operation: Operation
    value: Any


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Which records, in which order, which page. `sort_by` is "field" or "field desc";
    empty sorts by creation time. `page_token` is the `next_page_token` of the page before."""

    predicates: tuple[Predicate, ...] = ()
    sort_by: str = ""
    page_size: int = 0
    page_token: str = ""

    def size(self) -> int:
        """The page size to use, checked."""
        if self.page_size < 0 or self.page_size > MAX_PAGE_SIZE:
            raise UsageError(
                f"page_size {self.page_size} is out of range; use 1 to {MAX_PAGE_SIZE} "
                f"(0 or none means {DEFAULT_PAGE_SIZE})."
            )
        return self.page_size or DEFAULT_PAGE_SIZE


@dataclasses.dataclass
class Page(Generic[R]):
    """One page of records, how many match in all, and the token of the next page ("" at
    the end)."""

    records: list[R]
    total_size: int
    next_page_token: str = ""


@dataclasses.dataclass(frozen=True)
class Position:
    """Where the next page starts: just after the row with sort value `value` and id
    `key` (keyset paging: every page costs the same however deep), and its offset (the
    count of rows before it, for backends or callers that page by offset)."""

    value: Any
    key: str
    offset: int


def encode_token(position: Position, fingerprint: str) -> str:
    """An opaque token for the page after `position` of the query with `fingerprint`."""
    value = position.value
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    text = json.dumps(
        {"v": value, "k": position.key, "o": position.offset, "q": fingerprint},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> Position:
    """The position a token stands for; UsageError unless this query issued it."""
    wrong = UsageError(
        f"Page token {token[:80]!r} was not issued for this listing; pass the "
        "next_page_token of the previous page with the same filter and sort_by, or none "
        "for the first page."
    )
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise wrong from None
    if not isinstance(data, dict) or data.get("q") != fingerprint:
        raise wrong
    offset, key, value = data.get("o"), data.get("k"), data.get("v")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise wrong
    if not isinstance(key, str):
        raise wrong
    if isinstance(value, dict):
        try:
            value = datetime.fromisoformat(value["t"])
        except (KeyError, TypeError, ValueError):
            raise wrong from None
    elif value is not None and not isinstance(value, str | int | float):
        raise wrong
    return Position(value, key, offset)
