"""Making sure a lightweight component's `packages_to_install` are present.

Belongs here: deciding which requirements are missing from the task's interpreter and
installing only those with pip. Shipped inside every compiled component with
`executor.py` (see `embed.py`), so: standard library only, Python 3.9 or later.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any


def ensure_packages(requirements: Sequence[str], index_urls: Sequence[str]) -> bool:
    """Install those of `requirements` that are not installed; False if pip failed."""
    missing = missing_requirements(requirements)
    if not missing:
        return True
    print(f"dagyard: installing missing packages: {' '.join(missing)}", file=sys.stderr, flush=True)
    import subprocess

    code = subprocess.call(pip_install_command(missing, index_urls))
    if code != 0:
        print(
            f"dagyard: pip install of {' '.join(missing)} failed with exit code {code}; check the "
            "requirement names, pip_index_urls and the network access of the task.",
            file=sys.stderr,
            flush=True,
        )
        return False
    import importlib

    importlib.invalidate_caches()  # so the fresh packages are importable by this process
    return True


def missing_requirements(requirements: Sequence[str]) -> list[str]:
    """The requirements that the running interpreter does not already satisfy."""
    installed = _installed_versions() if requirements else {}
    return [r for r in requirements if not _satisfied(r, installed)]


def pip_install_command(requirements: Sequence[str], index_urls: Sequence[str]) -> list[str]:
    """The pip command line that installs `requirements` into this interpreter."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-script-location"]
    command.append("--disable-pip-version-check")
    trusted: list[str] = []
    for i, url in enumerate(index_urls):
        command += ["--index-url" if i == 0 else "--extra-index-url", url]
        host = _http_host(url)
        if host and host not in trusted:
            trusted.append(host)
    for host in trusted:
        command += ["--trusted-host", host]
    return command + list(requirements)


def _http_host(url: str) -> str | None:
    # pip refuses plain-http indexes unless their host is trusted explicitly.
    if not url.lower().startswith("http://"):
        return None
    from urllib.parse import urlsplit

    return urlsplit(url).hostname


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _installed_versions() -> dict[str, str]:
    from importlib import metadata

    versions: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:  # the first one found on sys.path is the one that imports
            versions.setdefault(_normalise(name), dist.version)
    return versions


_REQUIREMENT = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?(.*)")


def _satisfied(requirement: str, installed: dict[str, str]) -> bool:
    match = _REQUIREMENT.fullmatch(requirement.strip())
    if match is None or "://" in requirement or "@" in match.group(3):
        return False  # a URL, a path or a pip option: let pip decide every time
    spec, _, marker = match.group(3).partition(";")
    markers = _packaging("markers") if marker.strip() else None
    if markers is not None and not markers.Marker(marker.strip()).evaluate():
        return True  # not meant for this interpreter or platform
    version = installed.get(_normalise(match.group(1)))
    if version is None:
        return False
    spec = spec.strip().strip("()").strip()
    clauses = [c.strip() for c in spec.split(",")] if spec else []
    if len(clauses) == 1 and re.fullmatch(r"==\s*[^=*\s]+", clauses[0]):
        return version == clauses[0][2:].strip()
    if not clauses:
        return True
    specifiers = _packaging("specifiers")
    if specifiers is None:
        return True  # cannot judge without `packaging`: any installed version will do
    try:
        return bool(specifiers.SpecifierSet(spec).contains(version, prereleases=True))
    except Exception:
        return False  # a specifier `packaging` cannot read: let pip judge it


def _packaging(submodule: str) -> Any:
    """`packaging.<submodule>`, or pip's vendored copy (every pip has one), or None."""
    import importlib

    for package in ("packaging", "pip._vendor.packaging"):
        try:
            return importlib.import_module(f"{package}.{submodule}")
        except ImportError:
            pass
    return None
