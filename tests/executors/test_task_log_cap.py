"""A task attempt's log kept within its cap (`executors/logs.py`): its head, one line
saying how much was cut and why, and its tail; the middle punched out of the file while
the task still writes; the same layout shipped to a real S3-compatible store in chunks;
and the setting that sets the cap."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
from test_attempt_lifecycle import make_launch, stored

from dagyard.errors import UsageError
from dagyard.executors.lifecycle import Attempt, Host, default_environments
from dagyard.executors.logs import ALIGN, MARKER_ROOM, CappedLog, data_span
from dagyard.executors.staging import Staging, append_log
from dagyard.settings import DEFAULT_TASK_LOG_LIMIT, Settings

LIMIT = 64 << 10


def lines(first: int, count: int) -> bytes:
    return b"".join(b"line %08d\n" % n for n in range(first, first + count))


def append(path: Path, data: bytes) -> None:
    """Written as a task writes its log: appended through a file opened O_APPEND."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def test_a_log_past_its_cap_keeps_its_head_and_tail_whole_lines_with_the_cut_named(
    tmp_path: Path,
) -> None:
    log = tmp_path / "attempt-1.log"
    append(log, lines(0, 100_000))  # 1.4 MB, 14-byte lines
    cut = CappedLog(log, LIMIT).finish()

    text = log.read_bytes()
    assert len(text) <= LIMIT + MARKER_ROOM
    (marker,) = [line for line in text.splitlines() if line.startswith(b"dagyard: ")]
    assert marker.startswith(f"dagyard: {cut} bytes of this log were cut here".encode())
    assert b"DAGYARD_TASK_LOG_LIMIT=65536" in marker
    assert text.startswith(b"line 00000000\n") and text.endswith(b"line 00099999\n")
    # The head ends and the tail starts with whole lines, each side about half the cap.
    kept = text.replace(marker + b"\n", b"")
    assert all(len(line) == 13 for line in kept.splitlines())
    assert LIMIT - 2 * 4096 < len(kept) <= LIMIT
    assert cut == 100_000 * 14 - len(kept)


def test_a_log_within_its_cap_or_with_no_cap_is_left_as_it_is(tmp_path: Path) -> None:
    small, uncapped = tmp_path / "small.log", tmp_path / "uncapped.log"
    append(small, b"x" * (LIMIT + MARKER_ROOM))
    append(uncapped, lines(0, 100_000))
    assert CappedLog(small, LIMIT).finish() == 0
    assert CappedLog(uncapped, 0).finish() == 0
    assert small.stat().st_size == LIMIT + MARKER_ROOM
    assert uncapped.read_bytes() == lines(0, 100_000)


