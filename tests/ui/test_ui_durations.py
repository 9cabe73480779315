"""Durations count running time: a retried task's panel, its run's details, the runs list
and the compare page say how long it ran, and apart from that how long it was queued and
how long it waited between attempts (here a 2 s back-off)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from ui_pipelines import ui_greeting, ui_retried
from ui_platform import Platform, submit_run, wait_state

pytestmark = pytest.mark.browser


def finished(platform: Platform, pipeline: Any, name: str, **parameters: Any) -> str:
    # Uncached: its tasks run, and leave no cache to other tests.
    run_id = submit_run(platform, pipeline, name, cache=False, **parameters)
    wait_state(platform, run_id, "SUCCEEDED")
    return run_id


def seconds(text: str) -> float:
    """A duration as the UI writes it ("2.1 s", "350 ms", "1 min 4 s"), in seconds."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+) (ms|s|min|h)\b", text):
        total += float(number) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[unit]
    return total


def test_a_retried_tasks_waits_are_shown_apart_from_its_running_time(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    prefix = f"timed-{uuid.uuid4().hex[:8]}"
    retried = finished(platform, ui_retried, f"{prefix}-retried", marker=str(tmp_path / "m"))
    other = finished(platform, ui_greeting, f"{prefix}-other", times=1)
    (task,) = platform.api.get(f"/runs/{retried}/tasks").json()["tasks"]

    page.goto(f"/runs/{retried}?task={task['task_id']}&panel=details")
    details = page.get_by_test_id("task-panel").locator("dl")
    waited = details.locator("dt:text-is('Waited between attempts') + dd")
    expect(waited).to_be_visible()
    assert seconds(waited.inner_text()) >= 2.0  # the back-off
    ran = seconds(details.locator("dt:text-is('Ran') + dd").inner_text())
    assert 0 < ran == pytest.approx(task["ran_seconds"], abs=0.1)
    expect(details.locator("dt:text-is('Queued') + dd")).to_have_text(re.compile(r"\d"))

    page.get_by_role("tab", name="Run details").click()
    run_details = page.locator(".dy-details dl").first
    expect(run_details.locator("dt:text-is('Ran') + dd")).to_have_text(re.compile(r"\d"))
    expect(run_details.locator("dt:text-is('Queued') + dd")).to_have_text(re.compile(r"\d"))

    page.goto("/runs")
    page.get_by_role("searchbox", name="Filter by name").fill(prefix)
    cell = page.get_by_test_id(f"run-row-{retried}").get_by_test_id("run-duration")
    expect(cell).to_have_attribute("title", re.compile(r"^ran \d"))

    page.goto(f"/compare?runs={retried},{other}")
    row = page.get_by_test_id("compare-duration")
    expect(row.locator("td")).to_have_count(2)
    expect(row.locator("td").first).to_contain_text("ran ")
