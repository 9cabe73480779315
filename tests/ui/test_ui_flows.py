"""What a user does in the web UI, in Chromium against a real `dagyard up --demo`:
upload a pipeline, start a run with parameters and watch its graph change without a
reload, read a task's log, see the sample's confusion matrix and ROC curve, compare two
runs, create and disable a recurring run, archive and restore a run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform

from dagyard.compiler import Compiler, compile_to_dict

pytestmark = pytest.mark.browser


def run_state(platform: Platform, run_id: str) -> str:
    state: str = platform.api.get(f"/runs/{run_id}").json()["state"]
    return state


def submit(platform: Platform, run_name: str, **parameters: Any) -> str:
    body = {
        "display_name": run_name,
        "pipeline_spec": compile_to_dict(ui_greeting),
        "runtime_config": {"parameters": parameters},
    }
    response = platform.api.post("/runs", json=body)
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run_id"]
    platform.wait_for(lambda: run_state(platform, run_id) == "SUCCEEDED", f"{run_name} succeeds")
    return run_id


@pytest.fixture(scope="module")
def uploaded(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The greeting pipeline, uploaded once through the API for the tests that start
    from an existing pipeline."""
    package = tmp_path_factory.mktemp("package") / "ui-greeting.yaml"
    Compiler().compile(ui_greeting, str(package))
    with package.open("rb") as f:
        response = platform.api.post(
            "/pipelines/upload",
            params={"name": "greeting-api"},
            files={"uploadfile": ("ui-greeting.yaml", f)},
        )
    assert response.status_code == 200, response.text
    pipeline_id: str = response.json()["pipeline_id"]
    return pipeline_id


def test_upload_run_watch_the_graph_and_read_a_log(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    package = tmp_path / "ui-greeting.yaml"
    Compiler().compile(ui_greeting, str(package))
    gate = tmp_path / "gate"

    page.goto("/pipelines")
    page.get_by_role("button", name="Upload pipeline").click()
    page.locator("input[type=file]").set_input_files(str(package))
    page.locator("input[name=name]").fill("greeting-e2e")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("heading", name="greeting-e2e")).to_be_visible()
    expect(page.get_by_test_id("node-greet")).to_be_visible()  # the static graph

    page.get_by_role("link", name="Create run").click()
    expect(page.locator("input[name=param-times]")).to_have_value("2")  # the default
    page.locator("input[name=param-name]").fill("browser")
    page.locator("input[name=param-times]").fill("2.5")
    page.locator("input[name=param-gate]").fill(str(gate))
    page.locator("input[name=name]").fill("e2e run")
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_text("needs a whole number")).to_be_visible()  # checked before sending
    page.locator("input[name=param-times]").fill("3")
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    run_id = page.url.rsplit("/", 1)[-1]
    parameters = platform.api.get(f"/runs/{run_id}").json()["runtime_config"]["parameters"]
    assert parameters == {"name": "browser", "times": 3, "gate": str(gate)}

    page.evaluate("window.__notReloaded = true")
    greet = page.get_by_test_id("node-greet")
    expect(greet).to_have_attribute("data-state", "RUNNING", timeout=60_000)
    greet.click()
    page.get_by_role("tab", name="Logs").click()
    expect(page.get_by_test_id("task-log")).to_contain_text("hello browser #3")  # while running
    gate.touch()
    expect(greet).to_have_attribute("data-state", "SUCCEEDED", timeout=60_000)
    expect(page.get_by_test_id("node-score")).to_have_attribute("data-state", "SUCCEEDED")
    assert page.evaluate("window.__notReloaded") is True
    expect(page.get_by_text("complete", exact=True)).to_be_visible()

    page.get_by_test_id("node-score").click()
    page.get_by_role("tab", name="Inputs / outputs").click()
    expect(page.get_by_test_id("artifact-metrics")).to_contain_text("4.5")


