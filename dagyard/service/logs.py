"""Task logs: the merged stdout+stderr of each attempt, read in pieces while it grows.

A log is read by byte offset, so that a caller tailing a running task asks for what came
after its last piece. A cached task has no log of its own: its log is the one of the task
whose outputs it reused.
"""

from __future__ import annotations

import dataclasses

from dagyard.errors import NotFound, StoreError, UsageError
from dagyard.service.platform import Platform
from dagyard.service.runs import find_task
from dagyard.store.records import Task

# The most a single read returns; a caller reads on from `next_offset`.
MAX_LOG_CHUNK_BYTES = 1 << 20


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
) -> LogChunk:
    """Bytes `offset`.. of the log of attempt `attempt` (default: the latest) of the task
    `task_ref` (its id, path or name) of a run, as text cut at a whole character."""
    task = find_task(platform, run_id, task_ref)
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
    try:
        size = platform.artifacts.size(uri) if platform.artifacts.exists(uri) else 0
        data = platform.artifacts.read_range(uri, offset, min(size, offset + limit))
    except StoreError as e:
        raise NotFound(f"The log of task {task.path!r} cannot be read: {e}") from e
    if offset + len(data) < size or not complete:
        data = _whole_characters(data)
    return LogChunk(
        task=task,
        attempt=chosen,
        offset=offset,
        next_offset=offset + len(data),
        size=size,
        text=data.decode("utf-8", errors="replace"),
        complete=complete and offset + len(data) >= size,
        source=source,
    )


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
