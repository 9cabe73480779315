"""PATCH of pipelines and versions, and versions created from a `package_url` served by a
real HTTP server on loopback. A real API server on SQLite."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_pipelines import compiled, sum_and_write


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return compiled(sum_and_write, tmp_path)


@pytest.fixture
def files(tmp_path: Path, package: Path) -> Iterator[str]:
    """A static file server over tmp_path; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert text in response.json()["message"], response.json()


def upload(api: httpx.Client, package: Path, name: str) -> dict[str, Any]:
    with package.open("rb") as f:
        return ok(
            api.post(
                "/pipelines/upload", params={"name": name}, files={"uploadfile": ("p.yaml", f)}
            )
        )


def test_a_pipeline_is_patched_and_immutable_fields_are_refused(
    api: httpx.Client, package: Path
) -> None:
    pipeline = upload(api, package, "sums")
    upload(api, package, "other")
    pid = pipeline["pipeline_id"]

    patched = ok(
        api.patch(
            f"/pipelines/{pid}",
            json={"display_name": "Sums", "description": "adds", "tags": {"team": "a"}},
        )
    )
    assert (patched["display_name"], patched["description"], patched["tags"]) == (
        "Sums",
        "adds",
        {"team": "a"},
    )
    assert ok(api.get(f"/pipelines/{pid}")) == patched

    # A client may send the whole object back with one field changed.
    whole = {**ok(api.get(f"/pipelines/{pid}")), "description": "adds numbers"}
    assert ok(api.patch(f"/pipelines/{pid}", json=whole))["description"] == "adds numbers"

    error(api.patch(f"/pipelines/{pid}", json={"namespace": "elsewhere"}), 400, "namespace")
    error(api.patch(f"/pipelines/{pid}", json={"name": "other"}), 409, "name")
    error(api.patch(f"/pipelines/{pid}", json={"name": "  "}), 400, "cannot be empty")
    too_long = api.patch(f"/pipelines/{pid}", json={"display_name": "x" * 100_000})
    assert 400 <= too_long.status_code < 500, too_long.text
    assert ok(api.get(f"/pipelines/{pid}"))["display_name"] == "Sums"
    error(api.patch("/pipelines/missing", json={"description": "x"}), 404, "missing")


def test_a_version_is_patched_but_its_spec_never_changes(api: httpx.Client, package: Path) -> None:
    pid = upload(api, package, "sums")["pipeline_id"]
    version = ok(api.get(f"/pipelines/{pid}/versions"))["pipeline_versions"][0]
    vid = version["pipeline_version_id"]

    patched = ok(
        api.patch(
            f"/pipelines/{pid}/versions/{vid}",
            json={"description": "first", "code_source_url": "https://example.org/sums.py"},
        )
    )
    assert patched["description"] == "first"
    assert patched["code_source_url"] == "https://example.org/sums.py"
    assert patched["pipeline_spec"] == version["pipeline_spec"]

    spec = {**version["pipeline_spec"], "sdkVersion": "changed"}
    error(
        api.patch(f"/pipelines/{pid}/versions/{vid}", json={"pipeline_spec": spec}),
        400,
        "cannot change",
    )
    other = upload(api, package, "other")["pipeline_id"]
    error(api.patch(f"/pipelines/{other}/versions/{vid}", json={"description": "x"}), 404, vid)


def test_a_version_is_created_from_a_package_url(
    api: httpx.Client, package: Path, files: str, tmp_path: Path
) -> None:
    pid = upload(api, package, "sums")["pipeline_id"]
    with zipfile.ZipFile(tmp_path / "sums.zip", "w") as archive:
        archive.write(package, "inside/sums.yaml")

    for filename in (package.name, "sums.zip"):
        made = ok(
            api.post(
                f"/pipelines/{pid}/versions",
                json={"name": filename, "package_url": {"pipeline_url": f"{files}/{filename}"}},
            )
        )
        assert made["pipeline_spec"]["pipelineInfo"]["name"] == "sum-and-write"

    error(
        api.post(
            f"/pipelines/{pid}/versions",
            json={"name": "gone", "package_url": {"pipeline_url": f"{files}/missing.yaml"}},
        ),
        400,
        "HTTP 404",
    )
    error(
        api.post(
            f"/pipelines/{pid}/versions",
            json={"name": "local", "package_url": {"pipeline_url": str(package)}},
        ),
        400,
        "not an http(s) URL",
    )
    (tmp_path / "broken.yaml").write_text("pipelineInfo: [unclosed\n")
    broken = api.post(
        f"/pipelines/{pid}/versions",
        json={"name": "broken", "package_url": {"pipeline_url": f"{files}/broken.yaml"}},
    )
    assert broken.status_code == 400, broken.text
    names = [v["name"] for v in ok(api.get(f"/pipelines/{pid}/versions"))["pipeline_versions"]]
    assert sorted(names) == sorted(["sums", package.name, "sums.zip"])
