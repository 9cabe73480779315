"""The server's edge, over a real server on loopback: the Host a request names, writes
from browser pages of other origins, request bodies over the size limit whether they
declare their length or arrive chunked, and the API token's bytes."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_pipelines import compiled, sum_and_write
from api_server import Server

from dagyard.server.app import MAX_BODY_BYTES
from dagyard.server.edge import AllowedHosts
from dagyard.server.ui import UI_DIST
from dagyard.service.platform import Platform

MB = 1024 * 1024


def chunks(prefix: bytes, megabytes: int, suffix: bytes) -> Iterator[bytes]:
    """A body sent chunked (httpx sends no Content-Length for an iterator)."""
    yield prefix
    block = b" " * MB
    for _ in range(megabytes):
        yield block
    yield suffix


def multipart(data: bytes, *, padding_megabytes: int = 0) -> Iterator[bytes]:
    yield (
        b'--edge\r\nContent-Disposition: form-data; name="uploadfile"; '
        b'filename="p.yaml"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    yield data
    yield from chunks(b"", padding_megabytes, b"")
    yield b"\r\n--edge--\r\n"


MULTIPART = {"Content-Type": "multipart/form-data; boundary=edge"}
JSON = {"Content-Type": "application/json"}


def test_a_foreign_host_is_refused_naming_it_and_the_setting(
    api: httpx.Client, platform: Platform
) -> None:
    answer = api.post(
        "/experiments", json={"display_name": "e"}, headers={"Host": "rebind.attacker.example"}
    )
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert "'rebind.attacker.example'" in message and "DAGYARD_ALLOWED_HOSTS" in message
    assert "--allowed-host rebind.attacker.example" in message
    assert api.get("/experiments", headers={"Host": "evil.example:8888"}).status_code == 400
    assert platform.store.list_experiments() == []


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:1", "127.0.0.1", "127.0.0.2:80", "[::1]:9"]
)
def test_loopback_names_are_accepted_with_any_port(api: httpx.Client, host: str) -> None:
    assert api.get("/experiments", headers={"Host": host}).status_code == 200


def test_allowed_hosts_by_name_suffix_address_and_any() -> None:
    named = AllowedHosts(["dagyard.example.org:443", "*.corp.example", "10.0.0.5"])
    assert named.allows("dagyard.example.org") and named.allows("DAGYARD.example.org.:8888")
    assert named.allows("ci.corp.example") and not named.allows("corp.example.evil")
    assert named.allows("10.0.0.5:8888") and not named.allows("10.0.0.6")
    assert not named.allows("") and not named.allows("example.org")
    every_interface = AllowedHosts(["0.0.0.0"])
    assert every_interface.allows("192.168.1.7:8888") and every_interface.allows("[fe80::1]")
    assert not every_interface.allows("rebind.attacker.example")
    anything = AllowedHosts(["*"])
    assert anything.allows("rebind.attacker.example")
    # Pages on a host allowed only by "*" or by any address still may not write.
    assert not anything.allows_origin("rebind.attacker.example")
    assert not every_interface.allows_origin("192.168.1.7")
    assert named.allows_origin("ci.corp.example:443") and AllowedHosts().allows_origin("::1")


def test_a_write_from_a_page_of_another_origin_is_refused(
    api: httpx.Client, platform: Platform
) -> None:
    for headers in (
        {"Origin": "http://rebind.attacker.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        answer = api.post("/experiments", json={"display_name": "e"}, headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert answer.json()["code"] == 7  # PERMISSION_DENIED
    message = api.delete("/experiments/x", headers={"Origin": "http://evil.example"}).json()
    assert "'http://evil.example'" in message["message"]
    assert "DAGYARD_ALLOWED_HOSTS" in message["message"]
    assert platform.store.list_experiments() == []
    # Reading is not a write: a foreign page's GET gets its answer (CORS keeps it from
    # the page).
    assert api.get("/experiments", headers={"Origin": "http://evil.example"}).status_code == 200


def test_a_write_from_the_servers_own_pages_or_a_loopback_page_is_accepted(
    api: httpx.Client, server: Server
) -> None:
    for n, headers in enumerate(
        [
            {"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
            {"Origin": "http://localhost:5173"},  # the UI's development server
            {"Sec-Fetch-Site": "same-site"},
            {},  # kfp.Client, dagyard.Client, curl
        ]
    ):
        answer = api.post("/experiments", json={"display_name": f"e{n}"}, headers=headers)
        assert answer.status_code == 200, (headers, answer.text)


def test_a_chunked_json_body_over_the_limit_is_refused_with_413(
    api: httpx.Client, platform: Platform
) -> None:
    megabytes = MAX_BODY_BYTES // MB + 8
    answer = api.post(
        "/experiments", content=chunks(b'{"display_name": "big"', megabytes, b"}"), headers=JSON
    )
    assert answer.status_code == 413, answer.text
    assert f"more than {MAX_BODY_BYTES} bytes" in answer.json()["message"]
    assert platform.store.list_experiments() == []


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    server: Server,
) -> None:
    # Only the headers are sent: the answer cannot wait for the body.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(
            b"PUT /apis/v2beta1/experiments/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        status_line = connection.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 413 "), status_line


def test_a_small_chunked_json_body_is_accepted(api: httpx.Client) -> None:
    answer = api.post(
        "/experiments", content=chunks(b'{"display_name": "chunked"', 1, b"}"), headers=JSON
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["display_name"] == "chunked"


def test_chunked_uploads_are_accepted_under_the_limit_and_413_over_it(
    api: httpx.Client, platform: Platform, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path).read_bytes()
    small = api.post("/pipelines/upload", content=multipart(package), headers=MULTIPART)
    assert small.status_code == 200, small.text
    megabytes = MAX_BODY_BYTES // MB + 8
    big = api.post(
        "/pipelines/upload",
        params={"name": "big"},
        content=multipart(package, padding_megabytes=megabytes),
        headers=MULTIPART,
    )
    assert big.status_code == 413, big.text
    assert [p.display_name for p in platform.store.list_pipelines()] == ["p"]


@pytest.mark.parametrize("token", ["pässwörd-1234567890", "ключ-доступа-1234567890"])
def test_a_non_ascii_token_matches_as_utf8_and_as_latin1(platform: Platform, token: str) -> None:
    server = Server(platform, token=token).start()
    try:
        with server.client() as api:
            utf8 = [(b"Authorization", f"Bearer {token}".encode())]
            assert api.get("/experiments", headers=utf8).status_code == 200
            if all(ord(c) < 256 for c in token):
                latin1 = [(b"Authorization", f"Bearer {token}".encode("latin-1"))]
                assert api.get("/experiments", headers=latin1).status_code == 200
            wrong = [(b"Authorization", f"Bearer {token[:-1]}x".encode())]
            assert api.get("/experiments", headers=wrong).status_code == 401
            assert api.get("/experiments").status_code == 401
    finally:
        server.stop()


def test_answers_are_gzipped_for_clients_that_accept_it(server: Server, api: httpx.Client) -> None:
    """The API's JSON and the UI's files, whole (httpx undoes the encoding, as a browser
    does); a client that does not accept gzip gets them as they are."""
    for index in range(40):
        assert api.post("/experiments", json={"display_name": f"experiment {index:02}"}).is_success
    listed = api.get("/experiments", params={"page_size": 40}, headers={"Accept-Encoding": "gzip"})
    assert listed.headers["content-encoding"] == "gzip"
    assert len(listed.json()["experiments"]) == 40
    identity = {"Accept-Encoding": "identity"}
    plain = api.get("/experiments", params={"page_size": 40}, headers=identity)
    assert "content-encoding" not in plain.headers
    assert plain.json() == listed.json()

    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = browser.get("/", headers={"Accept-Encoding": "gzip"})
        script = next(
            line.split('src="', 1)[1].split('"', 1)[0]
            for line in page.text.splitlines()
            if "<script" in line and 'src="' in line
        )
        with browser.stream("GET", script, headers={"Accept-Encoding": "gzip"}) as bundle:
            sent = b"".join(bundle.iter_raw())
        whole = browser.get(script, headers={"Accept-Encoding": "identity"}).content
    assert bundle.status_code == 200 and bundle.headers["content-encoding"] == "gzip"
    assert gzip.decompress(sent) == whole
    assert len(sent) < len(whole) / 2


def test_the_ui_files_go_as_the_builds_brotli_copies_to_clients_that_accept_brotli(
    server: Server,
) -> None:
    """The build writes `<file>.br` beside each script and style sheet; a client that
    accepts Brotli gets those bytes (Chromium in tests/ui decodes them), others gzip."""
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = browser.get("/")
        script = next(
            line.split('src="', 1)[1].split('"', 1)[0]
            for line in page.text.splitlines()
            if "<script" in line and 'src="' in line
        )
        copy = UI_DIST / script.lstrip("/")
        accepts = {"Accept-Encoding": "gzip, deflate, br, zstd"}
        with browser.stream("GET", script, headers=accepts) as packed:
            sent = b"".join(packed.iter_raw())
        with browser.stream("GET", script, headers={"Accept-Encoding": "gzip"}) as zipped:
            assert zipped.headers["content-encoding"] == "gzip"
        assert browser.get("/assets/no-such-file.js", headers=accepts).status_code == 404
    assert packed.status_code == 200 and packed.headers["content-encoding"] == "br"
    assert packed.headers["content-type"].startswith("text/javascript")
    assert "immutable" in packed.headers["cache-control"]
    assert sent == copy.with_name(copy.name + ".br").read_bytes()
    assert len(sent) < copy.stat().st_size / 3
