"""A page watching a live run asks for the run's pipeline spec once: its polls of the
run (every second while it is live) leave the spec out, and the page still shows it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform

from dagyard.compiler import compile_to_dict

pytestmark = pytest.mark.browser


def test_a_live_runs_page_fetches_its_spec_once(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    name = f"watched-{uuid.uuid4().hex[:8]}"
    created = platform.api.post(
        "/runs",
        json={
            "display_name": name,
            "pipeline_spec": compile_to_dict(ui_greeting),
            "runtime_config": {"parameters": {"gate": str(gate)}},
        },
    )
    assert created.status_code == 200, created.text
    run_id = created.json()["run_id"]
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
