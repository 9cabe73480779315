"""How often a growing log is shipped to an object store (`staging.ship_every`)."""

from __future__ import annotations

from dagyard.executors.staging import LOG_STEP, ship_every


def test_a_small_log_is_shipped_every_interval_and_a_big_one_less_often() -> None:
    assert ship_every(1.0, 0) == 1.0
    assert ship_every(2.0, LOG_STEP) == 2.0
    # Each upload sends the whole file: bytes per second stay about LOG_STEP / interval.
    assert ship_every(1.0, 10 * LOG_STEP) == 10.0
    assert ship_every(0.5, 100 * LOG_STEP) == 50.0
