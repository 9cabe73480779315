"""Recurring-run triggers: KFP's `cron_schedule` and `periodic_schedule`, checked, and the
due times they produce. Pure arithmetic: the caller passes every instant ("now"
included), so nothing here reads a clock or touches a store.

Time zones (beyond KFP, which is UTC-only). A cron trigger's fields are wall-clock times
in the recurring run's IANA time zone. Across daylight-saving changes:
- a wall time that does not exist (spring forward, e.g. 02:30 on that night) runs once,
  at the same distance after the change (02:30 becomes 03:30 new time); if that instant
  is also due on its own it still runs only once;
- a wall time that occurs twice (fall back) runs once, at its first occurrence.
A periodic trigger counts elapsed seconds from its anchor (its start time, else the
recurring run's creation), so it is unaffected by the time zone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagyard.errors import UsageError
from dagyard.scheduler.cron import CronExpression

# A catch-up after a long downtime of a dense trigger is cut off here: it cannot create
# more runs than max_concurrency allows in one go anyway.
_LOOKBACK_WINDOWS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


@dataclasses.dataclass(frozen=True)
class Trigger:
    """A checked trigger: exactly one of `cron` or `interval`, optional bounds, a zone."""

    zone: ZoneInfo
    cron: CronExpression | None = None
    interval: timedelta | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    @classmethod
    def parse(cls, trigger: Mapping[str, Any], timezone: str = "UTC") -> Trigger:
        """The trigger of a KFP `trigger` document; UsageError saying what to fix."""
        zone = parse_zone(timezone)
        kinds = [key for key in ("cron_schedule", "periodic_schedule") if trigger.get(key)]
        unknown = sorted(set(trigger) - {"cron_schedule", "periodic_schedule"})
        if unknown or len(kinds) != 1:
            raise UsageError(
                f"A trigger needs exactly one of cron_schedule or periodic_schedule, got "
                f"{sorted(trigger)}; e.g. {{'cron_schedule': {{'cron': '0 0 * * * *'}}}} or "
                "{'periodic_schedule': {'interval_second': 3600}}."
            )
        body = trigger[kinds[0]]
        if not isinstance(body, Mapping):
            raise UsageError(f"{kinds[0]} must be an object, not {body!r}.")
        start = _time(body, "start_time", kinds[0])
        end = _time(body, "end_time", kinds[0])
        if start is not None and end is not None and end <= start:
            raise UsageError(
                f"{kinds[0]}.end_time ({end.isoformat()}) is not after its start_time "
                f"({start.isoformat()}); move end_time later or leave it out."
            )
        if kinds[0] == "cron_schedule":
            text = body.get("cron")
            if not isinstance(text, str) or not text.strip():
                raise UsageError(
                    "cron_schedule.cron is missing; give a cron expression such as "
                    "'0 0 9 ? * MON-FRI' (seconds first) or '0 9 * * MON-FRI'."
                )
            return cls(zone=zone, cron=CronExpression.parse(text), start_time=start, end_time=end)
        seconds = body.get("interval_second")
        if isinstance(seconds, str) and seconds.isdigit():  # int64 arrives as text in JSON
            seconds = int(seconds)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise UsageError(
                f"periodic_schedule.interval_second must be a positive whole number of "
                f"seconds, not {seconds!r}."
            )
        return cls(zone=zone, interval=timedelta(seconds=seconds), start_time=start, end_time=end)

    def times_after(self, after: datetime, *, anchor: datetime) -> Iterator[datetime]:
        """Due times (aware UTC, increasing) strictly after `after`, within start and end.
        `anchor` is where a periodic trigger counts from when it has no start time."""
        if self.start_time is not None and after < self.start_time:
            # The start time itself is never due (as in KFP): the first is after it.
            after = self.start_time
        times = self._cron_times(after) if self.cron else self._periodic_times(after, anchor)
        for due in times:
            if self.end_time is not None and due > self.end_time:
                return
            yield due

    def _periodic_times(self, after: datetime, anchor: datetime) -> Iterator[datetime]:
        assert self.interval is not None
        origin = self.start_time or anchor
        step = self.interval
        count = max(0, (after - origin) // step + 1)
        while True:
            yield (origin + count * step).astimezone(UTC)
            count += 1

    def _cron_times(self, after: datetime) -> Iterator[datetime]:
        assert self.cron is not None
        wall = after.astimezone(self.zone).replace(tzinfo=None)
        latest = after
        while True:
            found = self.cron.next_after(wall)
            if found is None:
                return
            wall = found
            # fold=0: a repeated wall time is its first occurrence; a skipped one keeps
            # the offset from before the change.
            due = found.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
            if due > latest:
                latest = due
                yield due


def due_times(
    trigger: Trigger,
    *,
    after: datetime,
    now: datetime,
    anchor: datetime,
    no_catchup: bool,
    free_slots: int,
) -> list[datetime]:
    """The due times in (after, now] to create runs for, oldest first.

    `free_slots` is max_concurrency minus the recurring run's runs not yet terminal; none
    free means nothing is due yet (the due times wait, they are not lost). With catch-up
    every missed time is due, at most `free_slots` of them now; with `no_catchup` only
    the latest one is.
    """
    if free_slots <= 0 or now <= after:
        return []
    if not no_catchup:
        found: list[datetime] = []
        for due in trigger.times_after(after, anchor=anchor):
            if due > now or len(found) == free_slots:
                break
            found.append(due)
        return found
    # Only the latest: look back over growing windows, so a dense trigger after a long
    # downtime does not walk every missed time.
    for window in (*_LOOKBACK_WINDOWS, now - after):
        latest = None
        for due in trigger.times_after(max(after, now - window), anchor=anchor):
            if due > now:
                break
            latest = due
        if latest is not None:
            return [latest]
    return []


def parse_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; UsageError if there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"Unknown time zone {name!r}; use an IANA name such as 'UTC', "
            "'Europe/Berlin' or 'America/New_York'."
        ) from None


def _time(body: Mapping[str, Any], key: str, kind: str) -> datetime | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"{kind}.{key} {value!r} is not an RFC 3339 time; write e.g. "
                "'2026-01-31T09:00:00Z'."
            ) from None
    if not isinstance(value, datetime):
        raise UsageError(f"{kind}.{key} must be an RFC 3339 time, not {value!r}.")
    # Times without an offset are UTC, as KFP's timestamps are.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