@pytest.mark.skipif(sys.platform != "linux", reason="holes are punched on Linux only")
def test_a_running_log_past_its_cap_holds_about_the_cap_on_disk_and_reads_over_its_hole(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "attempt-1.log"
    log = CappedLog(log_path, 1 << 20)
    for n in range(0, 40):  # 40 times 1.4 MB, trimmed as it grows
        append(log_path, lines(n * 100_000, 100_000))
        log.trim()
    size = log_path.stat().st_size
    assert size == 40 * 1_400_000  # every byte still counts in the file's length
    on_disk = log_path.stat().st_blocks * 512
    if on_disk > size // 2:
        pytest.skip(f"this file system ({tmp_path}) cannot punch holes")
    assert on_disk <= (1 << 20) + 3 * ALIGN

    start, end = data_span(log_path, 0) or (-1, -1)
    assert start == 0 and end < 2 * ALIGN
    with open(log_path, "rb") as f:
        before_hole = f.read(end)
    assert before_hole.startswith(b"line 00000000\n")
    assert b"dagyard: this log passed its cap (DAGYARD_TASK_LOG_LIMIT=1048576)" in before_hole
    after, last = data_span(log_path, end) or (0, 0)
    assert after > end and last == size  # the hole is stepped over, to the tail

    append(log_path, b"the end\n")
    log.finish()
    text = log_path.read_bytes()
    assert len(text) <= (1 << 20) + MARKER_ROOM and b"\x00" not in text
    assert text.startswith(b"line 00000000\n") and text.endswith(b"line 03999999\nthe end\n")
    assert text.count(b"dagyard: ") == 1 and b"bytes of this log were cut here" in text


def test_an_attempt_ships_its_capped_log_to_an_object_store(tmp_path: Path, s3_root: str) -> None:
    uri = f"{s3_root}/logs/loud.log"
    code = (
        "import os\n"
        "for n in range(200):\n"
        "    os.write(1, b''.join(b'line %08d\\n' % (n * 10000 + i) for i in range(10000)))\n"
        "os.write(1, b'the end\\n')\n"
    )
    launch = make_launch(
        tmp_path / "t", [sys.executable, "-c", code], Staging(log_uri=uri, log_interval=0.05)
    )
    host = Host(name="here", environments=default_environments(tmp_path / "envs"))
    try:
        outcome = Attempt(host, dataclasses.replace(launch, log_limit=LIMIT)).run()
    finally:
        host.close()
    assert outcome.ok, outcome
    text = stored(uri)
    assert text is not None and len(text) <= LIMIT + MARKER_ROOM
    assert text.startswith(b"line 00000000\n") and text.endswith(b"line 01999999\nthe end\n")
    assert b"bytes of this log were cut here" in text
    assert text == launch.log_path.read_bytes()  # the local copy is capped alike


def test_a_line_is_appended_to_a_log_in_an_object_store(s3_root: str) -> None:
    uri = f"{s3_root}/logs/appended.log"
    append_log(uri, "first\n")
    append_log(uri, "second\n")
    assert stored(uri) == b"first\nsecond\n"


def test_a_capped_log_read_while_it_grows_is_head_line_and_tail_so_far(tmp_path: Path) -> None:
    log_path = tmp_path / "attempt-1.log"
    append(log_path, lines(0, 100_000))
    found = CappedLog(log_path, LIMIT).pieces()
    assert found is not None
    size, pieces = found
    shipped = b"".join(pieces)
    assert size == 1_400_000 and len(shipped) <= LIMIT + MARKER_ROOM
    assert shipped.startswith(b"line 00000000\n") and shipped.endswith(b"line 00099999\n")
    assert b"dagyard: this log passed its cap" in shipped
    assert CappedLog(tmp_path / "none.log", LIMIT).pieces() is None


def test_the_task_log_limit_setting_takes_bytes_with_a_suffix_or_none(tmp_path: Path) -> None:
    def limit(value: str) -> int:
        env = {"DAGYARD_HOME": str(tmp_path), "DAGYARD_TASK_LOG_LIMIT": value}
        return Settings.from_env(env).task_log_limit

    assert Settings.from_env({"DAGYARD_HOME": str(tmp_path)}).task_log_limit == 100 << 20
    assert DEFAULT_TASK_LOG_LIMIT == 100 << 20
    assert limit("1048576") == limit("1M") == limit("1MiB") == limit("1024k") == 1 << 20
    assert limit("2G") == 2 << 30
    assert limit("0") == limit("none") == 0
    with pytest.raises(UsageError, match=r"DAGYARD_TASK_LOG_LIMIT='1.5M' must be a number of"):
        limit("1.5M")


def test_a_reader_waiting_for_the_hole_to_be_punched_sees_no_zeros(tmp_path: Path) -> None:
    """What the API reads (`data_span`) never includes the punched middle."""
    log_path = tmp_path / "attempt-1.log"
    log = CappedLog(log_path, 1 << 20)
    append(log_path, lines(0, 500_000))
    log.trim()
    size = log_path.stat().st_size
    offset, read = 0, b""
    with open(log_path, "rb") as f:
        while offset < size:
            start, end = data_span(log_path, offset) or (offset, size)
            f.seek(start)
            read += f.read(min(end, start + (1 << 20)) - start)
            offset = min(end, start + (1 << 20))
    assert b"\x00" not in read and read.endswith(b"line 00499999\n")
