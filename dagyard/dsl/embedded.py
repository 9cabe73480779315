"""What `@dsl.component(embedded_artifact_path=...)` packs into a component: a local file
or folder as a gzip'd tar, base64 text in the task's command line.

Belongs here: reading the path and packing it, the same bytes for the same files on any
machine (sorted names, no times or owners), or a DslError naming what to fix. Not here:
unpacking it in the task (`runtime/executor.py`) or writing the command (`runtime/embed.py`).

Why a limit: the archive travels as one command-line argument, and Linux refuses an
argument over 128 KiB (MAX_ARG_STRLEN) when the task is started. kfp has the same bound in
practice (its archive is inside the one argument that holds the source) and only warns
above 1 MB; Dagyard refuses at compile time what could not start.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import io
import os
import tarfile
from pathlib import Path

from dagyard.errors import DslError

# Compressed bytes: base64 makes 120 KiB of them, under Linux's 128 KiB per argument.
LIMIT = 90 * 1024


@dataclasses.dataclass(frozen=True)
class Embedded:
    """A packed file or folder: `archive` (base64 of a gzip'd tar) and `file`, the name in
    it of what an EmbeddedInput parameter gets (None: the folder itself)."""

    archive: str
    file: str | None


def pack(path: str | os.PathLike[str], *, component: str, what: str) -> Embedded:
    """Pack the file or folder at `path` for `component`; `what` names the argument that
    gave it, for messages. A file is packed under its own name and is the `file`."""
    source = Path(path)
    if not source.exists():
        raise DslError(
            f"{what} '{path}' of component '{component}' does not exist (a relative path is "
            f"read from the folder the compiler runs in, {os.getcwd()}). Give the path of a "
            "file or folder, e.g. os.path.join(os.path.dirname(__file__), 'data')."
        )
    buffer = io.BytesIO()
    # GzipFile with mtime=0, not tarfile's "w:gz" (which stamps the time): same files,
    # same bytes, so the component and its cache key do not change from one compile to the next.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        if source.is_dir():
            _add_folder(tar, source, buffer, component=component, what=what)
        else:
            _add_file(tar, source, source.name)
    _check_size(buffer, component=component, what=what, path=source)
    archive = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Embedded(archive, None if source.is_dir() else source.name)


def _add_folder(
    tar: tarfile.TarFile, folder: Path, buffer: io.BytesIO, *, component: str, what: str
) -> None:
    for root, dirs, files in os.walk(folder, followlinks=True):
        # Bytecode of whichever Python last imported the modules: not the user's files.
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        relative = Path(root).relative_to(folder)
        if relative != Path("."):
            info = tarfile.TarInfo(relative.as_posix())
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name in sorted(files):
            _add_file(tar, Path(root) / name, (relative / name).as_posix())
            # Checked as it grows, so a huge folder is refused without reading all of it.
            _check_size(buffer, component=component, what=what, path=folder)


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
    with path.open("rb") as f:
        tar.addfile(info, f)


def _check_size(buffer: io.BytesIO, *, component: str, what: str, path: Path) -> None:
    size = buffer.tell()
    if size > LIMIT:
        raise DslError(
            f"{what} '{path}' of component '{component}' packs to more than "
            f"{LIMIT // 1024} KiB compressed ({size // 1024} KiB so far); a component can "
            f"embed at most {LIMIT // 1024} KiB, because it travels in the task's command "
            "line, where Linux allows 128 KiB per argument. Put larger files in the image, "
            "or give them to the task as an input artifact (dsl.importer)."
        )
