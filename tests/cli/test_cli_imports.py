"""What the `dagyard` command loads: a plain `dagyard run` of a compiled pipeline, and
`dagyard --version`, in real child processes that report their `sys.modules` at exit.

Most of such a command's time is imports; these pin the heavy ones it must not make: the
migration tool when no migration is due, the server's stack, the SDK and compilers, kfp,
the CEL parser of a pipeline without conditions, the REST client. Not a timing test: a
module that creeps back in fails it by name, whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dagyard import dsl
from dagyard.compiler import Compiler

# Loaded only where they are needed: migrating, serving, compiling, conditions, remote.
NEVER = (
    "alembic",
    "mako",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "kfp",
    "celpy",
    "lark",
    "ray",
    "dagyard.dsl",
    "dagyard.compiler",
    "dagyard.server",
    "dagyard.client",
)
# Runs the `dagyard` command as `python -m dagyard.cli` does, then writes the names of
# the loaded modules to the file named by the first argument.
REPORTER = """\
import json, runpy, sys
out = sys.argv.pop(1)
sys.argv[0] = "dagyard"
try:
    runpy.run_module("dagyard.cli", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


@dsl.component
def step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="imports-chain")
def chain(x: int = 0) -> None:
    step(x=step(x=step(x=x).output).output)


def loaded(tmp_path: Path, *args: str) -> tuple[object, set[str]]:
    """The exit code of `dagyard ARGS` and the modules it had loaded when it ended."""
    out = tmp_path / "modules.json"
    env = {**os.environ, "DAGYARD_HOME": str(tmp_path / "home")}
    subprocess.run(
        [sys.executable, "-c", REPORTER, str(out), *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    report = json.loads(out.read_text())
    return report["code"], set(report["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == n or name.startswith(f"{n}.") for n in NEVER)
    )


def test_a_cached_run_loads_no_migration_tool_server_sdk_or_cel(tmp_path: Path) -> None:
    pipeline = tmp_path / "chain.yaml"
    Compiler().compile(chain, str(pipeline))
    first, modules = loaded(tmp_path, "run", str(pipeline))  # creates and migrates the home
    assert first == 0 and "alembic" in modules
    again, modules = loaded(tmp_path, "run", str(pipeline))  # every task cached
    assert again == 0
    assert "dagyard.store.sql" in modules  # it did open the store
    assert heavy(modules) == []


def test_version_loads_no_store(tmp_path: Path) -> None:
    code, modules = loaded(tmp_path, "--version")
    assert code == 0
    assert heavy(modules) == []
    assert not [name for name in modules if name.startswith(("sqlalchemy", "dagyard.store.sql"))]
