"""Cron expressions as KFP reads them (robfig/cron): parsing and the next matching wall time.

Six fields, seconds first (`0 0 9 ? * MON-FRI`), or the usual five (seconds are then 0).
Each field takes `*`, `?` (same as `*`), numbers, names (JAN-DEC, SUN-SAT), ranges `a-b`,
steps `*/n` and `a-b/n` and `a/n`, and lists `a,b`. Day of week is 0-6 from Sunday (7 is
Sunday too). As in robfig and Vixie cron, when both day of month and day of week are
restricted a day matches either; otherwise both must match. The descriptors @yearly,
@annually, @monthly, @weekly, @daily, @midnight and @hourly are accepted.

Only wall-clock arithmetic on naive datetimes lives here; time zones are in `triggers.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from dagyard.errors import UsageError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
# A pattern that matches nothing (e.g. 30 February) is given up after this many years.
_SEARCH_YEARS = 8


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("second", 0, 59, {}),
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    _Field("day of week", 0, 7, {name: i for i, name in enumerate(_DAYS)}),
)


@dataclasses.dataclass(frozen=True)
class CronExpression:
    """A parsed cron expression: the allowed values of each field."""

    text: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        """Raises UsageError naming the bad field and showing a valid example."""
        spec = _DESCRIPTORS.get(text.strip().lower(), text)
        parts = spec.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        if len(parts) != 6:
            raise UsageError(
                f"Cron expression {text!r} has {len(parts)} fields; give six (seconds "
                "first, e.g. '0 0 9 ? * MON-FRI') or five (e.g. '0 9 * * MON-FRI')."
            )
        values = [
            _parse_field(part, field, text) for part, field in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(day % 7 for day in values[5])
        return cls(
            text=text,
            seconds=values[0],
            minutes=values[1],
            hours=values[2],
            days=values[3],
            months=values[4],
            weekdays=weekdays,
            days_restricted=not _unrestricted(parts[3]),
            weekdays_restricted=not _unrestricted(parts[5]),
        )

    def next_after(self, wall: datetime) -> datetime | None:
        """The first matching wall time strictly after `wall` (naive), or None if the
        expression matches nothing in the next years."""
        t = wall.replace(microsecond=0) + timedelta(seconds=1)
        limit = wall.year + _SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = _next_month(t)
            elif not self._day_matches(t):
                t = datetime(t.year, t.month, t.day) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
            elif t.second not in self.seconds:
                t += timedelta(seconds=1)
            else:
                return t
        return None

    def _day_matches(self, t: datetime) -> bool:
        day = t.day in self.days
        weekday = (t.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day or weekday
        return day and weekday


def _unrestricted(part: str) -> bool:
    return part in ("*", "?")


def _next_month(t: datetime) -> datetime:
    return datetime(t.year + 1, 1, 1) if t.month == 12 else datetime(t.year, t.month + 1, 1)


def _parse_field(part: str, field: _Field, text: str) -> frozenset[int]:
    allowed: set[int] = set()
    for item in part.split(","):
        allowed.update(_parse_item(item, field, text))
    return frozenset(allowed)


def _parse_item(item: str, field: _Field, text: str) -> range:
    def bad(why: str) -> UsageError:
        return UsageError(
            f"Cron expression {text!r}: the {field.name} field {item!r} {why}; "
            f"use *, ?, numbers {field.low}-{field.high}, a-b, */n, a-b/n or lists a,b."
        )

    span, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise bad("has a step that is not a positive whole number")
        step = int(step_text)
    if span in ("*", "?"):
        low, high = field.low, field.high
    else:
        first, dash, last = span.partition("-")
        low = _number(first, field, bad)
        high = _number(last, field, bad) if dash else (field.high if step_text else low)
    if low > high:
        raise bad("is a range that ends before it starts")
    return range(low, high + 1, step)


def _number(token: str, field: _Field, bad: Callable[[str], UsageError]) -> int:
    named = field.names.get(token.upper())
    if named is not None:
        return named
    if not token.isdigit():
        raise bad("is not a number or a name")
    value = int(token)
    if not field.low <= value <= field.high:
        raise bad(f"is outside {field.low}-{field.high}")
    return value
