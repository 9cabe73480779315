"""The build hook that puts the web UI into the wheel and the sdist.

The UI (ui/, React + Vite) is built into `dagyard/server/ui_dist/`, which is not in git.
Before hatchling collects the files of a wheel or an sdist, this hook builds it the way
`make ui` does (`npm install` with the lock file, then `npx vite build`) when the built
`index.html` is missing, or, in a git checkout, older than the UI's sources while Node is
at hand. An sdist carries the built files, so a wheel built from an sdist needs no Node.
Editable installs are left alone: they serve whatever `make ui` last built in the checkout.

Nothing else belongs here: the build's file lists are in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = Path("dagyard/server/ui_dist/index.html")
UI = Path("ui")
# What a build reads; node_modules and the UI's tests do not change the bundle's inputs.
SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts")


class UIBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Builds ui/ into dagyard/server/ui_dist/ when the built UI is missing or stale."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        root = Path(self.root)
        built, ui = root / BUILT, root / UI
        if built.is_file() and not _stale(root, built):
            return
        npm, npx = shutil.which("npm"), shutil.which("npx")
        if built.is_file() and (npm is None or npx is None):
            self.app.display_warning(
                f"The UI sources in {ui} changed after {BUILT} was built, and npm is not on "
                "PATH to rebuild it: packaging the UI as last built."
            )
            return
        if not (ui / "package.json").is_file():
            raise RuntimeError(
                f"This source tree has no built web UI ({BUILT} is missing) and no UI "
                f"sources to build it from ({UI / 'package.json'} is missing). Build from "
                "a complete checkout or from Dagyard's sdist, which carries the built UI."
            )
        if npm is None or npx is None:
            raise RuntimeError(
                f"The web UI is not built ({BUILT} is missing) and building it needs "
                "Node.js 20 with npm, which are not on PATH. Install them (for example "
                "`apt-get install nodejs npm`) and build again, or run `make ui` on a "
                "machine that has them, or build the wheel from Dagyard's sdist, which "
                "carries the built UI."
            )
        self.app.display_info(f"Building the web UI into {BUILT.parent} (npm, Vite)")
        modules = ui / "node_modules" / ".package-lock.json"
        lock = ui / "package-lock.json"
        if not modules.is_file() or modules.stat().st_mtime < lock.stat().st_mtime:
            # `npm install` with the lock file, as the Makefile does (not `npm ci`: npm 11
            # rejects its own lock files there when a package has per-platform builds).
            _run([npm, "install", "--no-fund", "--no-audit", "--loglevel=error"], cwd=ui)
            modules.touch()
        _run([npx, "vite", "build", "--logLevel", "warn"], cwd=ui)
        if not built.is_file():
            raise RuntimeError(f"`npx vite build` in {ui} finished without writing {BUILT}.")


def _stale(root: Path, built: Path) -> bool:
    """Whether a git checkout's UI sources changed after the UI was built.

    Only in a checkout: an unpacked sdist's file times say nothing (an installer may
    stamp each file with the time it was unpacked), and its built UI is the one to use.
    """
    if not (root / ".git").exists():
        return False
    than = built.stat().st_mtime
    for name in SOURCES:
        path = root / UI / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(file.is_file() and file.stat().st_mtime > than for file in files):
            return True
    return False


def _run(command: list[str], *, cwd: Path) -> None:
    try:
        subprocess.run(command, cwd=cwd, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError(
            f"Building the web UI failed: `{' '.join(command)}` in {cwd}: {e}. Its output "
            "is above; `make ui` runs the same steps."
        ) from e
