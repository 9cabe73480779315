"""An attempt's log kept within its cap (`Launch.log_limit`): its head and its tail, with
one line between them saying how many bytes were cut, and why.

Belongs here: the layout of a capped log and the three ways of making it. While the task
runs, `CappedLog.trim` punches the middle out of the file (a hole: the disk holds about
the cap, though the file's length still counts every byte the task wrote, so that the
task's appends and a reader's offsets go on as before); as the attempt ends, `finish`
rewrites the file in place as head + line + tail; `pieces` reads the same layout from the
file, for a store that cannot hold a file with a hole (`staging.LogShipper`). And
`LogKeeper`, which does the first while the attempt runs (and ships, given a store URI),
and the second at its end. Every copy goes through a buffer of `CHUNK` bytes: memory stays
flat whatever the task prints. Not here: when an attempt starts or ends (`lifecycle.py`),
how bytes reach a store (`staging.py`), reading logs for the API (`service/logs.py`, which
steps over a hole with `data_span`).

Before the end, a log past its cap reads as its head, a line saying that it passed the
cap, then the hole (read as nothing by `data_span`'s callers) and what the task printed
last. A system without hole punching (not Linux, or a file system without it) keeps the
whole file until the attempt ends, then caps it all the same.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from dagyard.executors.staging import LogShipper

SETTING = "DAGYARD_TASK_LOG_LIMIT"
# A log up to this much past its cap is left whole: the line saying what was cut would
# take about as much room as it saves.
MARKER_ROOM = 512
# Copies and reads go through buffers of this size.
CHUNK = 1 << 20
# Holes start and end on this boundary: a multiple of every file system's block size, so
# that punching never zeroes the task's bytes around a hole.
ALIGN = 1 << 20
# How far the head's end and the tail's start may move to fall between two lines.
LINE_SEARCH = 4096
# How often a running attempt's log is checked against its cap (seconds).
TRIM_SECONDS = 0.25

_PUNCH_HOLE = 0x02  # FALLOC_FL_PUNCH_HOLE
_KEEP_SIZE = 0x01  # FALLOC_FL_KEEP_SIZE


class CappedLog:
    """The log file at `path`, kept to `limit` bytes (0: no cap) plus one line."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.head = limit // 2
        self.tail = limit - self.head
        # The line written at `head` once the running log passes its cap, then the offset
        # up to which the middle has been punched out, and whether punching works here.
        self._passed = _passed_line(limit, self.tail)
        self._punched = 0
        self._can_punch = sys.platform == "linux"

    def over(self, size: int) -> bool:
        """Whether a log of `size` bytes is cut."""
        return self.limit > 0 and size > self.limit + MARKER_ROOM

    def trim(self) -> None:
        """Punch the middle out of the running log if it is past its cap, the line saying
        so written after the head. Does nothing where punching is not supported."""
        if not self._can_punch or self.limit <= 0:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            size = os.fstat(fd).st_size
            if not self.over(size):
                return
            start = _align_up(self.head + len(self._passed))
            end = (size - self.tail) // ALIGN * ALIGN
            if end <= max(start, self._punched):
                return
            if not self._punched:
                os.pwrite(fd, self._passed, self.head)
            self._can_punch = _punch(fd, start, end - start)
            self._punched = end
        except OSError:
            return  # a full disk, say: the end of the attempt caps it all the same
        finally:
            os.close(fd)

    def finish(self) -> int:
        """Rewrite the ended attempt's log as its head, a line saying what was cut, and
        its tail, in place; the bytes cut (0 if the log is within its cap)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return 0
        try:
            size = os.fstat(fd).st_size
            if not self.over(size):
                return 0
            head = _line_end(fd, self.head)
            tail = _line_start(fd, size - self.tail)
            cut = tail - head
            ends_line = head == 0 or os.pread(fd, 1, head - 1) == b"\n"
            line = cut_line(cut, self.limit, newline=not ends_line)
            os.pwrite(fd, line, head)
            # Forward, chunk by chunk: the tail moves towards the start, never over
            # bytes not yet copied (it starts past the head and the line).
            target = head + len(line)
            for offset in range(tail, size, CHUNK):
                piece = os.pread(fd, min(CHUNK, size - offset), offset)
                os.pwrite(fd, piece, target + offset - tail)
            os.ftruncate(fd, target + size - tail)
            return cut
        except OSError:
            return 0
        finally:
            os.close(fd)

    def pieces(self) -> tuple[int, Iterator[bytes]] | None:
        """The log as the store keeps it, in chunks: all of it within its cap, else its
        head, the line saying it passed the cap, and its tail as far as written now;
        with the file's size when read. None if there is no file."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return None
        if not self.over(size):
            return size, _read(self.path, 0, size)
        parts = [
            _read(self.path, 0, self.head),
            iter((self._passed,)),
            _read(self.path, size - self.tail, size),
        ]
        return size, (piece for part in parts for piece in part)


def cut_line(cut: int, limit: int, *, newline: bool = False) -> bytes:
    """The line that stands for `cut` bytes taken out of a log capped at `limit`."""
    text = (
        f"dagyard: {cut} bytes of this log were cut here: a task's log keeps its first "
        f"and last {limit // 2} bytes ({SETTING}={limit}; raise it, or set 0 for no cap, "
        "to keep more)\n"
    )
    return ("\n" if newline else "").encode() + text.encode()


