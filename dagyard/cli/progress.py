"""What `dagyard run` shows while a run goes on, and the summary at its end.

On a terminal: a live table, one line per task, loops summarised. Off a terminal (a CI
log, a file): one line per task state change as it is recorded. Either way a failed
attempt's log is named at once, and with `follow` every task's output is printed as
its log grows, each line prefixed with the task's path.

It reads the metadata and artifact stores from a background thread, so it shows exactly
what is recorded, and never touches the engine. A state held for less than one poll
(a quarter of a second) may go unseen; the last state of every task is always shown.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dagyard.errors import DagyardError
from dagyard.service.logs import read_task_log
from dagyard.service.platform import Platform
from dagyard.store.records import Run, RunState, Task, TaskKind, TaskState

POLL_SECONDS = 0.25
_LEAVES = (TaskKind.CONTAINER, TaskKind.IMPORTER)
_COLOURS = {
    TaskState.PENDING: "grey50",
    TaskState.RUNNING: "cyan",
    TaskState.SUCCEEDED: "green",
    TaskState.CACHED: "green",
    TaskState.SKIPPED: "grey50",
    TaskState.FAILED: "red",
    TaskState.CANCELING: "yellow",
    TaskState.CANCELED: "yellow",
}
_ITERATION = re.compile(r"/\d+(?=/|$)")


def _duration(task: Task) -> str:
    if task.started_at is None:
        return ""
    end = task.finished_at or datetime.now(UTC)
    return f"{(end - task.started_at).total_seconds():.1f}s"


def _shown(task: Task) -> bool:
    """Leaf tasks, and groups skipped as a whole (a false condition): what a user sees."""
    if task.kind in _LEAVES:
        return True
    return task.state == TaskState.SKIPPED and task.iteration_index is None


def render(tasks: list[Task]) -> Table:
    """A table of the run's leaf tasks; tasks inside loops are summarised per loop."""
    table = Table(box=None, show_header=True, pad_edge=False)
    table.add_column("task")
    table.add_column("state")
    table.add_column("attempt", justify="right")
    table.add_column("time", justify="right")
    groups: dict[str, list[Task]] = {}
    for task in sorted(tasks, key=lambda t: t.created_at or datetime.min.replace(tzinfo=UTC)):
        if not _shown(task):
            continue
        key = task.path if task.kind not in _LEAVES else _ITERATION.sub("/*", task.path)
        groups.setdefault(key, []).append(task)
    for key, members in groups.items():
        if len(members) == 1 and "*" not in key:
            task = members[0]
            colour = _COLOURS.get(task.state, "white")
            state = f"[{colour}]{task.state}[/]" + (" (cache)" if task.cache_hit else "")
            table.add_row(task.path, state, str(task.attempts or ""), _duration(task))
            continue
        counts = Counter(t.state for t in members)
        summary = ", ".join(
            f"[{_COLOURS.get(s, 'white')}]{n} {s.lower()}[/]" for s, n in sorted(counts.items())
        )
        table.add_row(f"{key} x{len(members)}", summary, "", "")
    return table


