"""The run driver's patience with a metadata database that stops answering: tries again
with a growing pause until it answers or the outage outlasts its budget, on an injected
clock (nothing sleeps here), logging the outage once when it begins and once when it
ends."""

from __future__ import annotations

import logging

import pytest

from dagyard.engine.outages import LONGEST_PAUSE_SECONDS, Outages
from dagyard.errors import StoreFailure, StoreUnavailable


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class Flaky:
    """A store call that fails with StoreUnavailable `failures` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, value: str) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreUnavailable(f"The metadata database does not answer (try {self.calls}).")
        return value


def outages(time: FakeTime, budget: float, stop: bool = False) -> Outages:
    return Outages(
        what="run r1",
        budget_seconds=budget,
        clock=time.clock,
        sleep=time.sleep,
        stop=lambda: stop,
    )


def test_an_outage_is_waited_out_with_growing_pauses_and_logged_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = FakeTime()
    call = Flaky(failures=7)
    with caplog.at_level(logging.INFO, logger="dagyard.engine.outages"):
        assert outages(time, budget=120).call(call, "answer") == "answer"
    assert call.calls == 8
    assert time.pauses == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert max(time.pauses) == LONGEST_PAUSE_SECONDS
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("Run r1 waits for the metadata database, for at most 120 s")
    assert "(try 1)" in messages[0] and caplog.records[0].levelno == logging.WARNING
    assert messages[1] == "The metadata database answers again after 15.8 s; run r1 goes on."


def test_an_outage_past_the_budget_ends_in_store_unavailable_naming_the_setting() -> None:
    time = FakeTime()
    call = Flaky(failures=1000)
    with pytest.raises(StoreUnavailable) as raised:
        outages(time, budget=10).call(call, "answer")
    message = str(raised.value)
    assert "did not answer for 10 s" in message
    assert "DAGYARD_STORE_OUTAGE_SECONDS" in message and "(try 7)" in message
    # The last pause is cut to the budget: the give-up comes when it is spent, not later.
    assert sum(time.pauses) == 10 and time.pauses[-1] == 10 - sum(time.pauses[:-1])


def test_each_outage_gets_the_whole_budget_and_starts_with_a_short_pause() -> None:
    time = FakeTime()
    patience = outages(time, budget=5)
    assert patience.call(Flaky(failures=4), "first") == "first"  # 3.75 s of the 5
    assert not patience.ongoing
    time.pauses.clear()
    assert patience.call(Flaky(failures=4), "second") == "second"
    assert time.pauses == [0.25, 0.5, 1.0, 2.0]


def test_a_budget_of_zero_waits_for_nothing() -> None:
    time = FakeTime()
    with pytest.raises(StoreUnavailable, match=r"\(try 1\)"):
        outages(time, budget=0).call(Flaky(failures=1), "answer")
    assert time.pauses == []


def test_a_driver_told_to_stop_waits_no_longer() -> None:
    time = FakeTime()
    with pytest.raises(StoreUnavailable, match="this process lets the run go"):
        outages(time, budget=120, stop=True).call(Flaky(failures=1000), "answer")
    assert time.pauses == []


def test_other_store_errors_are_not_retried() -> None:
    time = FakeTime()
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise StoreFailure("no such table: tasks")

    with pytest.raises(StoreFailure):
        outages(time, budget=120).call(broken)
    assert calls == 1 and time.pauses == []
