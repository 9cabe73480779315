"""Every page of the web UI and what its buttons do, in Chromium against a real
`dagyard up --demo`: experiments, the runs list (filters, sorting, pages, metric columns,
delete), a run's actions and tabs, a loop and a skipped branch in the graph, the artifact
views, the artifacts list and lineage, pipelines and their versions, recurring runs.

Each test checks what the user sees and, where an action changes something, what the
server then holds (through the REST API)."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Dialog, Locator, Page, expect
from ui_pipelines import ui_chain, ui_flaky, ui_greeting, ui_loop, ui_rated, ui_views
from ui_platform import Platform, run_state, submit_run, wait_state

from dagyard.compiler import Compiler, compile_to_dict

pytestmark = pytest.mark.browser

CSV = "id,fruit\n1,apple\n2,banana\n3,cherry\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def finished(platform: Platform, pipeline: Any, run_name: str, **parameters: Any) -> str:
    run_id = submit_run(platform, pipeline, run_name, **parameters)
    wait_state(platform, run_id, "SUCCEEDED")
    return run_id


def run_badge(page: Page) -> Locator:
    """The state badge next to a run page's title."""
    return page.get_by_role("heading", level=1).locator("[data-state]")


def accept_next_dialog(page: Page) -> list[str]:
    """Accept the next confirm dialog; the list gets its message once it is shown."""
    messages: list[str] = []

    def accept(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    return messages


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["display_name"] == name)


@pytest.fixture(scope="module")
def loop_run(platform: Platform) -> str:
    # Afresh: other modules run ui_loop too, and its tasks are to read SUCCEEDED, not CACHED.
    return submit_run(platform, ui_loop, unique("loop"), cache=False)


@pytest.fixture(scope="module")
def views_run(platform: Platform) -> str:
    run_id = submit_run(platform, ui_views, unique("views"))
    wait_state(platform, run_id, "SUCCEEDED")
    return run_id


# Experiments


def test_an_experiment_is_created_lists_its_runs_and_is_archived_and_restored(
    page: Page, platform: Platform
) -> None:
    name = unique("experiment")
    page.goto("/experiments")
    page.get_by_role("button", name="Create experiment").click()
    form = page.get_by_role("form", name="Create experiment")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=description]").fill("made in the browser")
    form.get_by_role("button", name="Create").click()
    experiments = page.get_by_test_id("experiments-table")
    # The list is fetched again after the create; the server also runs the demo's
    # training pipeline meanwhile, which on a busy machine took longer than 5 s once.
    expect(experiments.get_by_role("link", name=name)).to_be_visible(timeout=20_000)
    listed = platform.api.get("/experiments", params={"page_size": 1000}).json()["experiments"]
    experiment = by_name(listed, name)
    assert experiment["description"] == "made in the browser"
    experiment_id = experiment["experiment_id"]

    run_id = submit_run(platform, ui_greeting, unique("in-experiment"), experiment_id, times=1)
    recurring_name = unique("experiment-recurring")
    made = platform.api.post(
        "/recurringruns",
        json={
            "display_name": recurring_name,
            "pipeline_spec": compile_to_dict(ui_greeting),
            "experiment_id": experiment_id,
            "trigger": {"periodic_schedule": {"interval_second": 3600}},
            "mode": "DISABLE",
        },
    )
    assert made.status_code == 200, made.text

    other = submit_run(platform, ui_greeting, unique("elsewhere"), times=1)
    experiments.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_test_id(f"run-row-{run_id}")).to_be_visible()
    expect(page.locator("tbody tr[data-testid^=run-row-]")).to_have_count(1)
    expect(page.get_by_test_id(f"recurring-{recurring_name}")).to_be_visible()
    expect(page.locator("tbody tr[data-testid^=recurring-]")).to_have_count(1)
    page.get_by_role("link", name="Create run").click()  # a run made here goes into it
    expect(page.locator("select[name=experiment]")).to_have_value(experiment_id)

    page.get_by_role("link", name="Runs", exact=True).click()  # the runs page's filter
    expect(page.get_by_test_id(f"run-row-{other}")).to_be_visible()
    page.get_by_role("combobox", name="Experiment").select_option(experiment_id)
    expect(page.get_by_test_id(f"run-row-{run_id}")).to_be_visible()
    expect(page.get_by_test_id(f"run-row-{other}")).to_have_count(0)

    page.get_by_role("link", name="Experiments", exact=True).click()
    row = experiments.locator("tr", has=page.get_by_role("link", name=name))
    confirmed = accept_next_dialog(page)
    row.get_by_role("button", name="Archive").click()
    expect(row).to_have_count(0)
    assert confirmed == [f"Archive {name} and its runs?"]
    state = platform.api.get(f"/experiments/{experiment_id}").json()["storage_state"]
    assert state == "ARCHIVED"

    page.get_by_role("link", name="Archive", exact=True).click()
    archived = page.get_by_test_id("archived-experiments").locator(
        "tr", has=page.get_by_role("link", name=name)
    )
    archived.get_by_role("button", name="Restore").click()
    expect(archived).to_have_count(0)
    state = platform.api.get(f"/experiments/{experiment_id}").json()["storage_state"]
    assert state == "AVAILABLE"
    page.get_by_role("link", name="Experiments", exact=True).click()
    expect(experiments.get_by_role("link", name=name)).to_be_visible()


