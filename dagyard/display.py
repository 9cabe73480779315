"""HTML views of runs for Jupyter: a run's state, times, parameters, outputs and tasks.

This module holds the plain view objects (`RunView`, `TaskView`) and `run_html`, which
renders one run as self-contained HTML (inline styles, a static SVG graph, no scripts).
Callers that know a run (the REST client, `dagyard.local`) build a `RunView` from their
own records; nothing here reads a store, a server or the clock. It must import nothing
heavy: it is loaded in notebooks on every `_repr_html_`.

Every text that comes from a run (names, values, errors, the link) is HTML-escaped, and
a link is only rendered for http(s) or site-relative addresses.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "MAX_GRAPH_TASKS",
    "RunView",
    "TaskView",
    "format_duration",
    "record_html",
    "run_html",
    "state_colour",
]

#: Beyond this many tasks a run shows counts by state instead of a graph.
MAX_GRAPH_TASKS = 60

_STATE_COLOURS = {
    "SUCCEEDED": "#2e7d32",
    "CACHED": "#00897b",
    "FAILED": "#c62828",
    "RUNNING": "#1565c0",
    "PENDING": "#757575",
    "SKIPPED": "#9e9e9e",
    "CANCELING": "#ef6c00",
    "CANCELED": "#ef6c00",
    "PAUSED": "#6a1b9a",
}
_UNKNOWN_COLOUR = "#616161"
_VALUE_LIMIT = 500
_LABEL_LIMIT = 22

# Graph geometry, in SVG user units.
_NODE_W = 150
_NODE_H = 26
_GAP_X = 16
_GAP_Y = 30
_MARGIN = 6


@dataclass(frozen=True)
class TaskView:
    """One task of a run as shown to the user."""

    name: str
    state: str
    upstream: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunView:
    """What `run_html` shows of one run."""

    run_id: str
    name: str
    state: str
    created_at: datetime | None
    finished_at: datetime | None
    parameters: Mapping[str, Any]
    outputs: Mapping[str, Any]
    tasks: Sequence[TaskView]
    url: str | None = None
    error: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def state_colour(state: str) -> str:
    """The colour (CSS hex) that stands for `state`; grey for states we do not know."""
    return _STATE_COLOURS.get(state.upper(), _UNKNOWN_COLOUR)


def run_html(view: RunView) -> str:
    """Render `view` as one self-contained HTML fragment (no scripts, inline styles)."""
    parts = [
        '<div class="dagyard-run" style="font-family:sans-serif;font-size:13px;'
        'line-height:1.4;max-width:100%">',
        _header(view),
        _times(view),
    ]
    if view.error:
        parts.append(
            '<pre class="dagyard-error" style="color:#c62828;white-space:pre-wrap;'
            f'margin:4px 0">{_esc(view.error)}</pre>'
        )
    if view.extra:
        parts.append(_table("Details", view.extra, css_class="dagyard-details"))
    if view.parameters:
        parts.append(_table("Parameters", view.parameters, css_class="dagyard-parameters"))
    if view.outputs:
        parts.append(_table("Outputs", view.outputs, css_class="dagyard-outputs"))
    if view.tasks:
        if len(view.tasks) > MAX_GRAPH_TASKS:
            parts.append(_state_counts(view.tasks))
        else:
            parts.append(_graph(view.tasks))
    parts.append("</div>")
    return "".join(parts)


def record_html(*, kind: str, name: str, fields: Mapping[str, Any], url: str | None) -> str:
    """Render one named record (a pipeline, a version, an experiment) as a small card:
    its kind, name, a link to its page in the UI and a table of `fields` (empty values
    left out)."""
    shown = {key: value for key, value in fields.items() if value not in (None, "", {}, ())}
    return (
        '<div class="dagyard-record" style="font-family:sans-serif;font-size:13px;'
        'line-height:1.4">'
        f'<span class="dagyard-kind" style="color:#616161">{_esc(kind)}</span> '
        f'<strong class="dagyard-name">{_esc(name)}</strong>{_link(url)}'
        + (_table("", shown, css_class="dagyard-fields") if shown else "")
        + "</div>"
    )


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(state: str, *, css_class: str) -> str:
    return (
        f'<span class="{css_class}" data-state="{_esc(state)}" style="background:'
        f"{state_colour(state)};color:#fff;border-radius:3px;padding:1px 6px;"
        f'font-weight:bold;font-size:12px">{_esc(state)}</span>'
    )


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    lowered = url.strip().lower()
    if lowered.startswith(("http://", "https://")) or (
        lowered.startswith("/") and not lowered.startswith("//")
    ):
        return url.strip()
    return None


def _link(url: str | None) -> str:
    safe = _safe_url(url)
    if safe is None:
        return ""
    return (
        f' <a class="dagyard-link" href="{_esc(safe)}" target="_blank" '
        'rel="noopener noreferrer">open in the UI</a>'
    )


def _header(view: RunView) -> str:
    title = _esc(view.name or view.run_id)
    return (
        '<div class="dagyard-header" style="margin-bottom:4px">'
        f'<strong class="dagyard-name">{title}</strong> '
        f"{_badge(view.state, css_class='dagyard-state')}"
        f' <code class="dagyard-run-id" style="color:#616161">{_esc(view.run_id)}</code>'
        f"{_link(view.url)}</div>"
    )


def _times(view: RunView) -> str:
    cells: list[str] = []
    if view.created_at is not None:
        cells.append(f"created {_esc(_format_time(view.created_at))}")
    if view.finished_at is not None:
        cells.append(f"finished {_esc(_format_time(view.finished_at))}")
    if view.created_at is not None and view.finished_at is not None:
        seconds = (view.finished_at - view.created_at).total_seconds()
        cells.append(f"took {_esc(format_duration(seconds))}")
    if not cells:
        return ""
    return f'<div class="dagyard-times" style="color:#424242">{" · ".join(cells)}</div>'


def _format_time(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def format_duration(seconds: float) -> str:
    """A short human duration: ``0.4s``, ``12s``, ``3m 05s``, ``2h 01m``."""
    if seconds < 0:
        seconds = 0.0
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > _VALUE_LIMIT:
        text = text[: _VALUE_LIMIT - 1] + "…"
    return text


def _table(title: str, values: Mapping[str, Any], *, css_class: str) -> str:
    rows = "".join(
        '<tr><td style="padding:1px 8px 1px 0;vertical-align:top;text-align:left">'
        f"<code>{_esc(key)}</code></td>"
        '<td style="padding:1px 0;text-align:left;white-space:pre-wrap;'
        f'word-break:break-word">{_esc(_format_value(value))}</td></tr>'
        for key, value in values.items()
    )
    heading = f'<div style="font-weight:bold">{_esc(title)}</div>' if title else ""
    return (
        f'<div class="{css_class}" style="margin-top:6px">{heading}'
        f'<table style="border-collapse:collapse;margin:0">{rows}</table></div>'
    )


def _state_counts(tasks: Sequence[TaskView]) -> str:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    items = "".join(
        f'<li style="display:inline-block;margin-right:10px">'
        f"{_badge(state, css_class='dagyard-count')} "
        f'<span class="dagyard-count-value">{count}</span></li>'
        for state, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
    return (
        '<div class="dagyard-task-counts" style="margin-top:6px">'
        f'<div style="font-weight:bold">Tasks ({len(tasks)})</div>'
        f'<ul style="list-style:none;padding:0;margin:2px 0">{items}</ul></div>'
    )


def _layers(tasks: Sequence[TaskView]) -> dict[str, int]:
    """Each task's depth: one more than its deepest upstream task (unknown names ignored).

    A cycle cannot occur in a valid run; should one appear, a task's depth stops
    growing after as many rounds as there are tasks, so this always ends.
    """
    names = {task.name for task in tasks}
    depth = dict.fromkeys(names, 0)
    for _ in range(len(tasks)):
        changed = False
        for task in tasks:
            wanted = max(
                (depth[up] + 1 for up in task.upstream if up in names and up != task.name),
                default=0,
            )
            if wanted > depth[task.name]:
                depth[task.name] = wanted
                changed = True
        if not changed:
            break
    return depth


def _label(name: str) -> str:
    return name if len(name) <= _LABEL_LIMIT else name[: _LABEL_LIMIT - 1] + "…"


def _graph(tasks: Sequence[TaskView]) -> str:
    unique: dict[str, TaskView] = {}
    for task in tasks:
        unique.setdefault(task.name, task)
    depth = _layers(list(unique.values()))
    rows: dict[int, list[TaskView]] = {}
    for task in unique.values():
        rows.setdefault(depth[task.name], []).append(task)
    widest = max(len(row) for row in rows.values())
    width = _MARGIN * 2 + widest * _NODE_W + (widest - 1) * _GAP_X
    height = _MARGIN * 2 + len(rows) * _NODE_H + (len(rows) - 1) * _GAP_Y

    position: dict[str, tuple[float, float]] = {}
    for level, row in sorted(rows.items()):
        row_width = len(row) * _NODE_W + (len(row) - 1) * _GAP_X
        left = (width - row_width) / 2
        top = _MARGIN + level * (_NODE_H + _GAP_Y)
        for index, task in enumerate(row):
            position[task.name] = (left + index * (_NODE_W + _GAP_X), top)

    edges: list[str] = []
    for task in unique.values():
        x, y = position[task.name]
        for up in dict.fromkeys(task.upstream):
            if up not in position or up == task.name:
                continue
            ux, uy = position[up]
            x1, y1 = ux + _NODE_W / 2, uy + _NODE_H
            x2, y2 = x + _NODE_W / 2, y
            mid = (y1 + y2) / 2
            edges.append(
                f'<path class="dagyard-edge" data-from="{_esc(up)}" '
                f'data-to="{_esc(task.name)}" d="M{x1:g},{y1:g} C{x1:g},{mid:g} '
                f'{x2:g},{mid:g} {x2:g},{y2:g}" fill="none" stroke="#9e9e9e" '
                'stroke-width="1.2"/>'
            )
    nodes: list[str] = []
    for task in unique.values():
        x, y = position[task.name]
        colour = state_colour(task.state)
        nodes.append(
            f'<g class="dagyard-node" data-task="{_esc(task.name)}" '
            f'data-state="{_esc(task.state)}">'
            f"<title>{_esc(task.name)}: {_esc(task.state)}</title>"
            f'<rect x="{x:g}" y="{y:g}" width="{_NODE_W}" height="{_NODE_H}" rx="4" '
            f'fill="#fff" stroke="{colour}" stroke-width="2"/>'
            f'<rect x="{x:g}" y="{y:g}" width="6" height="{_NODE_H}" rx="2" '
            f'fill="{colour}"/>'
            f'<text x="{x + 12:g}" y="{y + _NODE_H / 2 + 4:g}" font-size="11" '
            f'font-family="sans-serif" fill="#212121">{_esc(_label(task.name))}</text></g>'
        )
    return (
        '<div class="dagyard-graph" style="margin-top:6px">'
        f'<div style="font-weight:bold">Tasks ({len(unique)})</div>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" style="max-width:100%;height:auto">'
        f"{''.join(edges)}{''.join(nodes)}</svg></div>"
    )