def find_cut(window: bytes) -> tuple[int, int, int] | None:
    """In `window`, a piece of a capped log, the line `cut_line` wrote: where it starts
    and where the tail after it starts, in the window, and the bytes it says were cut
    (so the tail's first byte was at the line's start + cut before); None if it is not
    there. (When the head had to end mid-line, the line starts with a newline of its
    own, which this counts as the head's: one byte off.)"""
    start = window.find(_CUT_START)
    while start >= 0:
        end = window.find(b"\n", start + len(_CUT_START))
        words = window[start + len(_CUT_START) : end].split(b" ", 1)
        if end >= 0 and words[0].isdigit() and words[1:] and words[1].startswith(_CUT_WORDS):
            return start + 1, end + 1, int(words[0])
        start = window.find(_CUT_START, start + 1)
    return None


_CUT_START = b"\ndagyard: "
_CUT_WORDS = b"bytes of this log were cut here"


def _passed_line(limit: int, tail: int) -> bytes:
    return (
        f"\ndagyard: this log passed its cap ({SETTING}={limit}): what the task prints "
        f"next is cut as it comes, but for the last {tail} bytes\n"
    ).encode()


class LogKeeper:
    """Keeps a running attempt's log within its cap and, given `ship_to`, in the store
    (`staging.LogShipper`); `close` caps it for good and ships it a last time.
    ExecutorError if `ship_to` cannot be opened.

    A log kept on this host only is trimmed by the process's one `_Trimmer` thread,
    with every other running log: a thread started and joined for each attempt cost
    trivial tasks a tenth of their speed. A shipped log has a thread of its own, which
    trims it too."""

    def __init__(
        self, path: Path, *, limit: int, ship_to: str | None = None, interval: float = 1.0
    ) -> None:
        self.log = CappedLog(path, limit)
        self._shipper = LogShipper(self.log.pieces, ship_to, interval) if ship_to else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trimmed = False
        if self._shipper is not None:
            ticks: list[Callable[[], None]] = [self._shipper.tick]
            if limit > 0:
                ticks.insert(0, self.log.trim)
            self._thread = threading.Thread(
                target=self._loop,
                args=(ticks, min(TRIM_SECONDS, interval)),
                name="dagyard-log-keeper",
                daemon=True,
            )
            self._thread.start()
        elif limit > 0:
            _TRIMMER.add(self.log)
            self._trimmed = True

    def close(self) -> None:
        """Stop, cap the log, and ship it a last time. Nothing raised: how the log is
        kept must not change how the attempt ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._trimmed:
            _TRIMMER.remove(self.log)  # returns once no trim of it is under way
        self.log.finish()
        if self._shipper is not None and not self._shipper.close():
            with contextlib.suppress(OSError), open(self.log.path, "ab") as log:
                log.write(f"dagyard: cannot upload this log to {self._shipper.uri}\n".encode())

    def _loop(self, ticks: list[Callable[[], None]], every: float) -> None:
        while not self._stop.wait(every):
            for tick in ticks:
                tick()


class _Trimmer:
    """One thread, started with the first log given, that trims every running log of
    this process every `TRIM_SECONDS` (`CappedLog.trim`)."""

    def __init__(self) -> None:
        # Held while a pass trims, so that `remove` returns only once none touches the log.
        self._lock = threading.Lock()
        self._logs: set[CappedLog] = set()
        self._thread: threading.Thread | None = None

    def add(self, log: CappedLog) -> None:
        with self._lock:
            self._logs.add(log)
            if self._thread is None or not self._thread.is_alive():
                # A fork's child has the set but not the thread: it starts its own.
                self._thread = threading.Thread(
                    target=self._loop, name="dagyard-log-trimmer", daemon=True
                )
                self._thread.start()

    def remove(self, log: CappedLog) -> None:
        with self._lock:
            self._logs.discard(log)

    def _loop(self) -> None:
        while True:
            time.sleep(TRIM_SECONDS)
            with self._lock:
                for log in list(self._logs):
                    log.trim()


_TRIMMER = _Trimmer()


def note(log: BinaryIO, line: str) -> None:
    """Add a line of ours to an attempt's open log; a log on a full disk goes without it
    (the attempt's error says it all the same)."""
    with contextlib.suppress(OSError):
        log.write(line.encode())


def data_span(path: Path, offset: int) -> tuple[int, int] | None:
    """Where the bytes of a file with holes are from `offset` on: the first byte at or
    after `offset` that is not in a hole, and the end of that run of bytes (a hole's
    start, or the file's end). None where the system cannot say, or past the end."""
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        start = os.lseek(fd, offset, seek_data)
        return start, os.lseek(fd, start, seek_hole)
    except OSError:  # ENXIO: nothing but a hole, if anything, from `offset` on
        return None
    finally:
        os.close(fd)


def _read(path: Path, start: int, end: int) -> Iterator[bytes]:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        f.seek(start)
        while start < end:
            piece = f.read(min(CHUNK, end - start))
            if not piece:
                return
            start += len(piece)
            yield piece


def _line_end(fd: int, at: int) -> int:
    """`at`, or just after the last newline of the `LINE_SEARCH` bytes before it."""
    before = os.pread(fd, min(LINE_SEARCH, at), at - min(LINE_SEARCH, at))
    found = before.rfind(b"\n")
    return at if found < 0 else at - len(before) + found + 1


def _line_start(fd: int, at: int) -> int:
    """`at`, or just after the first newline of the `LINE_SEARCH` bytes from it."""
    after = os.pread(fd, LINE_SEARCH, at)
    found = after.find(b"\n")
    return at if found < 0 or found + 1 == len(after) else at + found + 1


def _align_up(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


_fallocate: Callable[..., int] | None = None


def _punch(fd: int, offset: int, length: int) -> bool:
    """Free the disk blocks of `length` bytes at `offset` (they read as zeros); whether
    this system can (False: never try again for this log)."""
    global _fallocate
    if _fallocate is None:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.fallocate
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        function.restype = ctypes.c_int
        _fallocate = function
    if _fallocate(fd, _PUNCH_HOLE | _KEEP_SIZE, offset, length) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code))