# The runs list


def filter_runs(page: Page, text: str) -> Locator:
    """Open the runs page filtered by `text`; its rows."""
    page.goto("/runs")
    page.get_by_role("searchbox", name="Filter by name").fill(text)
    return page.get_by_test_id("runs-table").locator("tbody tr[data-testid^=run-row-]")


def test_runs_are_filtered_by_name_and_state_and_sorted_by_name(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    prefix = unique("listed")
    first = finished(platform, ui_greeting, f"{prefix}-a", times=1)
    second = finished(platform, ui_greeting, f"{prefix}-b", times=1)
    failed = submit_run(platform, ui_flaky, f"{prefix}-c", marker=str(tmp_path / "never"))
    wait_state(platform, failed, "FAILED")

    rows = filter_runs(page, prefix)
    expect(rows).to_have_count(3)  # newest first
    expect(rows.nth(0)).to_have_attribute("data-testid", f"run-row-{failed}")

    page.get_by_role("combobox", name="State").select_option("FAILED")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-testid", f"run-row-{failed}")
    expect(rows.first.locator("[data-state]")).to_have_text("failed")
    page.get_by_role("combobox", name="State").select_option("SUCCEEDED")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-testid", f"run-row-{second}")

    page.get_by_role("button", name=re.compile("^Name")).click()  # a to z
    expect(rows.nth(0)).to_have_attribute("data-testid", f"run-row-{first}")
    expect(rows.nth(1)).to_have_attribute("data-testid", f"run-row-{second}")
    page.get_by_role("button", name=re.compile("^Name")).click()  # z to a
    expect(rows.nth(0)).to_have_attribute("data-testid", f"run-row-{second}")
    expect(rows.nth(1)).to_have_attribute("data-testid", f"run-row-{first}")


def test_runs_are_paged_by_a_chosen_size_and_a_page_is_selected_at_once(
    page: Page, platform: Platform
) -> None:
    prefix = unique("paged")
    # The oldest logs a metric the others do not; it is on the second page.
    rated = finished(platform, ui_rated, f"{prefix}-rated")
    # Runs of one set of values: the first executes, the rest reuse its cached results.
    ids = [submit_run(platform, ui_greeting, f"{prefix}-{i:02d}", times=1) for i in range(25)]
    for run_id in ids:
        wait_state(platform, run_id, "SUCCEEDED")

    rows = filter_runs(page, prefix)
    expect(rows).to_have_count(25)
    expect(page.get_by_text("26 in all")).to_be_visible()
    expect(page.get_by_text("page 1 of 2", exact=True)).to_be_visible()
    expect(page.get_by_test_id(f"run-row-{rated}")).to_have_count(0)
    # The metric columns offered are those of every run listed, not only this page's.
    page.get_by_text("Metric columns").click()
    expect(page.get_by_role("checkbox", name="rate/stars")).to_be_visible()
    expect(page.get_by_role("checkbox", name="score/score")).to_be_visible()

    everything = page.get_by_role("checkbox", name="select all runs of this page")
    everything.check()
    checked = page.get_by_test_id("runs-table").locator("tbody input[type=checkbox]:checked")
    expect(checked).to_have_count(25)
    expect(page.get_by_role("button", name="Compare")).to_be_enabled()
    page.get_by_test_id(f"run-row-{ids[-1]}").get_by_role("checkbox").uncheck()
    assert everything.evaluate("box => box.indeterminate")  # some, not all
    everything.check()
    expect(checked).to_have_count(25)
    everything.uncheck()
    expect(checked).to_have_count(0)

    page.get_by_role("button", name="Next \u203a").click()
    expect(page.get_by_text("page 2 of 2", exact=True)).to_be_visible()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id(f"run-row-{rated}")).to_be_visible()
    page.get_by_role("button", name="\u2039 Previous").click()
    expect(rows).to_have_count(25)

    page.get_by_role("combobox", name="Rows per page").select_option("50")
    expect(rows).to_have_count(26)
    expect(page.get_by_text("page 1 of 1", exact=True)).to_be_visible()
    page.reload()  # the size is kept
    expect(page.get_by_role("combobox", name="Rows per page")).to_have_value("50")
    expect(rows).to_have_count(26)


