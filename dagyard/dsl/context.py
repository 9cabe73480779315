"""The graph being defined: the tasks and groups created while a pipeline function runs.

`Graph` is the state behind `@dsl.pipeline`; `current()` is the graph that tasks and
groups attach to. No IR is written here (that is `dagyard.compiler`).

It also holds the immediate runner: what a component or pipeline called outside any
pipeline hands itself to. `dagyard.local.init()` installs one; the SDK never imports
the engine, so without it such a call is an error.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dagyard.errors import DslError

if TYPE_CHECKING:
    from dagyard.dsl.channels import PipelineChannel
    from dagyard.dsl.component import BaseComponent
    from dagyard.dsl.control_flow import ConditionBranches, TasksGroup
    from dagyard.dsl.pipeline_task import PipelineTask
    from dagyard.dsl.structures import ComponentSpec

_stack: list[Graph] = []

#: Runs a component (or pipeline) called outside a pipeline, with its keyword
#: arguments, and returns the result; None when nothing is installed.
ImmediateRunner = Callable[["BaseComponent", dict[str, Any]], Any]
_immediate_runner: ImmediateRunner | None = None


def k8s_name(name: str) -> str:
    """Lower-case, dash-separated form of a name, as used for task and component names."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "component"


class Graph:
    """Tasks and groups of one pipeline function, in definition order."""

    def __init__(self, name: str) -> None:
        from dagyard.dsl.control_flow import TasksGroup

        self.name = name
        self.root: TasksGroup = TasksGroup(kind="pipeline", name=name, parent=None)
        self.root.name = name
        self.group_stack: list[TasksGroup] = [self.root]
        self.tasks: dict[str, PipelineTask] = {}
        self.inputs: dict[str, PipelineChannel] = {}
        self.outputs: dict[str, PipelineChannel] = {}
        self.component_spec: ComponentSpec | None = None
        self._group_ids = 0
        self._name_counts: dict[str, int] = {}

    def next_group_id(self) -> int:
        self._group_ids += 1
        return self._group_ids

    @property
    def current_group(self) -> TasksGroup:
        return self.group_stack[-1]

    def add_task(self, task: PipelineTask) -> str:
        """Register a task; returns its name, unique within the pipeline."""
        base = k8s_name(task.component.name)
        # Counting per base name keeps naming linear when one component is used often.
        n = self._name_counts.get(base, 0)
        name = base if n == 0 else f"{base}-{n + 1}"
        while name in self.tasks:
            n += 1
            name = f"{base}-{n + 1}"
        self._name_counts[base] = n + 1
        self.tasks[name] = task
        self.current_group.children.append(task)
        return name


def current() -> Graph | None:
    return _stack[-1] if _stack else None


def require_current(what: str) -> Graph:
    graph = current()
    if graph is None:
        raise DslError(f"{what} can only be used inside a function decorated with @dsl.pipeline.")
    return graph


def set_immediate_runner(runner: ImmediateRunner | None) -> None:
    """Install `runner` for calls made outside any pipeline (None removes it)."""
    global _immediate_runner
    _immediate_runner = runner


def immediate_runner() -> ImmediateRunner | None:
    return _immediate_runner


@contextlib.contextmanager
def building(graph: Graph) -> Iterator[Graph]:
    _stack.append(graph)
    try:
        yield graph
    finally:
        _stack.pop()


def one_of_branches(channels: list[PipelineChannel]) -> ConditionBranches:
    """The If/Elif/Else group whose branches produce `channels`, one channel per branch."""
    from dagyard.dsl.control_flow import ConditionBranches, ConditionGroup

    branches: list[TasksGroup] = []
    owner: ConditionBranches | None = None
    for channel in channels:
        if channel.task is None:
            raise DslError(
                f"dsl.OneOf takes task outputs from condition branches; got {channel!r}."
            )
        group: TasksGroup | None = channel.task.group
        while group is not None and not (
            isinstance(group, ConditionGroup) and isinstance(group.parent, ConditionBranches)
        ):
            group = group.parent
        if group is None:
            raise DslError(
                f"dsl.OneOf: {channel!r} is not produced inside a dsl.If/Elif/Else branch."
            )
        assert isinstance(group.parent, ConditionBranches)
        if owner is None:
            owner = group.parent
        elif group.parent is not owner:
            raise DslError("dsl.OneOf takes outputs of branches of one If/Elif/Else chain.")
        if group in branches:
            raise DslError(f"dsl.OneOf: two channels come from the branch '{group.name}'.")
        branches.append(group)
    assert owner is not None
    if not owner.has_else or len(branches) != len(owner.children):
        raise DslError(
            f"dsl.OneOf needs one output from every branch of '{owner.name}', ending with "
            "dsl.Else, so that exactly one value exists at run time."
        )
    return owner
