"""Links in Kubeflow Pipelines' form (`/#/runs/details/<id>`, what kfp.Client prints)
open the matching page of our UI, in Chromium against a real `dagyard up --demo`; the
run, pipeline and experiment are made with dagyard.Client, as a user would."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from ui_pipelines import ui_flaky, ui_greeting
from ui_platform import Platform

from dagyard.client import Client

pytestmark = pytest.mark.browser


@pytest.fixture
def client(platform: Platform) -> Iterator[Client]:
    with Client(host=platform.url) as opened:
        yield opened


def test_a_kfp_run_link_opens_the_runs_page(page: Page, platform: Platform, client: Client) -> None:
    name = f"kfp-link-{uuid.uuid4().hex[:8]}"
    result = client.create_run_from_pipeline_func(
        ui_greeting, {"name": "kfp"}, run_name=name, experiment_name="kfp-links"
    )
    finished = result.wait_for_run_completion(timeout=120)
    assert finished.state == "SUCCEEDED", finished.error

    page.goto(f"/#/runs/details/{result.run_id}")
    expect(page).to_have_url(f"{platform.url}/runs/{result.run_id}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(name)
    expect(heading.locator("[data-state]")).to_have_attribute("data-state", "SUCCEEDED")

    page.goto(f"/#/experiments/details/{finished.experiment_id}")
    expect(page).to_have_url(f"{platform.url}/experiments/{finished.experiment_id}")
    expect(page.get_by_role("heading", name="kfp-links")).to_be_visible()
    expect(page.get_by_test_id(f"run-row-{result.run_id}")).to_be_visible()


def test_kfp_pipeline_and_version_links_open_that_pipeline_and_version(
    page: Page, platform: Platform, client: Client
) -> None:
    pipeline = client.upload_pipeline_from_pipeline_func(
        ui_greeting, pipeline_name=f"kfp-link-{uuid.uuid4().hex[:8]}"
    )
    second = client.upload_pipeline_version_from_pipeline_func(
        ui_flaky, "second", pipeline_id=pipeline.pipeline_id
    )

    page.goto(f"/#/pipelines/details/{pipeline.pipeline_id}")
    expect(page).to_have_url(f"{platform.url}/pipelines/{pipeline.pipeline_id}")
    expect(page.get_by_role("heading", name=pipeline.display_name)).to_be_visible()

    page.goto(f"/#/pipelines/details/{pipeline.pipeline_id}/version/{second.pipeline_version_id}")
    expect(page).to_have_url(
        re.compile(rf"/pipelines/{pipeline.pipeline_id}\?version={second.pipeline_version_id}$")
    )
    expect(page.get_by_role("combobox", name="Version")).to_have_value(second.pipeline_version_id)
    expect(page.get_by_test_id("node-flaky")).to_be_visible()  # that version's graph


def test_an_address_that_is_not_a_kfp_link_is_left_alone(page: Page, platform: Platform) -> None:
    page.goto("/runs#/settings")
    expect(page).to_have_url(f"{platform.url}/runs#/settings")
    expect(page.get_by_test_id("runs-table")).to_be_visible()