def test_a_metric_column_shows_each_runs_value(page: Page, platform: Platform) -> None:
    prefix = unique("metric")
    low = finished(platform, ui_greeting, f"{prefix}-low", name="m", times=2)
    high = finished(platform, ui_greeting, f"{prefix}-high", name="m", times=6)
    middle = finished(platform, ui_greeting, f"{prefix}-middle", name="m", times=4)

    rows = filter_runs(page, prefix)
    page.get_by_text("Metric columns").click()
    page.get_by_role("checkbox", name="score/score").check()
    table = page.get_by_test_id("runs-table")
    expect(table.get_by_role("columnheader", name="score/score")).to_be_visible()
    expect(page.get_by_test_id(f"run-row-{low}").locator("td.dy-metric")).to_have_text("3")
    expect(page.get_by_test_id(f"run-row-{high}").locator("td.dy-metric")).to_have_text("9")

    def order() -> list[str]:
        return [f"run-row-{run_id}" for run_id in (high, middle, low)]

    # Sorted by the server: highest first, then lowest first.
    table.locator("th.dy-metric button").click()
    for row, wanted in zip(range(3), order(), strict=True):
        expect(rows.nth(row)).to_have_attribute("data-testid", wanted)
    table.locator("th.dy-metric button").click()
    for row, wanted in zip(range(3), reversed(order()), strict=True):
        expect(rows.nth(row)).to_have_attribute("data-testid", wanted)

    # By duration, as the server orders them.
    predicate = {"key": "display_name", "operation": "IS_SUBSTRING", "string_value": prefix}
    query = {"filter": json.dumps({"predicates": [predicate]})}
    for direction in ("desc", "asc"):
        table.get_by_role("button", name=re.compile("^Duration")).click()
        listed = platform.api.get("/runs", params={**query, "sort_by": f"duration {direction}"})
        for row, run in enumerate(listed.json()["runs"]):
            expect(rows.nth(row)).to_have_attribute("data-testid", f"run-row-{run['run_id']}")


def test_selected_runs_are_deleted(page: Page, platform: Platform) -> None:
    prefix = unique("deleted")
    doomed = [finished(platform, ui_greeting, f"{prefix}-{i}", times=1) for i in range(2)]

    rows = filter_runs(page, prefix)
    expect(rows).to_have_count(2)
    for run_id in doomed:
        page.get_by_test_id(f"run-row-{run_id}").get_by_role("checkbox").check()
    confirmed = accept_next_dialog(page)
    page.get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(0)
    assert confirmed == ["Delete 2 run(s) with their artifacts and logs?"]
    for run_id in doomed:
        assert platform.api.get(f"/runs/{run_id}").status_code == 404


# A run's page