def _stamp(task: Task) -> str:
    if task.state.terminal and task.finished_at is not None:
        at = task.finished_at
    elif task.state == TaskState.RUNNING and task.started_at is not None:
        at = task.started_at
    else:
        at = datetime.now(UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _StateChanges:
    """The lines that say which tasks changed state (or attempt) since the last pass."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._seen: dict[str, tuple[TaskState, int]] = {}

    def lines(self, tasks: list[Task], *, failures_only: bool) -> list[str]:
        lines = []
        for task in tasks:
            if not _shown(task):
                continue
            before = self._seen.get(task.task_id)
            now = (task.state, task.attempts)
            if before == now:
                continue
            self._seen[task.task_id] = now
            failed_attempt = before is not None and 0 < before[1] < task.attempts
            if failures_only and task.state != TaskState.FAILED and not failed_attempt:
                continue
            lines.append(self._line(task, before[1] if failed_attempt and before else 0))
        return lines

    def _line(self, task: Task, failed_attempt: int) -> str:
        words = [_stamp(task), task.path, str(task.state)]
        if task.cache_hit:
            words.append("(from the cache)")
        elif task.attempts:
            words.append(f"attempt {task.attempts}")
        line = " ".join(words)
        if failed_attempt:
            log = self._platform.artifacts.log_uri(task.run_id, task.path, failed_attempt)
            line += f" (attempt {failed_attempt} failed, its log: {log})"
        if task.state == TaskState.FAILED:
            line += f", log: {task.log_uri}" if task.log_uri else ""
            if task.error:
                line += "\n  " + task.error.strip().splitlines()[-1]
        return line


class _LogFollower:
    """Reads each task's log from where the last pass stopped; yields whole lines, each
    prefixed with the task's path (and the attempt, after the first)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._offsets: dict[tuple[str, int], int] = {}
        self._partial: dict[tuple[str, int], str] = {}
        # The first attempt of each task whose log may still grow.
        self._open: dict[str, int] = {}

    def lines(self, tasks: list[Task]) -> list[str]:
        lines: list[str] = []
        for task in tasks:
            if task.kind is not TaskKind.CONTAINER or task.cache_hit or not task.attempts:
                continue
            first = self._open.get(task.task_id, 1)
            for attempt in range(first, task.attempts + 1):
                if not self._read(task, attempt, lines):
                    break
                self._open[task.task_id] = attempt + 1
        return lines

    def _read(self, task: Task, attempt: int, lines: list[str]) -> bool:
        """Append what attempt `attempt` wrote since the last read; whether it is done."""
        key = (task.task_id, attempt)
        prefix = task.path if attempt == 1 else f"{task.path} (attempt {attempt})"
        while True:
            chunk = read_task_log(
                self._platform, task, attempt=attempt, offset=self._offsets.get(key, 0)
            )
            self._offsets[key] = chunk.next_offset
            *whole, rest = (self._partial.pop(key, "") + chunk.text).split("\n")
            lines.extend(f"{prefix} | {line}" for line in whole)
            if chunk.complete:
                if rest:
                    lines.append(f"{prefix} | {rest}")
                return True
            if rest:
                self._partial[key] = rest
            if chunk.next_offset >= chunk.size:
                return False


class ProgressView:
    """Shows a run's tasks until stopped: a live table when `console` is a terminal,
    else a line per change. With `follow`, task output goes to `output` as it comes (to
    `console`, above the table, when there is a live table)."""

    def __init__(
        self,
        platform: Platform,
        run_id: str,
        console: Console,
        *,
        follow: bool = False,
        output: Console | None = None,
    ) -> None:
        self._platform = platform
        self._run_id = run_id
        self._console = console
        self._output = output or console
        self._changes = _StateChanges(platform)
        self._follower = _LogFollower(platform) if follow else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProgressView:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        if not self._console.is_terminal:
            self._poll(None)
            return
        with Live(console=self._console, refresh_per_second=8, transient=False) as live:
            self._poll(live)

    def _poll(self, live: Live | None) -> None:
        self._show(live)
        while not self._stop.wait(POLL_SECONDS):
            self._show(live)
        self._show(live)  # once stopped: the run's last changes and log lines

    def _show(self, live: Live | None) -> None:
        try:
            tasks = self._platform.store.list_tasks(self._run_id)
            changes = self._changes.lines(tasks, failures_only=live is not None)
            output = self._follower.lines(tasks) if self._follower else []
        except DagyardError:
            return  # e.g. a locked database: the next pass reads again
        if live is not None:
            live.update(render(tasks))
        # Output first: a task's last lines come before the line that says it ended.
        # Under a live table, through its console: printed above the table. As Text, not
        # with markup=False, which would reach the table's cells too.
        out = self._console if live is not None else self._output
        for line in output:
            out.print(Text(line), highlight=False, soft_wrap=True)
        for line in changes:
            self._console.print(Text(line), highlight=False, soft_wrap=True)


def print_summary(platform: Platform, run: Run, tasks: list[Task], console: Console) -> None:
    """The run's end state, how long it took, its tasks by state, and where their logs
    are (with the command that prints one)."""
    took = ""
    if run.created_at and run.finished_at:
        took = f" in {(run.finished_at - run.created_at).total_seconds():.1f} s"
    leaves = [t for t in tasks if t.kind in _LEAVES]
    counts = Counter(t.state for t in leaves)
    by_state = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    colour = "green" if run.state == RunState.SUCCEEDED else "red"
    console.print()
    console.print(
        f"Run {run.run_id} [{colour}]{run.state}[/]{took}: {len(leaves)} tasks"
        + (f" ({by_state})" if by_state else "")
        + ".",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Logs are under {platform.artifacts.root_uri}/{run.run_id}; print one with "
        f"`dagyard runs logs --local {run.run_id} TASK`.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if run.error:
        console.print(run.error, highlight=False, markup=False)
