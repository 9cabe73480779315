"""A page watching a live run asks for the run's pipeline spec once: its polls of the
run (every second while it is live) leave the spec out, and the page still shows it. It
reads the run's tasks whole once, then only those written since (`after_revision`)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform, submit_run

pytestmark = pytest.mark.browser


def _gated_run(platform: Platform, gate: Path) -> tuple[str, str]:
    """A ui_greeting run whose `greet` task runs until `gate` exists: (run id, name)."""
    name = f"watched-{uuid.uuid4().hex[:8]}"
    return submit_run(platform, ui_greeting, name, gate=str(gate)), name


def test_a_live_runs_page_fetches_its_spec_once(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    run_id, name = _gated_run(platform, gate)
    answers: list[tuple[str, dict[str, object]]] = []

    def keep(response: Response) -> None:
        if f"/apis/v2beta1/runs/{run_id}?" in response.url:
            answers.append((response.url, json.loads(response.body())))

    page.on("response", keep)
    try:
        page.goto(f"/runs/{run_id}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        # Polls come every second while the run is live: wait for three of them.
        with page.expect_response(lambda r: "view=SUMMARY" in r.url and run_id in r.url):
            pass
        with page.expect_response(lambda r: "view=SUMMARY" in r.url and run_id in r.url):
            pass
        first_url, first = answers[0]
        assert "view=SUMMARY" not in first_url and "pipeline_spec" in first
        summaries = [body for url, body in answers[1:] if "view=SUMMARY" in url]
        assert len(summaries) >= 2
        assert all("pipeline_spec" not in body for body in summaries)
        assert len(summaries) == len(answers) - 1  # no later poll asked for the spec again
        page.get_by_role("tab", name="Pipeline spec").click()
        expect(page.locator("pre.dy-code")).to_contain_text("name: ui-greeting")
    finally:
        gate.touch()
        page.remove_listener("response", keep)


def test_a_live_runs_page_reads_only_the_tasks_that_changed(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    run_id, _ = _gated_run(platform, gate)
    answers: list[tuple[str, dict[str, Any]]] = []

    def keep(response: Response) -> None:
        if f"/apis/v2beta1/runs/{run_id}/tasks" in response.url:
            answers.append((response.url, json.loads(response.body())))

    def polled_after(revision: int) -> bool:
        return any(f"after_revision={revision}" in url for url, _ in answers)

    # The page opens on a run whose first task runs: its first read brings tasks.
    platform.wait_for(
        lambda: any(
            t["path"] == "greet" and t["state"] == "RUNNING"
            for t in platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
        ),
        "greet runs",
    )
    page.on("response", keep)
    try:
        page.goto(f"/runs/{run_id}")
        greet = page.locator('[data-testid="node-greet"]')
        expect(greet).to_have_attribute("data-state", "RUNNING")
        # While `greet` waits on its gate nothing changes: a read after the revision the
        # page holds brings no task at all.
        held = platform.api.get(f"/runs/{run_id}/tasks").json()["revision"]
        with page.expect_response(
            lambda r: f"runs/{run_id}/tasks?" in r.url and f"after_revision={held}" in r.url,
            timeout=15_000,
        ):
            pass
        assert polled_after(held)
        first_url, first = answers[0]
        assert "after_revision" not in first_url and first["tasks"]
        idle = [body for url, body in answers if f"after_revision={held}" in url]
        assert idle and all(body["tasks"] == [] for body in idle)
        assert all("after_revision" in url for url, _ in answers[1:])

        gate.touch()
        # What changes next arrives in later answers, and the graph shows it.
        expect(greet).to_have_attribute("data-state", "SUCCEEDED", timeout=30_000)
        expect(page.locator('[data-testid="node-score"]')).to_have_attribute(
            "data-state", re.compile("SUCCEEDED|CACHED"), timeout=30_000
        )
        # Once the run has ended, the page reads once more: up to the run's last revision.
        expect(page.get_by_role("heading", level=1)).to_contain_text("succeeded", timeout=30_000)
        final = platform.api.get(f"/runs/{run_id}/tasks").json()
        if not any(body["revision"] == final["revision"] for _, body in answers):
            page.wait_for_event(
                "response",
                lambda r: (
                    f"runs/{run_id}/tasks" in r.url and r.json()["revision"] == final["revision"]
                ),
            )
        # Put together in order, the answers are the run's final tasks: nothing missed.
        # (A task may come twice: a write need not change what the API shows, and a
        # poll cancelled by the final refresh may still have been answered.)
        known = {t["task_id"]: t for t in first["tasks"]}
        for _, body in answers[1:]:
            known.update((task["task_id"], task) for task in body["tasks"])
        assert {t["path"]: t["state"] for t in known.values()} == {
            t["path"]: t["state"] for t in final["tasks"]
        }
    finally:
        gate.touch()
        page.remove_listener("response", keep)
