"""The test images of images.py: built by the real Podman, they hold what tests rely on."""

from __future__ import annotations

import subprocess

import pytest
from containers.images import BASE_IMAGE, MARKER_PATH, MARKER_TEXT, TOOL_IMAGE, ensure_image, podman

# This machine's default limits for a container exceed its hard limits, and an nproc
# above the kernel's pid_max is refused.
_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

_FETCH_FROM_PYPI = (
    "import urllib.request; "
    "print(urllib.request.urlopen('https://pypi.org/simple/six/', timeout=20).status)"
)


def _run_in(image: str, *command: str) -> str:
    result = subprocess.run(
        [podman(), "run", "--rm", *_LIMITS, image, *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"{command} in {image} failed:\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_tool_image_holds_its_files_and_base_image_reaches_pypi_over_tls(
    pytestconfig: pytest.Config,
) -> None:
    tool = ensure_image(TOOL_IMAGE, config=pytestconfig)

    assert _run_in(tool, "cat", MARKER_PATH) == MARKER_TEXT
    written = _run_in(tool, "sh", "-c", "dagyard-tool hello /tmp/out/x && cat /tmp/out/x")
    assert written == "tool: hello /tmp/out/x\nhello"
    assert (
        _run_in(ensure_image(BASE_IMAGE, config=pytestconfig), "python3", "-c", _FETCH_FROM_PYPI)
        == "200\n"
    )
