"""Screenshots of the web UI's main pages into docs/images/, from a real `dagyard up
--demo` in a temporary home driven by Debian's Chromium (`make screenshots`).

It uploads the greeting pipeline of the UI tests, starts two runs of it and a second run
of the training sample with other settings (to have something to compare), waits for
them and the demo's own runs, then visits each page.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from ui_pipelines import ui_greeting  # noqa: E402

from dagyard.compiler import Compiler, compile_to_dict  # noqa: E402
from dagyard.samples.breast_cancer import breast_cancer  # noqa: E402


def wait_for(check: Callable[[], object], what: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting until {what}")
        time.sleep(0.2)


def state(api: httpx.Client, run_id: str) -> str:
    value: str = api.get(f"/runs/{run_id}").json()["state"]
    return value


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="dagyard-shots-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagyard")),
            "up",
            "--demo",
            "--port",
            str(port),
            "--home",
            str(home),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = httpx.Client(base_url=f"{url}/apis/v2beta1", timeout=30)
        wait_for(lambda: _healthy(api), "the server answers", 30)
        package = home / "ui-greeting.yaml"
        Compiler().compile(ui_greeting, str(package))
        with package.open("rb") as f:
            api.post(
                "/pipelines/upload",
                params={"name": "greeting"},
                files={"uploadfile": ("ui-greeting.yaml", f)},
            ).raise_for_status()
        spec = compile_to_dict(ui_greeting)
        greetings = []
        for name, times in (("small", 2), ("large", 5)):
            body = {
                "display_name": f"greeting-{name}",
                "pipeline_spec": spec,
                "runtime_config": {"parameters": {"name": name, "times": times}},
            }
            greetings.append(api.post("/runs", json=body).json()["run_id"])
        api.post(
            "/recurringruns",
            json={
                "display_name": "nightly greeting",
                "pipeline_spec": spec,
                "trigger": {"cron_schedule": {"cron": "0 30 2 * * *"}},
                "timezone": "Europe/Berlin",
            },
        ).raise_for_status()
        runs = api.get("/runs", params={"page_size": 50}).json()["runs"]
        sample = next(r["run_id"] for r in runs if r["display_name"].startswith("breast-cancer"))
        shallow = api.post(
            "/runs",
            json={
                "display_name": "breast-cancer-shallow",
                "pipeline_spec": compile_to_dict(breast_cancer),
                "runtime_config": {"parameters": {"n_estimators": 5, "max_depth": 1}},
            },
        ).json()["run_id"]
        for run_id in [sample, shallow, *greetings]:
            wait_for(lambda r=run_id: state(api, r) in ("SUCCEEDED", "FAILED"), f"{run_id} ends")

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=url, viewport={"width": 1440, "height": 860})
            shoot(page, "/runs", "runs.png", "runs-table")
            page.goto(f"/runs/{sample}")
            page.get_by_test_id("node-evaluate").click()
            page.get_by_role("tab", name="Inputs / outputs").click()
            page.get_by_test_id("confusion-matrix").scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # let the ROC chart finish its entry animation
            page.screenshot(path=str(IMAGES / "run-details.png"))
            page.goto(f"/runs/{sample}?tab=timeline")
            page.locator("[data-testid^='timeline-row-']").first.wait_for()
            page.screenshot(path=str(IMAGES / "run-timeline.png"))
            page.goto(f"/compare?runs={sample},{shallow}")
            page.get_by_test_id("compare-roc").get_by_role("application").wait_for()
            page.wait_for_timeout(500)  # the charts' entry animation
            page.screenshot(path=str(IMAGES / "compare.png"), full_page=True)
            shoot(page, "/pipelines", "pipelines.png", "pipelines-table")
            shoot(page, "/experiments", "experiments.png", "experiments-table")
            shoot(page, "/recurring", "recurring.png", "recurring-table")
            shoot(page, "/artifacts", "artifacts.png", "artifacts-table")
            page.goto("/runs/new?recurring=1")
            page.locator("select[name=pipeline]").select_option(label="greeting")
            page.locator("input[name=name]").fill("nightly greeting")
            page.get_by_test_id("fire-times").locator("li").nth(4).wait_for()
            page.screenshot(path=str(IMAGES / "create-run.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    print(f"screenshots in {IMAGES}")


def shoot(page: Page, path: str, name: str, testid: str) -> None:
    page.goto(path)
    page.get_by_test_id(testid).wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(IMAGES / name))


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
