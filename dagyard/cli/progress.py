"""The live view of a running pipeline: one line per task, loops summarised.

It reads the metadata store from a background thread, so it shows exactly what is
recorded, and never touches the engine.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.live import Live
from rich.table import Table

from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Task, TaskKind, TaskState

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


def render(tasks: list[Task]) -> Table:
    """A table of the run's leaf tasks; tasks inside loops are summarised per loop."""
    table = Table(box=None, show_header=True, pad_edge=False)
    table.add_column("task")
    table.add_column("state")
    table.add_column("attempt", justify="right")
    table.add_column("time", justify="right")
    groups: dict[str, list[Task]] = {}
    for task in sorted(tasks, key=lambda t: t.created_at or datetime.min.replace(tzinfo=UTC)):
        if task.kind in (TaskKind.DAG, TaskKind.LOOP):
            if task.state == TaskState.SKIPPED and task.iteration_index is None:
                groups.setdefault(task.path, []).append(task)
            continue
        groups.setdefault(_ITERATION.sub("/*", task.path), []).append(task)
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


class ProgressView:
    """Refreshes a table of a run's tasks until stopped."""

    def __init__(self, store: MetadataStore, run_id: str, console: Console) -> None:
        self._store = store
        self._run_id = run_id
        self._console = console
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProgressView:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        with Live(console=self._console, refresh_per_second=8, transient=False) as live:
            while True:
                live.update(render(self._store.list_tasks(self._run_id)))
                if self._stop.wait(0.25):
                    live.update(render(self._store.list_tasks(self._run_id)))
                    return
