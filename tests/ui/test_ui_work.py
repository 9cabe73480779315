"""Waiting runs and the Work page, in Chromium against a real `dagyard up` whose
namespaces may run one run at a time (DAGYARD_NAMESPACE_MAX_RUNS=1) and whose run worker
drives the runs. Two runs of team-a hold their first task until the test creates a gate
file, so one runs and the other waits PENDING: its page and the runs list say why, and the
Work page counts team-a's running and waiting work; once the gate opens both runs end and
the Work page, still refreshing until then, shows none."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform, start_platform, stop_platform

from dagyard.cli.up import settings_for
from dagyard.compiler import compile_to_dict
from dagyard.service import experiments, runs, tenancy
from dagyard.service.platform import Platform as ServicePlatform

pytestmark = pytest.mark.browser

REASON = "namespace 'team-a' has 1 run(s) running"
REASON_PATTERN = re.compile(re.escape(REASON))


@dataclasses.dataclass
class Limited:
    server: Platform
    gate: Path
    run_ids: list[str]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Limited]:
    home = tmp_path_factory.mktemp("ui-work")
    gate = home / "gate"
    # The same settings as the `dagyard up --home` below, so both use one database.
    platform = ServicePlatform.open(settings_for(home, None))
    try:
        tenancy.create_namespace(platform, "team-a")
        experiment = experiments.create_experiment(
            platform, display_name="team-a experiment", namespace="team-a"
        )
        run_ids = [
            runs.submit_run(
                platform,
                compile_to_dict(ui_greeting),
                parameters={"gate": str(gate)},
                experiment_id=experiment.experiment_id,
                display_name=f"gated run {n}",
            ).run_id
            for n in (1, 2)
        ]
    finally:
        platform.close()
    server = start_platform(home, env={"DAGYARD_NAMESPACE_MAX_RUNS": "1"})
    try:
        yield Limited(server, gate, run_ids)
    finally:
        gate.touch()  # lets the runs end, so the server stops at once
        stop_platform(server)


@pytest.fixture
def page(browser: object, limited: Limited) -> Iterator[Page]:
    assert isinstance(browser, Browser)
    context = browser.new_context(base_url=limited.server.url)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def _waiting_run(limited: Limited) -> str:
    """The run of the two that the server holds back, once it says so."""

    def waiting() -> str | None:
        for run_id in limited.run_ids:
            run = limited.server.api.get(f"/runs/{run_id}").json()
            if run["state"] == "PENDING" and run.get("waiting_reason"):
                return run_id
        return None

    found = limited.server.wait_for(waiting, "one of team-a's runs waits on the limit")
    assert isinstance(found, str)
    return found


def test_a_run_waiting_on_its_namespace_says_why_and_the_work_page_counts_it(
    page: Page, limited: Limited
) -> None:
    waiting = _waiting_run(limited)
    (started,) = set(limited.run_ids) - {waiting}

    page.goto(f"/runs/{waiting}")
    notice = page.get_by_test_id("waiting-reason")
    expect(notice).to_contain_text(REASON)
    expect(notice).to_contain_text("DAGYARD_NAMESPACE_MAX_RUNS")

    page.goto("/runs")
    row = page.get_by_test_id(f"run-row-{waiting}")
    expect(row.locator("[data-state=PENDING]")).to_have_attribute("title", REASON_PATTERN)
    expect(row).to_contain_text("waiting")
    expect(page.get_by_test_id(f"run-row-{started}")).not_to_contain_text("waiting")

    page.get_by_role("navigation").get_by_role("link", name="Work").click()
    expect(page).to_have_url(re.compile(r"/work(\?|$)"))
    team_a = page.get_by_test_id("work-row-team-a")
    expect(team_a.get_by_test_id("runs-running")).to_have_text("1")
    expect(team_a.get_by_test_id("runs-pending")).to_have_text("1 (1 waiting)")
    # The task is recorded running a moment after its run starts: the page's refresh
    # brings it.
    expect(team_a.get_by_test_id("tasks-running")).to_have_text("1")
    expect(page.get_by_test_id("work-status")).to_contain_text("Updated every")

    limited.gate.touch()
    # Both runs end (the second one starts once the first has), seen by the page's own
    # refreshes, after which it stops asking.
    table = page.get_by_test_id("work-table")
    expect(table).to_contain_text("No unfinished work", timeout=90_000)
    expect(team_a).to_have_count(0)
    expect(page.get_by_test_id("work-status")).to_contain_text("not updating")
    for run_id in limited.run_ids:
        assert limited.server.api.get(f"/runs/{run_id}").json()["state"] == "SUCCEEDED"
