"""The build hook (hatch_build.py) on a source tree without the built web UI.

Building the UI from scratch (npm install, Vite) takes half a minute and is what
`make ui` does; `test_installed_wheel.py` checks that the wheel and the sdist carry the
built UI. Here: a source tree without it, on a machine without Node, stops the build
with an error that says what to do instead of producing a wheel without the UI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import uv

ROOT = Path(__file__).resolve().parents[2]


def test_a_tree_without_the_built_ui_and_without_node_fails_saying_what_to_do(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "src"
    ignored = shutil.ignore_patterns("ui_dist", "node_modules", "__pycache__")
    for name in ("dagyard", "ui"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignored)
    for name in ("pyproject.toml", "hatch_build.py", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    # PATH with this Python's folder only: uv and Python, no npm.
    no_node = Path(sys.executable).parent
    assert shutil.which("npm", path=str(no_node)) is None
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"} | {"PATH": str(no_node)}
    done = subprocess.run(
        [uv.find_uv_bin(), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(tree)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "dagyard/server/ui_dist/index.html is missing" in done.stderr
    assert "Node.js 20 with npm" in done.stderr and "make ui" in done.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))