def test_a_running_run_cannot_be_deleted_and_is_terminated(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    name = unique("terminated")
    run_id = submit_run(platform, ui_greeting, name, gate=str(tmp_path / "never"))
    wait_state(platform, run_id, "RUNNING")

    filter_runs(page, name)
    page.get_by_test_id(f"run-row-{run_id}").get_by_role("checkbox").check()
    delete = page.get_by_role("button", name="Delete")
    expect(delete).to_be_disabled()
    expect(delete).to_have_attribute("title", re.compile("Terminate unfinished runs"))

    page.get_by_role("link", name=name).click()
    expect(run_badge(page)).to_have_text("running")
    page.get_by_role("button", name="Terminate").click()
    expect(run_badge(page)).to_have_text("canceled")
    assert run_state(platform, run_id) == "CANCELED"
    expect(page.get_by_role("button", name="Terminate")).to_have_count(0)
    expect(page.get_by_test_id("node-greet")).to_have_attribute("data-state", "CANCELED")


def test_a_failed_run_is_retried_and_shows_its_details_and_spec(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    name = unique("retried")
    run_id = submit_run(platform, ui_flaky, name, marker=str(marker))
    wait_state(platform, run_id, "FAILED")

    page.goto("/runs")
    expect(page).to_have_title("Runs · Dagyard")
    page.goto(f"/runs/{run_id}")
    expect(run_badge(page)).to_have_text("failed")
    expect(page).to_have_title(f"{name} (failed) · Dagyard")  # its tab tells it apart
    expect(page.get_by_test_id("node-flaky")).to_have_attribute("data-state", "FAILED")
    page.get_by_test_id("node-flaky").click()  # a failed task's panel opens on its log
    expect(page.get_by_test_id("task-log")).to_contain_text("no marker file")
    panel = page.get_by_test_id("task-panel")
    panel.get_by_role("tab", name="Details").click()
    expect(panel.locator(".dy-error-text")).to_contain_text("no marker file")
    marker.touch()
    page.get_by_role("button", name="Retry").click()
    expect(run_badge(page)).to_have_text("succeeded", timeout=60_000)
    expect(page).to_have_title(f"{name} (succeeded) · Dagyard")
    assert run_state(platform, run_id) == "SUCCEEDED"
    expect(page.get_by_test_id("node-flaky")).to_have_attribute("data-state", "SUCCEEDED")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    page.get_by_test_id("node-flaky").click()
    panel.get_by_role("tab", name="Logs").click()
    attempt = panel.get_by_role("combobox")
    expect(attempt).to_have_value("2")
    expect(page.get_by_test_id("task-log")).not_to_contain_text("no marker file")
    attempt.select_option("1")  # the failed attempt's log is kept
    expect(page.get_by_test_id("task-log")).to_contain_text("no marker file")

    page.get_by_role("tab", name="Run details").click()
    details = page.locator(".dy-details")
    parameters = details.locator("h3:has-text('Parameters') + dl")
    expect(parameters).to_contain_text("marker")
    expect(parameters).to_contain_text(str(marker))
    outputs = details.locator("h3:has-text('Outputs') + dl")
    expect(outputs).to_contain_text("recovered")
    history = details.locator("h3:has-text('State history') + table")
    for state in ("pending", "running", "failed", "succeeded"):
        expect(history.locator("[data-state]", has_text=state).first).to_be_visible()

    page.get_by_role("tab", name="Pipeline spec").click()
    spec = page.locator("pre.dy-code")
    expect(spec).to_contain_text("name: ui-flaky")
    expect(spec).to_contain_text("comp-flaky")


def test_a_run_is_cloned_with_its_values(page: Page, platform: Platform) -> None:
    run_id = finished(platform, ui_greeting, unique("original"), name="clone-me", times=4)

    page.goto(f"/runs/{run_id}")
    page.get_by_role("button", name="Clone").click()
    expect(page).to_have_url(re.compile(rf"/runs/new\?clone={run_id}$"))
    expect(page.locator("input[name=param-name]")).to_have_value("clone-me")
    expect(page.locator("input[name=param-times]")).to_have_value("4")
    expect(page.locator("input[name=name]")).to_have_value(re.compile("^Clone of original-"))
    page.locator("input[name=param-times]").fill("5")  # editable
    page.locator("input[name=caching]").uncheck()
    page.get_by_role("button", name="Start run").click()

    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    clone_id = page.url.rsplit("/", 1)[-1]
    assert clone_id != run_id
    clone = platform.api.get(f"/runs/{clone_id}").json()
    assert clone["display_name"].startswith("Clone of original-")
    assert clone["runtime_config"]["parameters"]["name"] == "clone-me"
    assert clone["runtime_config"]["parameters"]["times"] == 5
    assert clone["cache_enabled"] is False
    expect(run_badge(page)).to_have_text("succeeded", timeout=60_000)

    page.get_by_role("button", name="Archive").click()  # the run page's own Archive
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    assert platform.api.get(f"/runs/{clone_id}").json()["storage_state"] == "ARCHIVED"
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("button", name="Archive")).to_be_visible()
    assert platform.api.get(f"/runs/{clone_id}").json()["storage_state"] == "AVAILABLE"


def test_a_cached_task_shows_the_cache_hit_and_the_reused_log(
    page: Page, platform: Platform
) -> None:
    name = unique("cached")
    finished(platform, ui_greeting, unique("first"), name=name, times=1)
    again = finished(platform, ui_greeting, unique("again"), name=name, times=1)

    page.goto(f"/runs/{again}")
    greet = page.get_by_test_id("node-greet")
    expect(greet).to_have_attribute("data-state", "CACHED")
    greet.click()
    panel = page.get_by_test_id("task-panel")
    panel.get_by_role("tab", name="Details").click()
    expect(panel.locator("dt:text-is('Cache') + dd")).to_have_text("hit")
    panel.get_by_role("tab", name="Logs").click()
    expect(page.get_by_test_id("task-log")).to_contain_text(f"hello {name} #1")


def test_a_log_is_searched_and_downloaded_whole(page: Page, platform: Platform) -> None:
    name = unique("logged")
    run_id = finished(platform, ui_greeting, unique("log"), name=name, times=4)
    whole = ""
    while True:  # the log as the server has it, in its pieces
        piece = platform.api.get(
            f"/runs/{run_id}/nodes/greet/logs", params={"offset": len(whole.encode())}
        ).json()
        whole += piece["text"]
        if piece["next_offset"] >= piece["size"]:
            break

    page.goto(f"/runs/{run_id}")
    page.get_by_test_id("node-greet").click()
    panel = page.get_by_test_id("task-panel")
    panel.get_by_role("tab", name="Logs").click()
    log = page.get_by_test_id("task-log")
    expect(log).to_contain_text(f"hello {name} #4")
    search = panel.get_by_role("searchbox", name="Search the log")
    search.fill(f"HELLO {name}")  # case does not matter
    matches = panel.get_by_test_id("log-matches")
    expect(matches).to_have_text("1 of 4")
    expect(log.locator("mark")).to_have_count(4)
    expect(log.locator("mark.dy-current")).to_have_count(1)
    panel.get_by_role("button", name="Next match").click()
    expect(matches).to_have_text("2 of 4")
    expect(log.locator("mark").nth(1)).to_have_class("dy-current")
    search.press("Enter")
    expect(matches).to_have_text("3 of 4")
    panel.get_by_role("button", name="Previous match").click()
    panel.get_by_role("button", name="Previous match").click()
    panel.get_by_role("button", name="Previous match").click()
    expect(matches).to_have_text("4 of 4")  # round from the first to the last
    search.fill("nowhere in the log")
    expect(matches).to_have_text("no match")
    expect(log.locator("mark")).to_have_count(0)

    with page.expect_download() as download:
        panel.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "greet-attempt-1.log"
    assert Path(download.value.path()).read_text() == whole


# Loops and conditions in the graph


def test_a_loop_is_one_node_with_its_counts_and_a_skipped_branch_shows(
    page: Page, platform: Platform, loop_run: str
) -> None:
    wait_state(platform, loop_run, "SUCCEEDED")
    page.goto(f"/runs/{loop_run}")
    loop = page.get_by_test_id("node-for-loop-2")
    expect(loop).to_have_attribute("data-state", "SUCCEEDED")
    expect(loop).to_contain_text("30 iterations")
    expect(loop).to_contain_text("30 succeeded")
    expect(page.get_by_test_id("node-condition-3")).to_have_attribute("data-state", "SKIPPED")
    expect(page.locator("[data-testid^='node-for-loop-2/']")).to_have_count(0)  # collapsed

    page.get_by_test_id("toggle-for-loop-2").click()
    iterations = page.get_by_test_id("node-for-loop-2/#iterations")
    expect(iterations).to_contain_text("of 30")
    expect(iterations.locator("[data-testid^='node-for-loop-2/'][role=button]")).to_have_count(30)
    page.get_by_test_id("toggle-for-loop-2/7").click()
    expect(page.get_by_test_id("node-for-loop-2/7/square")).to_have_attribute(
        "data-state", "SUCCEEDED"
    )


# Artifact views


def open_outputs(page: Page, run_id: str, task: str) -> None:
    page.goto(f"/runs/{run_id}")
    page.get_by_test_id(f"node-{task}").click()
    page.get_by_role("tab", name="Inputs / outputs").click()


def test_markdown_html_and_a_dataset_are_shown_safely_and_downloaded(
    page: Page, views_run: str
) -> None:
    # What the HTML report's script must not reach: the app's cookie and storage.
    page.goto("/")
    page.evaluate("document.cookie = 'secret=cookie-value; path=/'")
    page.evaluate("localStorage.setItem('secret', 'storage-value')")
    open_outputs(page, views_run, "write-views")
    title = page.title()

    report = page.get_by_test_id("artifact-report")
    expect(report.get_by_role("heading", name="Quarterly report")).to_be_visible()
    expect(report.locator("em")).to_have_text("good")
    expect(report.locator(".dy-viewer-markdown script")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    # GitHub's additions: a table, strikethrough, a task list and an autolink.
    expect(report.locator("table tbody tr")).to_have_count(2)
    expect(report.locator("table tbody tr").nth(1)).to_have_text("large0.95")
    expect(report.locator("del")).to_have_text("draft")
    expect(report.locator("li input[type=checkbox]")).to_have_count(2)
    expect(report.locator("li input[type=checkbox]").first).to_be_checked()
    expect(report.get_by_role("link", name="https://example.com/q3")).to_be_visible()

    frame = page.get_by_test_id("artifact-page").locator("iframe")
    expect(frame).to_have_attribute("sandbox", "allow-scripts")
    inside = page.get_by_test_id("artifact-page").frame_locator("iframe")
    expect(inside.get_by_text("framed page")).to_be_visible()
    expect(inside.locator("#drawn")).to_have_text("drawn by script")  # its script ran
    reach = inside.locator("#reach")
    for line in ("cookie: blocked", "storage: blocked", "parent: blocked", "api: blocked"):
        expect(reach).to_contain_text(line)
    assert "value" not in reach.inner_text()
    assert page.title() == title  # the frame's script could not reach the app

    table = page.get_by_test_id("artifact-table")
    expect(table.locator("thead th")).to_have_text(["id", "fruit"])
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text("apple")
    with page.expect_download() as download:
        table.get_by_role("button", name="Download").click()
    assert Path(download.value.path()).read_text() == CSV
    assert page.title() == title


# Artifacts and lineage


def test_the_artifacts_list_filters_by_type_and_an_artifact_shows_its_lineage(
    page: Page, platform: Platform, views_run: str
) -> None:
    artifacts = platform.api.get(f"/runs/{views_run}/artifacts").json()["artifacts"]
    dataset = next(a for a in artifacts if a["name"] == "table")
    html = next(a for a in artifacts if a["name"] == "page")

    def row(artifact: dict[str, Any]) -> Locator:
        link = page.locator(f"a[href='/artifacts/{artifact['artifact_id']}']")
        return page.get_by_test_id("artifacts-table").locator("tr", has=link)

    page.goto("/artifacts")
    expect(row(dataset)).to_contain_text("system.Dataset")
    expect(row(dataset)).to_contain_text("write-views")  # its producer
    expect(row(dataset)).to_contain_text(dataset["uri"])
    page.get_by_role("combobox", name="Type").select_option("system.HTML")
    expect(row(html)).to_be_visible()
    expect(row(dataset)).to_have_count(0)
    types = page.get_by_test_id("artifacts-table").locator("tbody tr td:nth-child(2)")
    expect(types.first).to_have_text("system.HTML")
    assert set(types.all_inner_texts()) == {"system.HTML"}
    page.get_by_role("combobox", name="Type").select_option("system.Dataset")
    expect(row(html)).to_have_count(0)

    row(dataset).get_by_role("link", name="table").click()
    expect(page).to_have_url(re.compile(rf"/artifacts/{dataset['artifact_id']}$"))
    lineage = page.get_by_test_id("lineage")
    expect(lineage.get_by_role("link", name="write-views")).to_be_visible()
    expect(lineage.get_by_role("link", name="count-rows")).to_be_visible()
    expect(page.locator(".dy-viewer-dataset-table tbody tr")).to_have_count(3)


def test_lineage_runs_several_steps_each_way_left_to_right_and_links_tasks(
    page: Page, platform: Platform
) -> None:
    run_id = finished(platform, ui_chain, unique("chain"))
    artifacts = platform.api.get(f"/runs/{run_id}/artifacts").json()["artifacts"]
    focus = next(a for a in artifacts if a["producer"]["path"] == "refine")
    tasks = {
        t["path"]: t["task_id"] for t in platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    }

    page.goto(f"/artifacts/{focus['artifact_id']}")
    lineage = page.get_by_test_id("lineage")
    # source -> raw -> refine -> [refined] -> refine-2 -> refined -> count-rows
    chain = [
        lineage.locator(".react-flow__node", has=page.get_by_title(title, exact=True))
        for title in ("task source", "artifact raw", "task refine")
    ]
    chain.append(lineage.locator(".react-flow__node.dy-lineage-focus"))
    chain += [
        lineage.locator(".react-flow__node", has=page.get_by_title(title, exact=True))
        for title in ("task refine-2", "artifact refined", "task count-rows")
    ]
    for node in chain:
        expect(node).to_be_visible()
    lefts = [box["x"] for box in (node.bounding_box() for node in chain) if box]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(chain), lefts
    expect(lineage.locator(".react-flow__edge path[marker-end]")).to_have_count(6)  # arrows

    # Opened from the keyboard: the drawing fits itself to its box and the artifact's view
    # above it grows as its content loads, so a link's place on the screen may move
    # between where a mouse aims and where it clicks.
    expect(page.get_by_text("Loading…")).to_have_count(0)
    lineage.get_by_role("link", name="count-rows").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}\?task={tasks['count-rows']}$"))
    expect(page.get_by_test_id("task-panel")).to_contain_text("count-rows")


# Pipelines


def upload(platform: Platform, package: Path, name: str) -> str:
    with package.open("rb") as f:
        response = platform.api.post(
            "/pipelines/upload", params={"name": name}, files={"uploadfile": (package.name, f)}
        )
    assert response.status_code == 200, response.text
    pipeline_id: str = response.json()["pipeline_id"]
    return pipeline_id


def test_pipelines_are_searched_and_get_a_new_version_to_run(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    package = tmp_path / "ui-greeting.yaml"
    Compiler().compile(ui_greeting, str(package))
    tag = uuid.uuid4().hex[:8]
    wanted = upload(platform, package, f"alpha-{tag}")
    upload(platform, package, f"beta-{tag}")

    page.goto("/pipelines")
    table = page.get_by_test_id("pipelines-table")
    page.get_by_role("searchbox", name="Search pipelines").fill(tag)
    expect(table.get_by_role("link", name=re.compile(tag))).to_have_count(2)
    page.get_by_role("searchbox", name="Search pipelines").fill(f"alpha-{tag}")
    expect(table.get_by_role("link", name=re.compile(tag))).to_have_count(1)
    table.get_by_role("link", name=f"alpha-{tag}").click()
    expect(page).to_have_url(re.compile(rf"/pipelines/{wanted}$"))
    expect(page.locator("dl.dy-kv")).to_contain_text("NUMBER_INTEGER = 2")  # its parameters

    newer = tmp_path / "ui-flaky.yaml"
    Compiler().compile(ui_flaky, str(newer))
    page.get_by_role("button", name="Upload version").click()
    form = page.get_by_role("form", name="Upload pipeline")
    form.locator("input[type=file]").set_input_files(str(newer))
    form.locator("input[name=name]").fill(f"second-{tag}")
    form.get_by_role("button", name="Upload", exact=True).click()
    expect(form).to_have_count(0)
    selector = page.get_by_role("combobox", name="Version")
    expect(selector.locator("option")).to_have_count(2)
    expect(selector.locator("option", has_text=f"second-{tag}")).to_have_count(1)
    versions = platform.api.get(f"/pipelines/{wanted}/versions").json()["pipeline_versions"]
    assert len(versions) == 2
    second = by_name(versions, f"second-{tag}")["pipeline_version_id"]

    selector.select_option(second)
    expect(page.get_by_test_id("node-flaky")).to_be_visible()  # that version's graph
    page.get_by_role("button", name="Pipeline spec").click()
    spec = page.locator("pre.dy-code")
    expect(spec).to_contain_text("name: ui-flaky")
    expect(spec).to_contain_text("pipelineInfo")

    page.get_by_role("link", name="Create run").click()
    expect(page).to_have_url(re.compile(rf"/runs/new\?pipeline={wanted}&version={second}$"))
    expect(page.locator("select[name=pipeline]")).to_have_value(wanted)
    expect(page.locator("select[name=version]")).to_have_value(second)
    expect(page.locator("input[name=param-marker]")).to_be_visible()  # that version's input


def test_an_uploaded_pipeline_is_named_and_described_by_its_file(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    spec = compile_to_dict(ui_greeting)
    spec["pipelineInfo"]["name"] = unique("from-file")
    spec["pipelineInfo"]["description"] = (
        "Greets ~~everyone~~ one name.\n\n| step | does |\n|---|---|\n| greet | prints |\n"
    )
    package = tmp_path / "some-file-name.yaml"
    package.write_text(yaml.safe_dump(spec))

    page.goto("/pipelines")
    page.get_by_role("button", name="Upload pipeline").click()
    form = page.get_by_role("form", name="Upload pipeline")
    form.locator("input[type=file]").set_input_files(str(package))
    expect(form.locator("input[name=name]")).to_have_value(spec["pipelineInfo"]["name"])
    description = form.locator("textarea[name=description]")
    expect(description).to_have_value(spec["pipelineInfo"]["description"])
    renamed = unique("renamed")
    form.locator("input[name=name]").fill(renamed)  # the user has the last word
    form.get_by_role("button", name="Upload", exact=True).click()

    expect(page.get_by_role("heading", name=renamed)).to_be_visible()
    pipeline_id = page.url.rsplit("/", 1)[-1]
    stored = platform.api.get(f"/pipelines/{pipeline_id}").json()
    assert stored["display_name"] == renamed
    assert stored["description"] == spec["pipelineInfo"]["description"]
    shown = page.locator(".dy-description")  # as Markdown
    expect(shown.locator("del")).to_have_text("everyone")
    expect(shown.locator("table tbody tr")).to_have_text("greetprints")

    # A package is opened for its one pipeline file, as the server opens it.
    packed = tmp_path / "package.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("README.md", "not the pipeline")
        archive.writestr("pipeline.yaml", yaml.safe_dump(spec))
    page.goto("/pipelines")
    page.get_by_role("button", name="Upload pipeline").click()
    form.locator("input[type=file]").set_input_files(str(packed))
    expect(form.locator("input[name=name]")).to_have_value(spec["pipelineInfo"]["name"])
    expect(description).to_have_value(spec["pipelineInfo"]["description"])


# Recurring runs


def make_recurring(platform: Platform, name: str, **fields: Any) -> str:
    body = {
        "display_name": name,
        "pipeline_spec": compile_to_dict(ui_greeting),
        "runtime_config": {"parameters": {"times": 1}},
        **fields,
    }
    made = platform.api.post("/recurringruns", json=body)
    assert made.status_code == 200, made.text
    recurring_id: str = made.json()["recurring_run_id"]
    return recurring_id


def produced_runs(platform: Platform, recurring_id: str) -> Callable[[], list[dict[str, Any]]]:
    predicate = {"key": "recurring_run_id", "operation": "EQUALS", "string_value": recurring_id}
    query = {"filter": json.dumps({"predicates": [predicate]})}
    return lambda: platform.api.get("/runs", params=query).json().get("runs", [])


def test_a_recurring_run_is_enabled_in_one_click_and_deleted(
    page: Page, platform: Platform
) -> None:
    name = unique("weekly")
    recurring_id = make_recurring(
        platform,
        name,
        trigger={"periodic_schedule": {"interval_second": 7 * 24 * 3600}},
        mode="DISABLE",
    )

    page.goto("/recurring")
    row = page.get_by_test_id(f"recurring-{name}")
    expect(row.get_by_test_id("recurring-status")).to_have_text("disabled")
    expect(row).to_contain_text("every 604800 s")
    next_fire = row.locator("td").nth(2)
    expect(next_fire).to_be_empty()
    row.get_by_role("button", name="Enable").click()
    expect(row.get_by_test_id("recurring-status")).to_have_text("enabled")
    expect(next_fire).not_to_be_empty()
    assert platform.api.get(f"/recurringruns/{recurring_id}").json()["status"] == "ENABLED"
    expect(row.get_by_role("button", name="Disable")).to_be_visible()

    confirmed = accept_next_dialog(page)
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert confirmed == [f"Delete {name}? Its runs are kept."]
    assert platform.api.get(f"/recurringruns/{recurring_id}").status_code == 404


def test_a_recurring_run_lists_the_runs_it_made(page: Page, platform: Platform) -> None:
    name = unique("catch-up")
    now = datetime.now(UTC)
    # Due once, 40 s ago: with catch-up the scheduler creates that run at its next tick.
    window = {
        "interval_second": 60,
        "start_time": (now - timedelta(seconds=100)).isoformat(),
        "end_time": (now - timedelta(seconds=30)).isoformat(),
    }
    recurring_id = make_recurring(
        platform, name, trigger={"periodic_schedule": window}, no_catchup=False
    )
    runs = platform.wait_for(produced_runs(platform, recurring_id), f"{name} makes a run", 30)
    assert isinstance(runs, list) and len(runs) == 1
    made = runs[0]

    page.goto("/recurring")
    row = page.get_by_test_id(f"recurring-{name}")
    row.get_by_role("button", name=name).click()
    produced = page.locator(".dy-produced li")
    expect(produced).to_have_count(1)
    expect(produced.get_by_role("link", name=made["display_name"])).to_be_visible()
    produced.get_by_role("link", name=made["display_name"]).click()
    expect(page).to_have_url(re.compile(rf"/runs/{made['run_id']}$"))
    expect(run_badge(page)).to_have_text("succeeded", timeout=60_000)
