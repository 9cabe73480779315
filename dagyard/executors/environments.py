"""Python interpreters for lightweight components: the host's, or a cached virtual env.

Belongs here: judging whether an interpreter already satisfies a set of requirements
(`Interpreter`), and building one virtual environment per (requirements, index URLs,
Python version) once, under a cache folder, reused by every later task (`EnvironmentCache`).
Not here: reading command lines (`commands.py`) or running tasks (`local.py`).

An environment is built with `uv venv` + `uv pip install` when uv is found (the `uv`
package's binary, a dependency of Dagyard; else one next to the running Python or on
PATH), else with `python -m venv` + pip; the build's log and the environment's marker file
say which installer built it. Never with
`--system-site-packages`, so what a task imports is exactly what it asked for. Builders in
any number of threads or processes take a file lock per environment, build into a staging
folder and rename it into place with its marker file inside: an environment folder that
exists is complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.resources
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from dagyard.errors import ExecutorError
from dagyard.runtime import packages

MARKER = "dagyard-environment.json"
# Stdlib-only, so any Python can run it to judge its own packages.
_PACKAGES_SOURCE = importlib.resources.files("dagyard.runtime").joinpath("packages.py")


class Interpreter:
    """One Python executable and what is installed in it, asked once and remembered."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        # The running interpreter can answer in-process, without starting a Python.
        self._in_process = os.path.abspath(executable) == os.path.abspath(sys.executable)
        self._missing: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._version: str | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Implementation and version, e.g. 'cpython-3.11.7': part of an environment's key."""
        if self._version is None:
            if self._in_process:
                self._version = _version()
            else:
                self._version = self._ask(f"{inspect.getsource(_version)}\nprint(_version())")
        return self._version

    def missing(self, requirements: Sequence[str]) -> tuple[str, ...]:
        """Those of `requirements` this interpreter does not satisfy (the task runtime's rule)."""
        key = tuple(requirements)
        with self._lock:
            if key in self._missing:
                return self._missing[key]
        if self._in_process:
            missing = tuple(packages.missing_requirements(key))
        else:
            source = _PACKAGES_SOURCE.read_text(encoding="utf-8")
            code = f"{source}\nimport json\nprint(json.dumps(missing_requirements({list(key)!r})))"
            missing = tuple(json.loads(self._ask(code)))
        with self._lock:
            self._missing[key] = missing
        return missing

    def _ask(self, code: str) -> str:
        try:
            done = subprocess.run(
                [self.executable, "-c", code], capture_output=True, text=True, check=False
            )
        except OSError as e:
            raise ExecutorError(f"Cannot run the Python {self.executable!r}: {e}") from e
        if done.returncode != 0:
            raise ExecutorError(
                f"The Python interpreter {self.executable!r} failed to answer (exit code "
                f"{done.returncode}): {done.stderr.strip()[-500:]}"
            )
        return done.stdout.strip()


def _version() -> str:
    """This interpreter's implementation and version, e.g. 'cpython-3.11.7'."""
    import platform

    return f"{platform.python_implementation().lower()}-{platform.python_version()}"


def find_uv() -> str | None:
    """The uv executable: the `uv` package's, else one next to the running Python or on
    PATH; None when there is none (environments are then built with pip)."""
    try:
        from uv import find_uv_bin
    except ImportError:  # installed without its dependencies
        pass
    else:
        try:
            return find_uv_bin()
        except FileNotFoundError:  # the package without its binary
            pass
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


