"""Task logs: the merged stdout+stderr of each attempt, read in pieces while it grows.

A log is read by byte offset, so that a caller tailing a running task asks for what came
after its last piece. A cached task has no log of its own: its log is the one of the task
whose outputs it reused.

A log is kept within its cap (DAGYARD_TASK_LOG_LIMIT, `executors.logs`): while its task
runs past the cap, the middle of a local log file is a hole, which a read steps over (the
piece then starts later than asked: `next_offset` says where it ended). Once the task
has ended, the log is its head, a line saying how much was cut, and its tail: a reader
that had followed it past that length goes on where it was in the tail (on an object
store, where a running log past its cap is shipped as head + line + tail so far, a
follower may see part of the tail twice or miss some of it). Every read is ranged: no
log is held whole in memory.

A namespace token reads the logs of its namespace's runs only: of a task reused from
the cache of a run it cannot see, it gets the task's own log (empty), not that run's.
"""

from __future__ import annotations

import dataclasses

from dagyard.errors import NotFound, StoreError, UsageError
from dagyard.executors.logs import data_span, find_cut
from dagyard.service.platform import Platform
from dagyard.service.runs import find_task, sees_run, visible_run
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.records import Task

# The most a single read returns; a caller reads on from `next_offset`.
MAX_LOG_CHUNK_BYTES = 1 << 20
# How far from the middle of a capped log the line saying what was cut is looked for:
# its head and tail each end up to a few KiB short of half the cap, to end on a line.
CUT_SEARCH = 16 << 10


@dataclasses.dataclass(frozen=True)
class LogChunk:
    """A piece of an attempt's log, from `offset` up to `next_offset` (bytes)."""

    task: Task
    attempt: int
    offset: int
    next_offset: int
    size: int
    text: str
    # The task has ended, so the log will not grow any more.
    complete: bool
    # The task whose log this is: `task` itself, or the one whose outputs it reused.
    source: Task


def read_log(
    platform: Platform,
    run_id: str,
    task_ref: str,
    *,
    attempt: int | None = None,
    offset: int = 0,
    limit: int = MAX_LOG_CHUNK_BYTES,
    principal: Principal = ADMIN,
) -> LogChunk:
    """Bytes `offset`.. of the log of attempt `attempt` (default: the latest) of the task
    `task_ref` (its id, path or name) of a run, as text cut at a whole character.
    NotFound, as for an unknown run, when `principal` cannot see the run."""
    if not principal.admin:  # the admin is answered as ever: an unknown run has no task
        visible_run(platform, run_id, principal=principal)
    task = find_task(platform, run_id, task_ref)
    if not principal.admin and task.cache_hit and task.cached_from_task_id:
        source = platform.store.get_task(task.cached_from_task_id)
        if source.run_id != run_id and not sees_run(platform, source.run_id, principal=principal):
            task = dataclasses.replace(task, cached_from_task_id=None)
    return read_task_log(platform, task, attempt=attempt, offset=offset, limit=limit)


def read_task_log(
    platform: Platform,
    task: Task,
    *,
    attempt: int | None = None,
    offset: int = 0,
    limit: int = MAX_LOG_CHUNK_BYTES,
) -> LogChunk:
    """As `read_log`, for a task record in hand (a caller following many tasks reads
    their records once per pass, not once per log)."""
    if offset < 0:
        raise UsageError(f"offset {offset} is negative; logs are read from byte 0 on.")
    # At least one whole UTF-8 character (up to 4 bytes) fits, so every read moves on.
    if not 4 <= limit <= MAX_LOG_CHUNK_BYTES:
        raise UsageError(f"limit must be between 4 and {MAX_LOG_CHUNK_BYTES} bytes, not {limit}.")
    source = task
    if task.cache_hit and task.cached_from_task_id:
        source = platform.store.get_task(task.cached_from_task_id)
    latest = source.attempts
    chosen = latest if attempt is None else attempt
    if latest and not 1 <= chosen <= latest:
        raise UsageError(
            f"Task {task.path!r} has attempts 1 to {latest}; there is no attempt {chosen}."
        )
    complete = source.state.terminal
    if not latest:  # not started yet (or never will, when it ended without running)
        return LogChunk(task, 0, 0, 0, 0, "", complete, source)
    uri = platform.artifacts.log_uri(source.run_id, source.path, chosen)
    # An earlier attempt is complete even while a retry runs.
    complete = complete or chosen < latest
    artifacts = platform.artifacts
    try:
        size = artifacts.size(uri) if artifacts.exists(uri) else 0  # `exists` contains it
        if complete and offset > size:  # read while it ran, and capped since
            offset = _after_cut(platform, uri, size, offset)
        start, end = offset, size
        # A running log past its cap has a hole in its middle: step over it.
        span = data_span(artifacts.local_path(uri), offset) if artifacts.is_local else None
        if span is not None:
            start, end = span
        data = artifacts.read_range(uri, start, min(end, size, start + limit))
    except StoreError as e:
        raise NotFound(f"The log of task {task.path!r} cannot be read: {e}") from e
    if start + len(data) < size or not complete:
        data = _whole_characters(data)
    return LogChunk(
        task=task,
        attempt=chosen,
        offset=offset,
        next_offset=start + len(data),
        size=size,
        text=data.decode("utf-8", errors="replace"),
        complete=complete and start + len(data) >= size,
        source=source,
    )


def _after_cut(platform: Platform, uri: str, size: int, offset: int) -> int:
    """Where a reader that had read a log up to `offset` while it ran goes on, now that
    it is capped (shorter than `offset`): at the same byte in the tail, or at the tail's
    start if that byte was cut; `offset` itself (nothing more) if the log was not cut.
    The line saying what was cut is in the middle of a capped log: found there."""
    low = max(0, size // 2 - CUT_SEARCH)
    found = find_cut(platform.artifacts.read_range(uri, low, min(size, size // 2 + CUT_SEARCH)))
    if found is None:
        return offset
    head_end, tail, cut = (low + found[0], low + found[1], found[2])
    return tail + max(0, offset - (head_end + cut))


def _whole_characters(data: bytes) -> bytes:
    """`data` without a UTF-8 sequence cut short at its end (the rest comes next read)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:  # ASCII: nothing is cut
            return data
        if byte >= 0xC0:  # the lead byte of a sequence: is it whole?
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= needed else data[:-back]
    return data
