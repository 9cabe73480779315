"""A run's warnings in the web UI, in Chromium against a real `dagyard up --demo`: what a
task asked for that was recorded but not honoured is a banner on the run's page (how
many, each message with its task's path, the path selecting the task), a count on the
task's node in the graph and a section of the task's panel; a run without warnings has
none of them. The pipeline is written with kfp and kfp-kubernetes and compiled by kfp's
compiler."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler as kfp_compiler
from playwright.sync_api import Locator, Page, expect
from ui_kfp_pipelines import labelled
from ui_pipelines import ui_greeting
from ui_platform import Platform

from dagyard.compiler import compile_to_dict

pytestmark = pytest.mark.browser

NARROW = {"width": 800, "height": 900}


def finished(platform: Platform, spec: dict[str, Any], run_name: str) -> str:
    """Run `spec` (a pipeline spec, or kfp's pair of pipeline and platform spec) through
    the API; its id once it has succeeded."""
    created = platform.api.post("/runs", json={"display_name": run_name, "pipeline_spec": spec})
    assert created.status_code == 200, created.text
    run_id: str = created.json()["run_id"]

    def state() -> str:
        found: str = platform.api.get(f"/runs/{run_id}").json()["state"]
        return found

    platform.wait_for(lambda: state() in ("SUCCEEDED", "FAILED"), f"{run_name} ends")
    assert state() == "SUCCEEDED", platform.api.get(f"/runs/{run_id}").text
    return run_id


def kfp_compiled(tmp_path: Path) -> dict[str, Any]:
    """`labelled` as kfp compiles it: its pipeline spec and, in the same file, the
    platform spec holding the kfp-kubernetes settings."""
    path = tmp_path / "labelled.yaml"
    kfp_compiler.Compiler().compile(labelled, str(path))
    spec, platform_spec = yaml.safe_load_all(path.read_text())
    return {"pipeline_spec": spec, "platform_spec": platform_spec}


def task_warnings(platform: Platform, run_id: str) -> dict[str, list[str]]:
    """Each task's warnings as the API gives them, by task path."""
    tasks = platform.api.get(f"/runs/{run_id}/tasks").json()["tasks"]
    return {t["path"]: t.get("warnings", []) for t in tasks}


def within_width(locator: Locator, width: int) -> None:
    """`locator` is visible and lies inside a window `width` pixels wide."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_a_runs_warnings_are_a_banner_whose_task_paths_open_the_tasks_warnings(
    page: Page, platform: Platform, tmp_path: Path
) -> None:
    """KFP's driver puts pod labels in the pod's metadata and a node selector in its spec
    (backend/src/v2/driver, extendPodSpecPatch); a task here is a process on one host, so
    each is a warning on its task, shown on the run's page, readable in a window 800
    pixels wide."""
    run_id = finished(platform, kfp_compiled(tmp_path), f"warned-{uuid.uuid4().hex[:8]}")
    warnings = task_warnings(platform, run_id)
    (label,) = warnings["write-label"]
    (selector,) = warnings["pick-node"]
    assert label.startswith("Pod labels team=ml (add_pod_label) are recorded, not applied")
    assert selector.startswith("The node selector gpu=a100 (add_node_selector) is recorded")

    page.set_viewport_size(NARROW)
    page.goto(f"/runs/{run_id}")
    # Narrow, the graph keeps its height and the task panel goes below it.
    expect(page.get_by_test_id("node-pick-node")).to_be_in_viewport()
    expect(page.get_by_test_id("warnings-pick-node")).to_have_text("⚠ 1 warning")
    expect(page.get_by_test_id("warnings-write-label")).to_have_text("⚠ 1 warning")
    banner = page.get_by_role("region", name="2 warnings")
    within_width(banner, NARROW["width"])
    expect(banner).to_contain_text(label)
    expect(banner).to_contain_text(selector)
    items = banner.get_by_role("listitem")
    expect(items.filter(has_text=label).get_by_role("button")).to_have_text("write-label")
    expect(items.filter(has_text=selector).get_by_role("button")).to_have_text("pick-node")

    banner.get_by_role("button", name="pick-node").click()
    panel = page.get_by_role("complementary", name="Task pick-node")
    expect(panel).to_be_in_viewport()
    own = panel.get_by_role("region", name="1 warning: recorded, not honoured")
    within_width(own, NARROW["width"])
    expect(own.get_by_role("listitem")).to_have_text([selector])

    banner.get_by_role("button", name="write-label").click()
    panel = page.get_by_role("complementary", name="Task write-label")
    expect(panel.get_by_test_id("task-warnings").get_by_role("listitem")).to_have_text([label])


def test_a_run_without_warnings_shows_no_banner_and_no_task_warnings(
    page: Page, platform: Platform
) -> None:
    run_id = finished(platform, compile_to_dict(ui_greeting), f"plain-{uuid.uuid4().hex[:8]}")
    assert not any(task_warnings(platform, run_id).values())

    page.goto(f"/runs/{run_id}")
    greet = page.get_by_test_id("node-greet")
    expect(greet).to_have_attribute("data-state", "SUCCEEDED")  # the tasks are shown
    expect(page.get_by_test_id("run-warnings")).to_have_count(0)
    expect(page.get_by_test_id("warnings-greet")).to_have_count(0)
    greet.click()
    expect(page.get_by_test_id("task-panel")).to_be_visible()
    expect(page.get_by_test_id("task-warnings")).to_have_count(0)
