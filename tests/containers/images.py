"""The container images that tests run tasks in, built on this machine and kept in Podman.

Two images, both made here from Debian's packages (no registry holds them):

- `BASE_IMAGE`: Debian bookworm, minbase, with python3, pip, venv and ca-certificates,
  made by mmdebstrap and imported into Podman. Its CA bundle is the host's, so TLS through
  an intercepting proxy that the host trusts works inside it too; nothing else of the
  host's is taken (in particular not its pip configuration: pip in the image uses the
  default index, and Debian's pip reads the system bundle).
- `TOOL_IMAGE`: the base plus files only it has, `/opt/dagyard-tool/marker.txt` (holding
  `made-in-the-image`, no line break) and `/usr/local/bin/dagyard-tool` (prints `tool:`
  and its arguments; with a second argument, writes the first to that path), so that a
  task using them can only succeed inside this image. Its pip installs into the system
  Python (`PIP_BREAK_SYSTEM_PACKAGES=1`), as kfp's lightweight components do first thing:
  Debian's Python refuses that otherwise (PEP 668).

`ensure_image` builds an image once and Podman's local storage keeps it for later runs: it
builds only when `podman image exists` says the image is absent. A file lock serialises
the builds of concurrent test processes (pytest-xdist workers): one builds, the others
wait and then find the image. The tag is part of each image's recipe: change the recipe,
bump the tag, or machines that built the old one keep using it.

This module knows how to build the images and nothing about Dagyard; the flags a
container runtime needs on this machine are Dagyard's business, not this module's.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

BASE_IMAGE = "localhost/dagyard-test-base:1"
TOOL_IMAGE = "localhost/dagyard-test-tool:2"

MARKER_PATH = "/opt/dagyard-tool/marker.txt"
MARKER_TEXT = "made-in-the-image"

_CACHE = Path.home() / ".cache" / "dagyard-tests"
_HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
_BASE_PACKAGES = "python3,python3-pip,python3-venv,ca-certificates"

_TOOL_SCRIPT = """\
#!/bin/sh
# A tool that exists only in Dagyard's test image: prints its arguments and, given a
# second argument, writes the first one to that path.
echo "tool: $*"
if [ "$#" -ge 2 ]; then
    mkdir -p "$(dirname "$2")"
    printf '%s' "$1" > "$2"
fi
"""

_TOOL_CONTAINERFILE = f"""\
FROM {BASE_IMAGE}
ENV PIP_BREAK_SYSTEM_PACKAGES=1
COPY marker.txt {MARKER_PATH}
COPY dagyard-tool /usr/local/bin/dagyard-tool
"""


def podman() -> str:
    """The path of the podman command; skips the test when it is not installed."""
    path = shutil.which("podman")
    if path is None:
        pytest.skip("podman is not installed (`make test` installs it with apt-get)")
    return path


def ensure_image(name: str, *, config: pytest.Config | None = None) -> str:
    """Build the test image `name` (BASE_IMAGE or TOOL_IMAGE) unless Podman has it.

    Returns the image reference. Progress goes to stderr; given pytest's `config`, it
    bypasses pytest's output capture, so the terminal shows why the suite is slow.
    """
    if name not in (BASE_IMAGE, TOOL_IMAGE):
        raise ValueError(f"No recipe for test image {name!r}; known: {BASE_IMAGE}, {TOOL_IMAGE}.")
    command = podman()
    if _exists(command, name):
        return name
    _CACHE.mkdir(parents=True, exist_ok=True)
    with _locked(_CACHE / "images.lock", config):
        # Another process may have built it while this one waited for the lock.
        if name == TOOL_IMAGE:
            if not _exists(command, BASE_IMAGE):
                _build_base(command, config)
            if not _exists(command, TOOL_IMAGE):
                _build_tool(command, config)
        elif not _exists(command, BASE_IMAGE):
            _build_base(command, config)
    return name


def _build_base(command: str, config: pytest.Config | None) -> None:
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        pytest.skip("mmdebstrap is not installed (`make test` installs it with apt-get)")
    _say(config, f"building {BASE_IMAGE} with mmdebstrap (once per machine, about a minute)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dagyard-test-image-") as folder:
        root = Path(folder) / "root.tar"
        _run(
            [
                mmdebstrap,
                "--variant=minbase",
                f"--include={_BASE_PACKAGES}",
                f"--customize-hook=copy-in {_HOST_CA_BUNDLE} /etc/ssl/certs",
                "bookworm",
                str(root),
            ],
            what="mmdebstrap (it needs a reachable Debian mirror)",
        )
        _say(config, f"root file system made in {time.monotonic() - started:.0f} s, importing")
        _run([command, "import", "--quiet", str(root), BASE_IMAGE], what="podman import")
    _say(config, f"{BASE_IMAGE} built in {time.monotonic() - started:.0f} s")


def _build_tool(command: str, config: pytest.Config | None) -> None:
    _say(config, f"building {TOOL_IMAGE} from {BASE_IMAGE}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dagyard-test-image-") as folder:
        context = Path(folder)
        (context / "Containerfile").write_text(_TOOL_CONTAINERFILE)
        (context / "marker.txt").write_text(MARKER_TEXT)
        script = context / "dagyard-tool"
        script.write_text(_TOOL_SCRIPT)
        script.chmod(0o755)
        # COPY steps only: no RUN step starts a container, so the build needs none of the
        # resource limits that running one does on some machines.
        _run(
            [command, "build", "--pull=never", "--quiet", "--tag", TOOL_IMAGE, str(context)],
            what="podman build",
        )
    _say(config, f"{TOOL_IMAGE} built in {time.monotonic() - started:.1f} s")


def _exists(command: str, name: str) -> bool:
    result = subprocess.run(
        [command, "image", "exists", name], capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"`podman image exists {name}` failed: {result.stderr.strip()}")
    return result.returncode == 0


def _run(argv: list[str], *, what: str) -> None:
    result = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-20:])
        raise RuntimeError(f"{what} failed with exit code {result.returncode}:\n{tail}")


@contextmanager
def _locked(path: Path, config: pytest.Config | None) -> Iterator[None]:
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(config, "waiting for another test process that is building the images")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _say(config: pytest.Config | None, message: str) -> None:
    capture = config.pluginmanager.getplugin("capturemanager") if config is not None else None
    with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
        print(f"[test images] {message}", file=sys.stderr, flush=True)
