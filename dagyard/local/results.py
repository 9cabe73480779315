"""What a local call returns: `LocalTask`, read from the finished run's records.

Outputs come from the run's recorded outputs (the pipeline's, or the lone component's):
parameters as Python values of their declared IR types, artifacts as dsl artifact objects
(the class of their schema, with `uri`, `metadata` and a local `path`). A failure becomes
a `TaskFailed` naming the first task that failed, with the end of its log. The HTML view
is `dagyard.display`'s, fed from the same records. Nothing here starts or drives a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from dagyard import ir
from dagyard.display import RunView, TaskView, run_html
from dagyard.errors import DagyardError, TaskFailed, UsageError
from dagyard.ir.pipeline import DagComponent, Definitions, ParameterType
from dagyard.ir.pipeline import Task as PlannedTask
from dagyard.runtime.artifacts import Artifact, artifact_class
from dagyard.service.platform import Platform
from dagyard.store.records import Run, RunState, Task, TaskKind, TaskState

# How much of a failed task's log its error shows.
LOG_TAIL_LINES = 20
LOG_TAIL_BYTES = 8192


@dataclasses.dataclass(frozen=True)
class LocalTask:
    """A component or pipeline run by `dagyard.local`: its run, final state and outputs.

    `.outputs` maps each output name to its value: a parameter as a Python value, an
    artifact as a dsl artifact (`.path`, `.uri`, `.metadata`), a list for collected values.
    `.output` is the only output, when there is exactly one. `failure` is the error a
    failed run raises (None when it succeeded); with `raise_on_error=False` it is kept
    here instead of raised.
    """

    name: str
    run_id: str
    state: str
    outputs: Mapping[str, Any]
    url: str
    error: str | None = None
    failure: TaskFailed | None = None
    view: RunView | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def output(self) -> Any:
        """The only output. Raises if there is none or several."""
        if len(self.outputs) != 1:
            names = ", ".join(f"'{n}'" for n in self.outputs) or "none"
            raise UsageError(
                f"'{self.name}' has {len(self.outputs)} outputs ({names}), so `.output` is "
                "ambiguous; use `.outputs['<name>']`."
            )
        return next(iter(self.outputs.values()))

    def _repr_html_(self) -> str:
        view = self.view or RunView(
            run_id=self.run_id,
            name=self.name,
            state=self.state,
            created_at=None,
            finished_at=None,
            parameters={},
            outputs={},
            tasks=(),
            url=self.url,
            error=self.error,
        )
        return run_html(view)


def finished(platform: Platform, run: Run, *, what: str, ui: str) -> LocalTask:
    """The result of `run`, which has ended; `what` names it for messages ("component
    'add'"), `ui` is the UI's address for the link to the run's page."""
    tasks = platform.store.list_tasks(run.run_id)
    plan = ir.plan(ir.from_dict(run.pipeline_spec))
    outputs = _outputs(platform, run, plan.root.outputs)
    failure = None if run.state is RunState.SUCCEEDED else _failure(platform, run, tasks, what)
    url = f"{ui}/runs/{run.run_id}"
    return LocalTask(
        name=plan.info.name,
        run_id=run.run_id,
        state=str(run.state),
        outputs=outputs,
        url=url,
        error=run.error,
        failure=failure,
        view=RunView(
            run_id=run.run_id,
            name=run.display_name,
            state=str(run.state),
            created_at=run.created_at,
            finished_at=run.finished_at,
            parameters=dict(run.runtime_config.get("parameters", {})),
            outputs={name: _shown(value) for name, value in outputs.items()},
            tasks=task_views(plan, tasks),
            url=url,
            error=run.error,
        ),
    )


# -- outputs -----------------------------------------------------------------------------


def _outputs(platform: Platform, run: Run, definitions: Definitions) -> dict[str, Any]:
    """The run's outputs as `definitions` (the pipeline's output definitions) type them."""
    from dagyard.service.artifacts import run_artifacts

    parameter_types = {name: d.type for name, d in definitions.parameters.items()}
    artifact_lists = {name: d.is_list for name, d in definitions.artifacts.items()}
    records = {}
    if artifact_lists:
        # A cached task's artifacts are an earlier run's; the run's own come last, so win.
        for lineage in sorted(
            run_artifacts(platform, run.run_id), key=lambda f: f.artifact.run_id == run.run_id
        ):
            records[lineage.artifact.uri] = lineage.artifact
    values: dict[str, Any] = {}
    for name, value in run.outputs.items():
        if name in artifact_lists:
            uris = value if isinstance(value, list) else [value]
            items = [_artifact(name, uri, records.get(uri)) for uri in uris]
            values[name] = items if artifact_lists[name] or len(items) != 1 else items[0]
        else:
            values[name] = _typed(value, parameter_types.get(name))
    return values


def _artifact(name: str, uri: str, record: Any) -> Artifact:
    if record is None:
        return Artifact(name=name, uri=uri)
    return artifact_class(record.schema_title)(
        name=record.name or name, uri=uri, metadata=dict(record.metadata)
    )


def _typed(value: Any, parameter_type: ParameterType | None) -> Any:
    """A stored parameter value as its declared type: JSON keeps 3 and 3.0 apart only
    as far as the writer did."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if parameter_type is ParameterType.NUMBER_INTEGER and number and float(value).is_integer():
        return int(value)
    if parameter_type is ParameterType.NUMBER_DOUBLE and number:
        return float(value)
    return value


def _shown(value: Any) -> Any:
    """An output as the HTML view shows it: an artifact by its URI (and metadata)."""
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, Artifact):
        return {"uri": value.uri, "metadata": value.metadata} if value.metadata else value.uri
    return value


# -- failure -----------------------------------------------------------------------------


def _failure(platform: Platform, run: Run, tasks: list[Task], what: str) -> TaskFailed:
    leaves = [
        t
        for t in tasks
        if t.state is TaskState.FAILED and t.kind in (TaskKind.CONTAINER, TaskKind.IMPORTER)
    ]
    leaves.sort(key=lambda t: (t.finished_at is None, t.finished_at))
    if not leaves:
        return TaskFailed(
            f"The {what} ended {run.state} (run {run.run_id}): {run.error or 'no error recorded'}",
            run_id=run.run_id,
            task="",
            state=str(run.state),
        )
    task = leaves[0]
    tail = _log_tail(platform, run.run_id, task)
    error = task.error or "no error recorded"
    if tail:
        # The task's error ends with its output already; the log tail says it once.
        error = error.splitlines()[0]
    message = (
        f"Task '{task.path}' of the {what} ended {task.state} after {task.attempts} "
        f"attempt(s) (run {run.run_id}): {error}"
    )
    if tail:
        message += "\nThe end of its log:\n" + "\n".join(
            "    " + line for line in tail.splitlines()
        )
    return TaskFailed(
        message, run_id=run.run_id, task=task.path, state=str(task.state), log_tail=tail
    )


def _log_tail(platform: Platform, run_id: str, task: Task) -> str:
    from dagyard.service.logs import read_log

    try:
        size = read_log(platform, run_id, task.task_id, limit=4).size
        chunk = read_log(platform, run_id, task.task_id, offset=max(0, size - LOG_TAIL_BYTES))
    except DagyardError:
        return ""
    lines = chunk.text.rstrip("\n").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


# -- the task graph ----------------------------------------------------------------------


def task_views(plan: ir.PipelinePlan, tasks: list[Task]) -> tuple[TaskView, ...]:
    """Every task of a run as the HTML view shows it: by path, with the tasks it waits
    for (its siblings the plan lists as `dependent_tasks`, else the group it belongs to)."""
    by_id = {t.task_id: t for t in tasks}
    dags: dict[str | None, DagComponent | None] = {None: plan.root}

    def dag_of(task_id: str | None) -> DagComponent | None:
        """The DAG whose tasks are the children of the task `task_id` (None: the root)."""
        if task_id not in dags:
            task = by_id.get(task_id or "")
            if task is None:
                return None
            if task.iteration_index is not None:
                # An iteration runs its loop's body: the loop's component's DAG.
                dags[task_id] = dag_of(task.parent_task_id)
            else:
                planned = _planned(task)
                component = None if planned is None else planned.component
                dags[task_id] = component if isinstance(component, DagComponent) else None
        return dags[task_id]

    def _planned(task: Task) -> PlannedTask | None:
        dag = dag_of(task.parent_task_id)
        return None if dag is None else dag.tasks.get(task.name)

    views = []
    for task in tasks:
        prefix = task.path.rsplit("/", 1)[0] + "/" if "/" in task.path else ""
        planned = None if task.iteration_index is not None else _planned(task)
        waits = [] if planned is None else [prefix + d for d in planned.dependent_tasks]
        parent = by_id.get(task.parent_task_id or "")
        if not waits and parent is not None:
            waits = [parent.path]
        views.append(TaskView(name=task.path, state=str(task.state), upstream=tuple(waits)))
    return tuple(views)