def test_the_sample_shows_its_confusion_matrix_and_roc_curve(
    page: Page, platform: Platform
) -> None:
    runs = platform.api.get("/runs", params={"page_size": 100}).json()["runs"]
    sample = next(r for r in runs if r["display_name"].startswith("breast-cancer"))
    platform.wait_for(
        lambda: run_state(platform, sample["run_id"]) in ("SUCCEEDED", "FAILED"),
        "the demo's training run ends",
        seconds=600,
    )
    assert run_state(platform, sample["run_id"]) == "SUCCEEDED"

    page.goto(f"/runs/{sample['run_id']}")
    evaluate = page.get_by_test_id("node-evaluate")
    expect(evaluate).to_have_attribute("data-state", "SUCCEEDED")
    evaluate.click()
    page.get_by_role("tab", name="Inputs / outputs").click()
    matrix = page.get_by_test_id("confusion-matrix")
    expect(matrix).to_be_visible()
    expect(matrix).to_contain_text("malignant")
    expect(
        page.get_by_test_id("roc-curve").locator("svg path.recharts-curve").first
    ).to_be_visible()


def test_two_runs_are_compared(page: Page, platform: Platform) -> None:
    first = submit(platform, "compare-a", name="a", times=2)
    second = submit(platform, "compare-b", name="a", times=4)

    page.goto("/runs")
    page.get_by_test_id(f"run-row-{first}").get_by_role("checkbox").check()
    page.get_by_test_id(f"run-row-{second}").get_by_role("checkbox").check()
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare\?runs="))
    table = page.get_by_test_id("compare-parameters")
    times = table.locator("tr", has=page.locator("th", has_text=re.compile(r"^times$")))
    expect(times).to_have_attribute("data-differs", "true")
    same = table.locator("tr", has=page.locator("th", has_text=re.compile(r"^name$")))
    expect(same).to_have_attribute("data-differs", "false")
    expect(page.get_by_test_id("metric-score/score")).to_contain_text("3")
    expect(page.get_by_test_id("metric-score/score")).to_contain_text("6")


def test_a_recurring_run_is_created_with_its_fire_times_and_disabled(
    page: Page, platform: Platform, uploaded: str
) -> None:
    page.goto("/recurring")
    page.get_by_role("link", name="Create recurring run").click()
    page.locator("select[name=pipeline]").select_option(uploaded)
    page.locator("input[name=name]").fill("hourly greeting")
    page.get_by_label("Every N seconds").check()
    page.locator("input[name=interval]").fill("3600")
    expect(page.get_by_test_id("fire-times").locator("li")).to_have_count(5)
    page.get_by_role("button", name="Create recurring run").click()

    expect(page).to_have_url(re.compile(r"/recurring$"))
    row = page.get_by_test_id("recurring-hourly greeting")
    expect(row.get_by_test_id("recurring-status")).to_have_text("enabled")
    row.get_by_role("button", name="Disable").click()
    expect(row.get_by_test_id("recurring-status")).to_have_text("disabled")
    listed = platform.api.get("/recurringruns").json()["recurringRuns"]
    created = next(r for r in listed if r["display_name"] == "hourly greeting")
    assert created["status"] == "DISABLED"
    assert created["trigger"] == {"periodic_schedule": {"interval_second": 3600}}


def test_a_run_is_archived_and_restored(page: Page, platform: Platform) -> None:
    run_id = submit(platform, "to-archive", name="z", times=1)

    page.goto("/runs")
    row = page.get_by_test_id(f"run-row-{run_id}")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Archive").click()
    expect(row).to_have_count(0)
    assert platform.api.get(f"/runs/{run_id}").json()["storage_state"] == "ARCHIVED"

    page.get_by_role("link", name="Archive", exact=True).click()
    archived = page.get_by_test_id(f"run-row-{run_id}")
    archived.get_by_role("checkbox").check()
    page.get_by_role("button", name="Restore").click()
    expect(archived).to_have_count(0)
    assert platform.api.get(f"/runs/{run_id}").json()["storage_state"] == "AVAILABLE"
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_test_id(f"run-row-{run_id}")).to_be_visible()
