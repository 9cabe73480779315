"""The web UI's files beside the API: hashed assets with long caching, the app's page for
its own routes, JSON 404s kept for the API, and a page saying how to build a missing UI.
A real server on loopback over a folder laid out as a Vite build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import Server

from dagyard.service.platform import Platform


@pytest.fixture
def built(tmp_path: Path) -> Path:
    folder = tmp_path / "ui_dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>app</title><div id=root></div>")
    (folder / "assets" / "index-abc123.js").write_text("console.log('app')")
    (folder / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    return folder


@pytest.fixture
def site(platform: Platform, built: Path) -> Iterator[httpx.Client]:
    server = Server(platform, ui_folder=built).start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.stop()


def test_assets_are_served_and_cached(site: httpx.Client) -> None:
    response = site.get("/assets/index-abc123.js")
    assert response.status_code == 200 and "console.log" in response.text
    assert "immutable" in response.headers["cache-control"]
    assert site.get("/assets/missing.js").status_code == 404
    assert site.get("/favicon.svg").text == "<svg/>"


def test_app_routes_get_the_page_and_the_api_keeps_json_404s(site: httpx.Client) -> None:
    for path in ("/", "/runs", "/runs/abc/details", "/pipelines/x?tab=graph"):
        response = site.get(path)
        assert response.status_code == 200, path
        assert "<div id=root>" in response.text
        assert response.headers["cache-control"] == "no-cache"
    missing = site.get("/apis/v2beta1/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == 5
    assert site.post("/runs/abc").status_code in (404, 405)
    assert site.get("/openapi.json").json()["info"]["title"] == "Dagyard"


def test_nothing_outside_the_ui_folder_is_served(site: httpx.Client) -> None:
    for path in ("/../secret.txt", "/%2E%2E/secret.txt", "/assets/../../secret.txt"):
        assert "outside" not in site.get(path).text, path


def test_a_missing_build_says_how_to_build_it(platform: Platform, tmp_path: Path) -> None:
    server = Server(platform, ui_folder=tmp_path / "nothing").start()
    try:
        page = httpx.get(f"{server.url}/runs", timeout=30)
        assert page.status_code == 200 and "make ui" in page.text
        assert httpx.get(f"{server.url}/apis/v2beta1/healthz", timeout=30).status_code == 200
    finally:
        server.stop()
