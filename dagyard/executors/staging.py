"""Copies between an object-store artifact root and an attempt's local folder, made on
the host that runs the attempt.

Belongs here: downloading an attempt's input artifacts before it starts, uploading what it
wrote after it succeeds, and shipping its log file to the store while it runs. Not here:
deciding what goes where (the engine builds the `Staging` of each attempt) or running the
command (`lifecycle.py` calls these functions around it, on the attempt's host). With a
local artifact root a `Staging` is empty: nothing to copy, and each function does nothing.

Task code only ever sees local paths: when the artifact root is an object store (say
`s3://bucket/prefix`), the engine gives the task local files under its scratch folder and
a `Staging` saying which store URI each one stands for. An attempt that fails uploads
nothing but its log. An output that is, or holds, a symbolic link leading out of the
folder it was written in is not uploaded: the attempt fails, naming the link and its
target. Object stores have no append: the log is uploaded whole (as `logs.CappedLog`
cuts it: at most its cap), streamed in chunks, at most once per `log_interval` seconds
while it grows (less often once it is past a few MiB, so that the bytes sent per second
stay bounded: `ship_every`), and once more at the end.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from dagyard.errors import ExecutorError, StoreError
from dagyard.store.artifact_store import leaving_link, open_url


@dataclasses.dataclass(frozen=True)
class Staging:
    """What to copy for one attempt (empty: nothing). Plain strings, so that it crosses
    to cluster hosts."""

    # (store URI, local path): inputs, fetched before the command starts.
    downloads: tuple[tuple[str, str], ...] = ()
    # (local path, store URI): outputs, sent after the command succeeded; a path the
    # command did not write is skipped (the engine then reports the missing output).
    uploads: tuple[tuple[str, str], ...] = ()
    # Where the attempt's log file goes; None: the log stays where the executor wrote it.
    log_uri: str | None = None
    log_interval: float = 1.0


def stage_in(staging: Staging) -> None:
    """Fetch every download and make the folders the outputs go in; an ExecutorError
    names the first download that failed. An input that does not exist is left out, as
    with a local store: the task finds no file at its path and decides."""
    for local, _ in staging.uploads:
        Path(local).parent.mkdir(parents=True, exist_ok=True)
    for uri, local in staging.downloads:
        fs, path = _open(uri)
        try:
            if fs.isdir(path):
                Path(local).mkdir(parents=True, exist_ok=True)
                fs.get(path.rstrip("/") + "/", local.rstrip(os.sep) + os.sep, recursive=True)
            else:
                Path(local).parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(path, local)
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as e:
            raise ExecutorError(f"Cannot fetch input artifact {uri!r}: {_reason(e)}") from e


def stage_out(staging: Staging) -> None:
    """Send every upload whose local file or folder exists; an ExecutorError for one
    that is, or holds, a symbolic link leading out of its folder."""
    for local, uri in staging.uploads:
        source = Path(local)
        found = leaving_link(source, within=source.parent)
        if found is not None:
            raise ExecutorError(
                f"Output {source.name!r} is a symbolic link (or holds one: {str(found[0])!r}) "
                f"to {found[1]!r}, outside the task's folder; write or copy the file itself "
                "into the output's path instead of linking to it."
            )
        if not source.exists():
            continue
        fs, path = _open(uri)
        try:
            if source.is_dir():
                for file in sorted(p for p in source.rglob("*") if p.is_file()):
                    relative = file.relative_to(source).as_posix()
                    fs.put_file(str(file), path.rstrip("/") + "/" + relative)
            else:
                fs.put_file(local, path)
        except (OSError, ValueError) as e:
            raise ExecutorError(f"Cannot upload output to {uri!r}: {_reason(e)}") from e


def append_log(uri: str, text: str) -> None:
    """Add `text` to the end of the log at `uri`: appended to a local file; on an object
    store (which cannot append), copied in chunks with `text` after it to a new object
    that then takes its place."""
    fs, path = _open(uri)
    try:
        if isinstance(fs, LocalFileSystem):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as log:
                log.write(text.encode())
            return
        staged = path + ".appending"
        with fs.open(staged, "wb", block_size=UPLOAD_BLOCK) as out:
            if fs.exists(path):
                with fs.open(path, "rb", block_size=UPLOAD_BLOCK) as before:
                    while piece := before.read(UPLOAD_BLOCK):
                        out.write(piece)
            out.write(text.encode())
        fs.mv(staged, path)
    except (OSError, ValueError) as e:
        raise ExecutorError(f"Cannot write the log at {uri!r}: {_reason(e)}") from e


# A log up to this size is shipped every interval; a bigger one as often as keeps the
# upload to about this many bytes per interval (a 100 MiB log: every 25 intervals).
LOG_STEP = 4 << 20
# Uploads are written through a buffer of this size (the smallest part of a multipart
# upload to S3): a log is never held whole in memory.
UPLOAD_BLOCK = 5 << 20


def ship_every(interval: float, size: int) -> float:
    """Seconds between two uploads of a log of `size` bytes, at `interval` for a small one."""
    return interval * max(1.0, size / LOG_STEP)


class LogShipper:
    """Uploads a growing log to `uri`: what `read` gives (the log file's size, and the
    bytes to store, in chunks; None while there is no file). On `tick`, at most once per
    `ship_every` seconds and only if the file has changed; on `close`, once more."""

    def __init__(
        self,
        read: Callable[[], tuple[int, Iterator[bytes]] | None],
        uri: str,
        interval: float,
    ) -> None:
        self._read = read
        self.uri = uri
        self._interval = interval
        self._fs, self._target = _open(uri)
        self._seen = -1  # the file's size at the last upload
        self._due = time.monotonic() + interval

    def tick(self) -> None:
        """Upload the log if it is due and has changed since the last upload."""
        now = time.monotonic()
        if now >= self._due:
            sent = self._ship(final=False)
            self._due = now + ship_every(self._interval, sent)

    def close(self) -> bool:
        """Upload the final log; whether that worked (an error is not raised: a log that
        cannot be uploaded must not change how the attempt ended)."""
        return self._ship(final=True) >= 0

    def _ship(self, *, final: bool) -> int:
        """Upload the log if it changed (or is final); the bytes sent (0 if unchanged,
        -1 if the upload failed)."""
        found = self._read()
        if found is None or (found[0] == self._seen and not final):
            return 0
        size, pieces = found
        sent = 0
        try:
            with self._fs.open(self._target, "wb", block_size=UPLOAD_BLOCK) as out:
                for piece in pieces:
                    out.write(piece)
                    sent += len(piece)
        except (OSError, ValueError):
            return -1
        self._seen = size
        return sent


def _open(uri: str) -> tuple[Any, str]:
    try:
        return open_url(uri)
    except StoreError as e:
        raise ExecutorError(str(e)) from e


def _reason(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "it does not exist"
    return str(error) or type(error).__name__
