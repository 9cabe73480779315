"""What the client's objects look like in Jupyter: their HTML, and live progress.

`html` turns a client object into the HTML its `_repr_html_` returns (runs through
`dagyard.display.run_html`, with their tasks laid out by the dependencies in the run's
IR); `live_progress` gives a callback that shows a run in the notebook and updates it in
place, or None outside a notebook. IPython is not a dependency: it is looked for only
among the modules already imported, and only when a run is waited for.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from dagyard.client.objects import Experiment, Pipeline, PipelineVersion, Run, Task
from dagyard.display import RunView, TaskView, record_html, run_html
from dagyard.errors import DagyardError


def html(value: Run | Experiment | Pipeline | PipelineVersion) -> str:
    """The HTML a notebook shows for `value`."""
    if isinstance(value, Run):
        return run_html(run_view(value))
    if isinstance(value, Experiment):
        fields: dict[str, Any] = {
            "id": value.experiment_id,
            "description": value.description,
            "namespace": value.namespace,
            "state": value.storage_state,
            "created": value.created_at,
            "last run": value.last_run_created_at,
        }
        return record_html(kind="Experiment", name=value.display_name, fields=fields, url=value.url)
    if isinstance(value, PipelineVersion):
        fields = {
            "pipeline": value.pipeline_id,
            "version": value.pipeline_version_id,
            "description": value.description,
            "created": value.created_at,
        }
        return record_html(
            kind="Pipeline version", name=value.display_name, fields=fields, url=value.url
        )
    fields = {
        "id": value.pipeline_id,
        "description": value.description,
        "namespace": value.namespace,
        "created": value.created_at,
    }
    return record_html(kind="Pipeline", name=value.display_name, fields=fields, url=value.url)


def run_view(run: Run) -> RunView:
    """`run` as `dagyard.display` shows it: tasks named by their path in the run."""
    return RunView(
        run_id=run.run_id,
        name=run.display_name,
        state=run.state,
        created_at=run.created_at,
        finished_at=run.finished_at,
        parameters=run.parameters,
        outputs=run.outputs,
        tasks=_task_views(run.tasks, run.pipeline_spec or {}),
        url=run.url,
        error=run.error,
    )


def _task_views(tasks: tuple[Task, ...], spec: dict[str, Any]) -> tuple[TaskView, ...]:
    by_id = {task.task_id: task for task in tasks}
    paths: dict[str, str] = {}

    def path(task: Task) -> str:
        if task.task_id not in paths:
            names = [task.display_name]
            parent = by_id.get(task.parent_task_id or "")
            seen = {task.task_id}
            while parent is not None and parent.task_id not in seen:
                seen.add(parent.task_id)
                names.append(parent.display_name)
                parent = by_id.get(parent.parent_task_id or "")
            paths[task.task_id] = "/".join(reversed(names))
        return paths[task.task_id]

    waits_for = _dependencies(spec)
    siblings: dict[str | None, dict[str, list[Task]]] = {}
    for task in tasks:
        siblings.setdefault(task.parent_task_id, {}).setdefault(task.display_name, []).append(task)
    views = []
    for task in tasks:
        near = siblings[task.parent_task_id]
        upstream = tuple(
            path(other)
            for name in sorted(waits_for.get(task.display_name, ()))
            for other in near.get(name, ())
        )
        views.append(TaskView(name=path(task), state=task.state, upstream=upstream))
    return tuple(views)


def _dependencies(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Each task name of every DAG in the IR → the names of the tasks it waits for. A
    name used in two DAGs gets the union, which can only add an edge between siblings
    that share both names. A spec this client cannot read shows no edges.

    `dagyard.ir` is imported here, not with the module: it costs a notebook's
    `import dagyard.client` nothing until a run's tasks are shown."""
    inner = spec.get("pipeline_spec", spec)
    if not isinstance(inner, dict) or not inner:
        return {}
    from dagyard import ir
    from dagyard.ir.pipeline import DagComponent

    try:
        plan = ir.plan(ir.from_dict(inner))
    except DagyardError:
        return {}
    dags = [plan.root] + [c for c in plan.components.values() if isinstance(c, DagComponent)]
    found: dict[str, set[str]] = {}
    for dag in dags:
        for task in dag.tasks.values():
            found.setdefault(task.display_name, set()).update(
                dag.tasks[dep].display_name if dep in dag.tasks else dep
                for dep in task.dependent_tasks
            )
    return found


def live_progress() -> Callable[[Run], None] | None:
    """In a Jupyter kernel, a callback that shows a run and updates the same output in
    place on every call (only when what it shows changed); None anywhere else."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    shown_by: Any = importlib.import_module("IPython.display")
    handle: Any = None
    shown = ""

    def show(run: Run) -> None:
        nonlocal handle, shown
        markup = html(run)
        if markup == shown:
            return
        shown = markup
        if handle is None:
            handle = shown_by.display(shown_by.HTML(markup), display_id=True)
        else:
            handle.update(shown_by.HTML(markup))

    return show
