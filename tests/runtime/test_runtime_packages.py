"""Which `packages_to_install` a task must install, judged against this interpreter."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from dagyard.runtime.packages import missing_requirements, pip_install_command

PYTEST = metadata.version("pytest")


@pytest.mark.parametrize(
    "requirement",
    [
        "pytest",
        "PyTest",  # names compare after PEP 503 normalisation
        "pytest_xdist",
        "PYTEST.XDIST",
        "pyyaml",
        f"pytest=={PYTEST}",
        f"pytest == {PYTEST}",
        "pytest>=1,<1000",
        "pytest[testing]>=1",
        "no-such-dist-for-dagyard; python_version < '3'",  # not meant for this interpreter
    ],
)
def test_installed_requirements_are_not_missing(requirement: str) -> None:
    assert missing_requirements([requirement]) == []


@pytest.mark.parametrize(
    "requirement",
    [
        "no-such-dist-for-dagyard",
        "pytest==0.0.1",
        f"pytest=={PYTEST}.post9",  # an == pin must match exactly
        "pytest<1",
        "pytest @ https://example.invalid/pytest.whl",
        "git+https://example.invalid/pytest.git",
        "./local/pytest",
    ],
)
def test_missing_pinned_and_url_requirements_are_missing(requirement: str) -> None:
    assert missing_requirements([requirement]) == [requirement]


def test_only_the_missing_requirements_are_returned_in_order() -> None:
    wanted = ["zzz-no-such-dist", "pytest", "aaa-no-such-dist", "pyyaml"]
    assert missing_requirements(wanted) == ["zzz-no-such-dist", "aaa-no-such-dist"]


def test_pip_command_uses_index_urls_and_trusts_plain_http_hosts() -> None:
    urls = ["http://10.0.0.5:8080/simple", "https://pypi.org/simple", "http://10.0.0.5/other"]
    assert pip_install_command(["a==1", "b"], urls) == [
        sys.executable,
        *("-m", "pip", "install", "--quiet", "--no-warn-script-location"),
        "--disable-pip-version-check",
        *("--index-url", "http://10.0.0.5:8080/simple"),
        *("--extra-index-url", "https://pypi.org/simple"),
        *("--extra-index-url", "http://10.0.0.5/other"),
        *("--trusted-host", "10.0.0.5"),
        "a==1",
        "b",
    ]


def test_pip_command_without_index_urls_uses_pips_own_configuration() -> None:
    command = pip_install_command(["a"], [])
    assert command[-1] == "a"
    assert not {"--index-url", "--extra-index-url", "--trusted-host"} & set(command)
