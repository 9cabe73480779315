"""Waiting on a condition in tests, with a deadline: never a sleep that hopes the thing
being waited for is done by then. Test modules of every folder import it (`tests/` is on
the import path, as the folder of the root conftest)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T | None], what: str, seconds: float = 60) -> T:
    """The first true value `check()` returns, asked every 20 ms; fails naming `what`
    once `seconds` have passed without one."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting until {what}")
        time.sleep(0.02)
    return found