class EnvironmentCache:
    """Virtual environments under `root`, one per requirement set, built once and kept.

    `uv` is the uv executable to build with; "auto" finds one (`find_uv`), None means
    `python -m venv` and pip.
    """

    def __init__(self, root: Path, *, uv: str | Literal["auto"] | None = "auto") -> None:
        self.root = Path(root)
        self.uv = find_uv() if uv == "auto" else uv
        self._shims: dict[str, Path] = {}
        self._lock = threading.Lock()

    def key(
        self,
        requirements: Sequence[str],
        index_urls: Sequence[str],
        python_version: str,
        no_deps: Sequence[str] = (),
    ) -> str:
        """The folder name of the environment for these requirements (order-insensitive)."""
        identity: dict[str, object] = {
            "requirements": sorted(set(requirements)),
            "index_urls": list(index_urls),  # order matters: the first is the main index
            "python": python_version,
        }
        if no_deps:  # absent otherwise: the environments built before keep their names
            identity["no_deps"] = sorted(set(no_deps))
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]

    def interpreter(
        self,
        requirements: Sequence[str],
        index_urls: Sequence[str],
        *,
        python: Interpreter,
        log: BinaryIO,
        no_deps: Sequence[str] = (),
    ) -> Path:
        """The Python of the environment with `requirements`, built now if it does not exist.

        Those of `requirements` also in `no_deps` are installed after the others, without
        their dependencies (as pip's `--no-deps`). A build writes its progress and the
        installer's output to `log`. Raises ExecutorError if the environment cannot be
        built.
        """
        key = self.key(requirements, index_urls, python.version, no_deps)
        final = self.root / key
        if (final / MARKER).is_file():
            return final / "bin" / "python"
        self.root.mkdir(parents=True, exist_ok=True)
        alone = sorted(set(no_deps) & set(requirements))
        with _file_lock(self.root / f".{key}.lock"):
            if not (final / MARKER).is_file():  # another builder may have finished meanwhile
                wanted = sorted(set(requirements) - set(alone))
                self._build(final, (wanted, alone), list(index_urls), python, log)
        return final / "bin" / "python"

    def bin_dir_for(self, python: str) -> Path:
        """A folder whose `python3` runs `python`, to put first on a task's PATH.

        The interpreter's own folder when its `python3` is the same program (a venv's
        `bin`), else a shim folder holding a `python3` script that execs `python`. A
        script rather than a symlink: a symlink to a venv's Python would lose the venv,
        since Python finds `pyvenv.cfg` next to the path it was started as.
        """
        own = Path(python).parent / "python3"
        if own.exists() and os.path.realpath(own) == os.path.realpath(python):
            return own.parent
        with self._lock:
            if python in self._shims:
                return self._shims[python]
        folder = self.root / "shims" / hashlib.sha256(python.encode()).hexdigest()[:20]
        shim = folder / "python3"
        if not shim.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            staging = folder / f".python3.{os.getpid()}.{threading.get_ident()}"
            staging.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
            staging.chmod(0o755)
            os.replace(staging, shim)
        with self._lock:
            self._shims[python] = folder
        return folder

    def _build(
        self,
        final: Path,
        installs: tuple[list[str], list[str]],
        index_urls: list[str],
        python: Interpreter,
        log: BinaryIO,
    ) -> None:
        """Build the environment `final`: `installs` holds the requirements installed
        with their dependencies, then those installed without."""
        key = final.name
        requirements = [*installs[0], *installs[1]]
        for leftover in self.root.glob(f".{key}.staging-*"):  # from a crashed builder
            shutil.rmtree(leftover, ignore_errors=True)
        if final.exists():  # no marker: not ours to trust
            shutil.rmtree(final)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.staging-", dir=self.root))
        env = staging / "env"
        installer = "uv" if self.uv else "pip"
        how = f"uv ({self.uv})" if self.uv else "pip (no uv found)"
        wanted = " ".join(installs[0])
        if installs[1]:
            wanted = f"{wanted}, then without dependencies {' '.join(installs[1])}".lstrip(", ")
        _say(log, f"building the Python environment {key} with {how}: {wanted}")
        try:
            for command in self._commands(env, installs, index_urls, python):
                self._run(command, log, requirements)
            _relocate(env, final)
            marker = {
                "requirements": requirements,
                "no_deps": installs[1],
                "index_urls": index_urls,
                "python": python.version,
                "installer": installer,
            }
            (env / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
            env.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _say(log, f"built the Python environment {key} with {installer} in {final}")

    def _commands(
        self,
        env: Path,
        installs: tuple[list[str], list[str]],
        index_urls: list[str],
        python: Interpreter,
    ) -> list[list[str]]:
        """The commands that make the environment `env`: the venv, then one install per
        non-empty part of `installs` (with dependencies, then without)."""
        installers: list[list[str]] = []
        if self.uv:
            indexes: list[str] = []
            for i, url in enumerate(index_urls):
                indexes += ["--index-url" if i == 0 else "--extra-index-url", url]
            # Compiled as pip compiles what it installs: else every process (a zygote, a
            # task) compiles what it imports anew where .pyc files are not written.
            install = [self.uv, "pip", "install", "--compile-bytecode", "--python"]
            install.append(str(env / "bin" / "python"))
            commands = [[self.uv, "venv", "--quiet", "--python", python.executable, str(env)]]
            installers = [[*install, *indexes], [*install, "--no-deps", *indexes]]
        else:
            commands = [[python.executable, "-m", "venv", str(env)]]
            for extra in ([], ["--no-deps"]):
                pip = packages.pip_install_command(extra, index_urls)
                pip[0] = str(env / "bin" / "python")
                installers.append(pip)
        for installer, requirements in zip(installers, installs, strict=True):
            if requirements:
                commands.append([*installer, *requirements])
        return commands

    @staticmethod
    def _run(command: list[str], log: BinaryIO, requirements: list[str]) -> None:
        environ = dict(os.environ, UV_PYTHON_DOWNLOADS="never", PIP_DISABLE_PIP_VERSION_CHECK="1")
        environ.pop("VIRTUAL_ENV", None)  # uv would install into the caller's venv instead
        log.flush()
        try:
            code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=environ)
        except OSError as e:
            raise ExecutorError(f"Cannot run {command[0]!r} to build an environment: {e}") from e
        if code != 0:
            raise ExecutorError(
                f"Installing {' '.join(requirements)} failed ({Path(command[0]).name} exited "
                f"with code {code}; its output is in the task log). Check the requirement "
                "names, pip_index_urls and the network access of this machine."
            )


def _relocate(env: Path, final: Path) -> None:
    """Point the scripts in `env/bin` (entry points' shebangs, activate) at `final`."""
    old, new = str(env).encode(), str(final).encode()
    for script in (env / "bin").iterdir():
        if script.is_symlink() or not script.is_file() or script.stat().st_size > 1 << 20:
            continue
        content = script.read_bytes()
        if old in content:
            script.write_bytes(content.replace(old, new))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # flock locks belong to an open file description: they exclude other processes and
    # other threads of this one alike, since each caller opens the file itself.
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _say(log: BinaryIO, message: str) -> None:
    log.write(f"dagyard: {message}\n".encode())
    log.flush()
