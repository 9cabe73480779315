"""Due times of cron and periodic triggers, computed with explicit instants (no clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dagyard.errors import UsageError
from dagyard.scheduler.triggers import Trigger, due_times


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def due(
    trigger: dict[str, Any],
    after: datetime,
    now: datetime,
    *,
    zone: str = "UTC",
    no_catchup: bool = False,
    free_slots: int = 1000,
) -> list[datetime]:
    return due_times(
        Trigger.parse(trigger, zone),
        after=after,
        now=now,
        anchor=after,
        no_catchup=no_catchup,
        free_slots=free_slots,
    )


def cron(text: str, **bounds: str) -> dict[str, Any]:
    return {"cron_schedule": {"cron": text, **bounds}}


def test_six_field_cron_with_seconds_weekdays_and_question_mark() -> None:
    # KFP's example; robfig counts days from Sunday = 0, so 2-6 is Tuesday to Saturday.
    # 2026-11-20 is a Friday.
    times = due(cron("0 0 9 ? * 2-6"), utc(2026, 11, 20, 0), utc(2026, 11, 24, 23))
    assert times == [utc(2026, 11, 20, 9), utc(2026, 11, 21, 9), utc(2026, 11, 24, 9)]
    named = due(cron("0 0 9 ? * MON-FRI"), utc(2026, 11, 20, 0), utc(2026, 11, 24, 23))
    assert named == [utc(2026, 11, 20, 9), utc(2026, 11, 23, 9), utc(2026, 11, 24, 9)]


def test_seconds_field_steps_and_lists() -> None:
    times = due(cron("*/20 0 12 * * *"), utc(2026, 1, 1, 11), utc(2026, 1, 1, 13))
    assert times == [
        utc(2026, 1, 1, 12, 0, 0),
        utc(2026, 1, 1, 12, 0, 20),
        utc(2026, 1, 1, 12, 0, 40),
    ]
    listed = due(cron("5,10 30 1-3/2 * * *"), utc(2026, 1, 1), utc(2026, 1, 1, 4))
    assert listed == [
        utc(2026, 1, 1, 1, 30, 5),
        utc(2026, 1, 1, 1, 30, 10),
        utc(2026, 1, 1, 3, 30, 5),
        utc(2026, 1, 1, 3, 30, 10),
    ]


def test_five_field_cron_runs_at_second_zero_and_month_names() -> None:
    times = due(cron("15 6 1 JAN,JUL *"), utc(2026, 1, 1), utc(2027, 1, 2))
    assert times == [utc(2026, 1, 1, 6, 15), utc(2026, 7, 1, 6, 15), utc(2027, 1, 1, 6, 15)]


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # The 1st of the month, or any Sunday (robfig/Vixie semantics). 2026-03-01 is a Sunday.
    times = due(cron("0 0 0 1 3 SUN"), utc(2026, 2, 28), utc(2026, 3, 16))
    assert times == [utc(2026, 3, 1), utc(2026, 3, 8), utc(2026, 3, 15)]


def test_descriptors() -> None:
    assert due(cron("@daily"), utc(2026, 1, 1, 1), utc(2026, 1, 3)) == [
        utc(2026, 1, 2),
        utc(2026, 1, 3),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0 9 * *  * *", "7 fields"),
        ("61 * * * * *", "second field '61'"),
        ("0 0 25 * * *", "hour field '25'"),
        ("0 0 9 ? * FUNDAY", "day of week field 'FUNDAY'"),
        ("0 0 9 5-1 * *", "ends before it starts"),
        ("*/0 * * * * *", "step"),
    ],
)
def test_bad_cron_expressions_say_which_field(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Trigger.parse(cron(text))


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({}, "exactly one of"),
        ({"cron_schedule": {"cron": "@daily"}, "periodic_schedule": {"interval_second": 1}}, "one"),
        ({"periodic_schedule": {"interval_second": 0}}, "positive whole number"),
        ({"periodic_schedule": {"interval_second": "soon"}}, "positive whole number"),
        ({"cron_schedule": {"cron": "  "}}, "cron is missing"),
        (cron("@daily", start_time="yesterday"), "RFC 3339"),
        (
            cron("@daily", start_time="2026-02-01T00:00:00Z", end_time="2026-01-01T00:00:00Z"),
            "not after",
        ),
    ],
)
def test_bad_triggers_are_refused_with_the_fix(trigger: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Trigger.parse(trigger)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UsageError, match="Unknown time zone 'Mars/Olympus'"):
        Trigger.parse(cron("@daily"), "Mars/Olympus")


def test_periodic_counts_from_the_start_time_and_stops_at_the_end() -> None:
    trigger = {
        "periodic_schedule": {
            "interval_second": "3600",
            "start_time": "2026-01-01T00:30:00Z",
            "end_time": "2026-01-01T03:30:00Z",
        }
    }
    assert due(trigger, utc(2025, 12, 31), utc(2026, 1, 2)) == [
        utc(2026, 1, 1, 1, 30),
        utc(2026, 1, 1, 2, 30),
        utc(2026, 1, 1, 3, 30),
    ]


def test_periodic_without_start_counts_from_the_anchor() -> None:
    times = due(
        {"periodic_schedule": {"interval_second": 90}}, utc(2026, 1, 1), utc(2026, 1, 1, 0, 5)
    )
    assert times == [utc(2026, 1, 1, 0, 1, 30), utc(2026, 1, 1, 0, 3), utc(2026, 1, 1, 0, 4, 30)]


def test_cron_honours_start_and_end() -> None:
    trigger = cron(
        "0 0 * * * *", start_time="2026-01-01T02:00:00Z", end_time="2026-01-01T04:00:00Z"
    )
    assert due(trigger, utc(2026, 1, 1), utc(2026, 1, 2)) == [
        utc(2026, 1, 1, 3),
        utc(2026, 1, 1, 4),
    ]


def test_cron_fields_are_wall_times_of_the_time_zone() -> None:
    # 09:00 in Berlin is 08:00 UTC in winter.
    times = due(cron("0 0 9 * * *"), utc(2026, 1, 10), utc(2026, 1, 11, 12), zone="Europe/Berlin")
    assert times == [utc(2026, 1, 10, 8), utc(2026, 1, 11, 8)]


def test_a_wall_time_skipped_by_spring_forward_runs_once_an_hour_later() -> None:
    # 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT; 02:30 does not exist.
    ny = "America/New_York"
    times = due(cron("0 30 2 * * *"), utc(2026, 3, 7), utc(2026, 3, 10), zone=ny)
    assert times == [
        utc(2026, 3, 7, 7, 30),  # 02:30 EST
        utc(2026, 3, 8, 7, 30),  # the skipped 02:30, run at 03:30 EDT
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
    ]
    # Every 30 minutes: the skipped 02:30 and the real 03:30 are one instant, run once.
    half_hourly = due(
        cron("0 */30 * * * *"), utc(2026, 3, 8, 6, 45), utc(2026, 3, 8, 8, 5), zone=ny
    )
    assert half_hourly == [utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8)]


def test_a_wall_time_repeated_by_fall_back_runs_once_at_its_first_occurrence() -> None:
    # 2026-11-01: New York goes from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
    times = due(
        cron("0 30 1 * * *"), utc(2026, 10, 31, 12), utc(2026, 11, 2, 12), zone="America/New_York"
    )
    assert times == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_catchup_after_downtime_returns_every_missed_time_up_to_the_free_slots() -> None:
    hourly = cron("0 0 * * * *")
    assert len(due(hourly, utc(2026, 1, 1), utc(2026, 1, 1, 5, 30))) == 5
    assert due(hourly, utc(2026, 1, 1), utc(2026, 1, 1, 5, 30), free_slots=2) == [
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 2),
    ]


def test_no_catchup_after_downtime_returns_only_the_latest() -> None:
    every_second = cron("* * * * * *")
    # A year of downtime of a per-second trigger: only the latest, and computed quickly.
    assert due(every_second, utc(2025, 1, 1), utc(2026, 1, 1, 5, 30), no_catchup=True) == [
        utc(2026, 1, 1, 5, 30)
    ]
    yearly = cron("0 0 0 1 1 *")
    assert due(yearly, utc(2020, 6, 1), utc(2026, 6, 1), no_catchup=True) == [utc(2026, 1, 1)]


def test_nothing_is_due_without_free_slots() -> None:
    assert due(cron("0 0 * * * *"), utc(2026, 1, 1), utc(2026, 1, 2), free_slots=0) == []
    assert (
        due(cron("0 0 * * * *"), utc(2026, 1, 1), utc(2026, 1, 2), no_catchup=True, free_slots=0)
        == []
    )


def test_due_window_is_open_at_the_start_and_closed_at_now() -> None:
    hourly = cron("0 0 * * * *")
    assert due(hourly, utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)) == [utc(2026, 1, 1, 2)]


def test_a_cron_that_never_matches_has_no_due_times() -> None:
    assert due(cron("0 0 0 30 2 *"), utc(2026, 1, 1), utc(2030, 1, 1)) == []
