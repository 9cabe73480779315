"""A task's volumes at their mount paths on a host without containers: the task runs in
a mount namespace of its own, where each volume's folder is bind-mounted at its path.

Belongs here: `isolated` (the command line that does it, for the executor) and the
program that command runs (`python -I mounts.py SPEC -- COMMAND...`: set the namespace
up, then exec COMMAND). Standard library only when run as that program. Not here: which
folders a task gets (the engine's `volumes.py`).

How a path the host does not have (/mnt/data, /data) appears without writing to the
host: after unshare(CLONE_NEWNS) and making every mount private (nothing done here is
seen outside), a missing mount point's deepest existing ancestor is shadowed by a tmpfs
holding one entry per entry of that folder, each bind-mounted from the original
(symbolic links copied), and the mount point is made in the tmpfs. The shadow is moved
over the ancestor; when the ancestor is / itself, the task is chroot'ed into the shadow
instead (a mount over / would not be seen by the process's root). The host's folders
are never created nor written; a path that exists is simply mounted over. Where this
cannot be done (not Linux, not root), `isolated` refuses, and the task does not run.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from dagyard.executors.base import Bind

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 0x1
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_MOVE = 0x2000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18


def isolated(argv: Sequence[str], binds: Sequence[Bind], scratch: Path) -> list[str]:
    """The command line that runs `argv` with `binds` mounted, in its own mount
    namespace; `scratch` (the attempt's, removed at its end) holds the empty mount points
    of shadow folders. ExecutorError where this host cannot do it."""
    from dagyard.errors import ExecutorError

    paths = ", ".join(repr(b.target) for b in binds)
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        raise ExecutorError(
            f"The task expects volumes mounted at {paths}, which needs a mount namespace of "
            "its own: Dagyard makes one on Linux, as root, and this host is "
            f"{sys.platform}, user id {os.geteuid()}. The task is not run, so that it never "
            "reads or writes the host's own folders at those paths. Run Dagyard as root, or "
            "with a container runtime (DAGYARD_CONTAINER_RUNTIME), or on Kubeflow Pipelines."
        )
    spec = {
        "scratch": str(scratch),
        "binds": [[str(b.source), b.target, b.read_only] for b in binds],
    }
    return [sys.executable, "-I", os.path.abspath(__file__), json.dumps(spec), "--", *argv]


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc: Any, source: str | None, target: str, kind: str | None, flags: int) -> None:
    encoded = [None if v is None else v.encode() for v in (source, target, kind)]
    if libc.mount(encoded[0], encoded[1], encoded[2], ctypes.c_ulong(flags), None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/")) if root != "/" else path


def _shadow(libc: Any, folder: str, scratch: str) -> str:
    """A tmpfs showing what `folder` holds (each entry bind-mounted from it), whose new
    entries are made in memory only."""
    os.makedirs(scratch, exist_ok=True)
    shadow = tempfile.mkdtemp(prefix=".shadow-", dir=scratch)
    _mount(libc, "tmpfs", shadow, "tmpfs", 0)
    os.chmod(shadow, os.stat(folder).st_mode & 0o7777)
    for entry in os.scandir(folder):
        here = os.path.join(shadow, entry.name)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), here)
            continue
        if entry.is_dir():
            os.mkdir(here)
        else:
            open(here, "w").close()
        _mount(libc, entry.path, here, None, _MS_BIND | _MS_REC)
    return shadow


def enter(binds: list[list[Any]], scratch: str) -> None:
    """Move this process into a mount namespace where each [source, target, read_only]
    of `binds` is mounted (the module's docstring says how)."""
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare(CLONE_NEWNS): {os.strerror(errno)}")
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    cwd = os.getcwd()
    root = "/"
    for source, target, read_only in sorted(binds, key=lambda b: os.path.normpath(b[1]).count("/")):
        target = os.path.normpath(target)
        point = _inside(root, target)
        if not os.path.isdir(point):
            ancestor = os.path.dirname(target)
            while not os.path.isdir(_inside(root, ancestor)):
                ancestor = os.path.dirname(ancestor)
            shadow = _shadow(libc, _inside(root, ancestor), scratch)
            if ancestor == "/":
                root = shadow
            else:
                _mount(libc, shadow, _inside(root, ancestor), None, _MS_MOVE)
            point = _inside(root, target)
            os.makedirs(point, exist_ok=True)
        _mount(libc, source, point, None, _MS_BIND | _MS_REC)
        if read_only:
            _mount(libc, None, point, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY)
    if root != "/":
        os.chroot(root)
    os.chdir(cwd)


def _main(args: list[str]) -> None:
    spec = json.loads(args[0])
    command = args[2:]
    try:
        enter(spec["binds"], spec["scratch"])
    except OSError as e:
        sys.stderr.write(f"dagyard: cannot mount the task's volumes: {e}\n")
        sys.exit(1)
    try:
        os.execvp(command[0], command)
    except OSError as e:
        sys.stderr.write(f"dagyard: Cannot start {command[0]!r}: {e}\n")
        sys.exit(127)


if __name__ == "__main__":
    _main(sys.argv[1:])
