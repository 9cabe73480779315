"""The UI held to a namespace, in Chromium against a real `dagyard up` with an admin token
and two namespaces, team-a and team-b, each with an experiment and a run (made through
the service before the server starts). A namespace token sees its namespace named in the
header and only its runs; the admin switches between the namespaces (the choice in the
address, Back returning to the one before), every page following; a view token cannot
start a run."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from ui_pipelines import ui_greeting
from ui_platform import Platform, start_platform, stop_platform

from dagyard.cli.up import settings_for
from dagyard.compiler import compile_to_dict
from dagyard.service import experiments, runs, tenancy
from dagyard.service.platform import Platform as ServicePlatform

pytestmark = pytest.mark.browser

ADMIN_TOKEN = "admin-token-for-the-namespace-ui"


@dataclasses.dataclass
class Tenanted:
    server: Platform
    tokens: dict[str, str]  # "a-edit", "a-view", "admin"


@pytest.fixture(scope="module")
def tenanted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenanted]:
    home = tmp_path_factory.mktemp("ui-namespaces")
    # The same settings as the `dagyard up --home` below, so both use one database.
    platform = ServicePlatform.open(settings_for(home, None))
    try:
        tokens = {"admin": ADMIN_TOKEN}
        spec = compile_to_dict(ui_greeting)
        for team in ("team-a", "team-b"):
            tenancy.create_namespace(platform, team)
            experiment = experiments.create_experiment(
                platform, display_name=f"{team} experiment", namespace=team
            )
            runs.submit_run(
                platform,
                spec,
                experiment_id=experiment.experiment_id,
                display_name=f"{team} run",
            )
        # A "Default" experiment of the shared namespace and one of team-a.
        runs.submit_run(platform, spec, display_name="shared default run")
        runs.submit_run(platform, spec, display_name="team-a default run", namespace="team-a")
        tokens["a-edit"] = tenancy.create_token(platform, "team-a", "edit")[1]
        tokens["a-view"] = tenancy.create_token(platform, "team-a", "view")[1]
    finally:
        platform.close()
    server = start_platform(home, env={"DAGYARD_AUTH_TOKEN": ADMIN_TOKEN})
    yield Tenanted(server, tokens)
    stop_platform(server)


@pytest.fixture
def open_as(browser: object, tenanted: Tenanted) -> Iterator[Callable[[str, str], Page]]:
    """Opens a page of the UI in a new browser session, with `who`'s token entered at
    the UI's prompt."""
    assert isinstance(browser, Browser)
    contexts = []
    errors: list[str] = []

    def opened(who: str, path: str) -> Page:
        context = browser.new_context(base_url=tenanted.server.url)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path)
        prompt = page.get_by_role("form", name="API token")
        prompt.locator("input[name=token]").fill(tenanted.tokens[who])
        prompt.get_by_role("button", name="Use token").click()
        expect(prompt).to_have_count(0)
        return page

    yield opened
    for context in contexts:
        context.close()
    assert not errors, f"the page threw: {errors}"


def _run_link(page: Page, team: str) -> Locator:
    return page.get_by_test_id("runs-table").get_by_role("link", name=f"{team} run")


def test_a_namespace_token_sees_its_namespace_and_only_its_runs(
    open_as: Callable[[str, str], Page],
) -> None:
    page = open_as("a-edit", "/runs")
    caller = page.get_by_test_id("caller")
    expect(caller.get_by_test_id("namespace-current")).to_have_text("team-a")
    expect(caller).to_contain_text("edit token")
    expect(caller.get_by_label("Namespace")).to_have_count(0)  # nothing to choose
    expect(_run_link(page, "team-a")).to_be_visible()
    expect(_run_link(page, "team-b")).to_have_count(0)
    expect(page.get_by_role("link", name="Create run")).to_be_enabled()


def test_the_admin_switches_namespaces_and_every_page_follows(
    open_as: Callable[[str, str], Page], tenanted: Tenanted
) -> None:
    page = open_as("admin", "/runs")
    switcher = page.get_by_test_id("caller").get_by_label("Namespace")
    expect(switcher.locator("option")).to_have_text(["all namespaces", "team-a", "team-b"])
    expect(switcher).to_have_value("")
    expect(_run_link(page, "team-a")).to_be_visible()
    expect(_run_link(page, "team-b")).to_be_visible()

    switcher.select_option("team-b")
    expect(page).to_have_url(re.compile(r"/runs\?ns=team-b$"))
    expect(_run_link(page, "team-b")).to_be_visible()
    expect(_run_link(page, "team-a")).to_have_count(0)

    # Another page keeps the namespace, and what it creates goes there.
    page.get_by_role("navigation").get_by_role("link", name="Experiments").click()
    expect(page).to_have_url(re.compile(r"/experiments\?ns=team-b$"))
    table = page.get_by_test_id("experiments-table")
    expect(table.get_by_role("link", name="team-b experiment")).to_be_visible()
    expect(table.get_by_role("link", name="team-a experiment")).to_have_count(0)
    page.get_by_role("button", name="Create experiment").click()
    form = page.get_by_role("form", name="Create experiment")
    form.locator("input[name=name]").fill("made in team-b")
    form.get_by_role("button", name="Create").click()
    expect(table.get_by_role("link", name="made in team-b")).to_be_visible()
    listed = tenanted.server.api.get(
        "/experiments",
        params={"namespace": "team-b"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert listed.status_code == 200, listed.text
    assert "made in team-b" in {e["display_name"] for e in listed.json()["experiments"]}

    # Back returns to the runs of team-b, then to those of every namespace.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/runs\?ns=team-b$"))
    expect(_run_link(page, "team-a")).to_have_count(0)
    expect(_run_link(page, "team-b")).to_be_visible()
    page.go_back()
    expect(switcher).to_have_value("")
    expect(_run_link(page, "team-a")).to_be_visible()
    expect(_run_link(page, "team-b")).to_be_visible()


def test_the_admin_tells_the_default_experiments_of_namespaces_apart(
    open_as: Callable[[str, str], Page],
) -> None:
    page = open_as("admin", "/runs")
    options = page.get_by_role("combobox", name="Experiment").locator("option")
    expect(options.filter(has_text="Default")).to_have_text(
        ["Default (shared)", "Default (team-a)"], use_inner_text=True
    )
    team_a = page.get_by_test_id("runs-table").locator("tr", has_text="team-a default run")
    expect(team_a.get_by_role("link", name="Default (team-a)")).to_be_visible()


def test_a_view_token_cannot_create_a_run(open_as: Callable[[str, str], Page]) -> None:
    page = open_as("a-view", "/runs")
    expect(page.get_by_test_id("namespace-current")).to_have_text("team-a")
    expect(_run_link(page, "team-a")).to_be_visible()
    create = page.get_by_role("button", name="Create run")
    expect(create).to_be_disabled()
    expect(create).to_have_attribute("title", re.compile("may only view namespace team-a"))
    expect(page.get_by_role("link", name="Create run")).to_have_count(0)
