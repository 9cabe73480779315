"""Control-flow groups: `If`/`Elif`/`Else`, `ParallelFor`, `ExitHandler`.

Each is a context manager that groups the tasks created inside it. Groups are named as
KFP names them (`condition-3`, `for-loop-2`, `exit-handler-1`, `condition-branches-6`),
numbered in the order they are entered, so compiled IR lines up with kfp's.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any, Union

from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.dsl import types as ty
from dagyard.dsl.channels import (
    ConditionOperation,
    LoopArgument,
    LoopArgumentVariable,
    PipelineChannel,
)
from dagyard.errors import DslError

if TYPE_CHECKING:
    from dagyard.dsl.pipeline_task import PipelineTask

Node = Union["PipelineTask", "TasksGroup"]


class TasksGroup:
    """A group of tasks and nested groups; becomes a sub-DAG in IR."""

    def __init__(self, *, kind: str, name: str | None, parent: TasksGroup | None) -> None:
        self.kind = kind
        self.display_name = name
        self.name = ""
        self.parent = parent
        self.children: list[Node] = []

    def _enter(self) -> None:
        graph = context.require_current(f"dsl.{type(self).__name__}")
        self.parent = graph.current_group
        self.name = f"{self.kind}-{graph.next_group_id()}"
        self.parent.children.append(self)
        graph.group_stack.append(self)

    def __exit__(self, *exc: object) -> None:
        graph = context.require_current(f"dsl.{type(self).__name__}")
        graph.group_stack.pop()

    def ancestors(self) -> list[TasksGroup]:
        """This group and its parents, innermost first."""
        chain: list[TasksGroup] = []
        group: TasksGroup | None = self
        while group is not None:
            chain.append(group)
            group = group.parent
        return chain

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class ExitHandler(TasksGroup):
    """Runs `exit_task` after the tasks in the block finish, whatever their outcome."""

    def __init__(self, exit_task: PipelineTask, name: str | None = None) -> None:
        super().__init__(kind="exit-handler", name=name, parent=None)
        if exit_task.explicit_dependencies or any(
            isinstance(v, PipelineChannel) and v.task is not None
            for v in exit_task.arguments.values()
        ):
            raise DslError(
                f"Exit task '{exit_task.name}' depends on other tasks; an exit task may only "
                "take pipeline inputs, constants and a PipelineTaskFinalStatus."
            )
        self.exit_task = exit_task
        exit_task.exit_handler = self

    def __enter__(self) -> ExitHandler:
        self._enter()
        return self


class ConditionGroup(TasksGroup):
    """A branch: runs when all `conditions` hold."""

    def __init__(self, conditions: list[ConditionOperation], name: str | None) -> None:
        super().__init__(kind="condition", name=name, parent=None)
        self.conditions = conditions
        # The negations of every condition up to this branch, for the branches after it.
        self.negated_so_far: list[ConditionOperation] = []


class ConditionBranches(TasksGroup):
    """Wraps the branches of one If/Elif/Else chain."""

    def __init__(self) -> None:
        super().__init__(kind="condition-branches", name=None, parent=None)
        self._oneof_ids = 0
        self.has_else = False

    def next_oneof_id(self) -> int:
        self._oneof_ids += 1
        return self._oneof_ids


def _check_condition(condition: Any, construct: str) -> ConditionOperation:
    if isinstance(condition, ConditionOperation):
        return condition
    if isinstance(condition, bool):
        raise DslError(
            f"{construct} got the constant {condition}: the comparison was evaluated while "
            "defining the pipeline. Compare a task output or pipeline input, e.g. "
            "`dsl.If(task.output == 'heads')`."
        )
    raise DslError(
        f"{construct} takes a comparison of a task output or pipeline input, such as "
        f"`task.output > 5`; got {condition!r}."
    )


def _negated(operations: list[ConditionOperation]) -> list[ConditionOperation]:
    result = []
    for op in operations:
        flipped = copy.copy(op)
        flipped.negate = not op.negate
        result.append(flipped)
    return result


class If(ConditionGroup):
    """Runs the block only when `condition` holds at run time."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        operation = _check_condition(condition, "dsl.If")
        super().__init__([operation], name)
        self.negated_so_far = _negated([operation])

    def __enter__(self) -> If:
        self._enter()
        return self


Condition = If


class _Following(ConditionGroup):
    """Elif and Else: attach to the If/Elif just before them, inside one branches group."""

    construct = ""

    def _previous_branch(self) -> ConditionGroup:
        graph = context.require_current(self.construct)
        siblings = graph.current_group.children
        last = siblings[-1] if siblings else None
        if isinstance(last, ConditionBranches) and not last.has_else:
            previous = last.children[-1]
            assert isinstance(previous, ConditionGroup)
            return previous
        if isinstance(last, ConditionGroup) and not isinstance(last, Else):
            return last
        raise DslError(
            f"{self.construct} must directly follow a `with dsl.If(...)` or "
            "`with dsl.Elif(...)` block at the same level."
        )

    def _enter_after(self, previous: ConditionGroup) -> None:
        graph = context.require_current(self.construct)
        parent = graph.current_group
        branches = previous.parent
        if not isinstance(branches, ConditionBranches):
            # First Elif/Else of a chain: wrap the If in a branches group. The wrapper takes
            # the If's number and the If the next one, so numbering follows reading order.
            branches = ConditionBranches()
            branches.parent = parent
            parent.children[parent.children.index(previous)] = branches
            branches.name = previous.name.replace("condition-", "condition-branches-")
            previous.name = f"condition-{graph.next_group_id()}"
            previous.parent = branches
            branches.children.append(previous)
        self.parent = branches
        self.name = f"condition-{graph.next_group_id()}"
        branches.children.append(self)
        graph.group_stack.append(self)


class Elif(_Following):
    """Runs the block when every earlier branch's condition failed and `condition` holds."""

    construct = "dsl.Elif"

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self._operation = _check_condition(condition, "dsl.Elif")
        super().__init__([], name)
        self._previous: ConditionGroup = self._previous_branch()
        self.conditions = [*self._previous.negated_so_far, self._operation]
        self.negated_so_far = [*self._previous.negated_so_far, *_negated([self._operation])]

    def __enter__(self) -> Elif:
        self._enter_after(self._previous)
        return self


class Else(_Following):
    """Runs the block when no earlier branch's condition held."""

    construct = "dsl.Else"

    def __init__(self, name: str | None = None) -> None:
        super().__init__([], name)
        self._previous = self._previous_branch()
        self.conditions = list(self._previous.negated_so_far)

    def __enter__(self) -> Else:
        self._enter_after(self._previous)
        assert isinstance(self.parent, ConditionBranches)
        self.parent.has_else = True
        return self


class ParallelFor(TasksGroup):
    """Runs the block once per item of `items` (a constant list or a list channel), at
    most `parallelism` iterations at a time (0 or None: no limit)."""

    def __init__(
        self,
        items: list[Any] | PipelineChannel,
        name: str | None = None,
        parallelism: int | None = None,
    ) -> None:
        super().__init__(kind="for-loop", name=name, parent=None)
        parallelism = parallelism or 0
        if not isinstance(parallelism, int) or parallelism < 0:
            raise DslError(f"ParallelFor parallelism must be an int >= 0; got {parallelism!r}.")
        self.parallelism = parallelism
        self.raw_items: list[Any] | None = None
        self.items_channel: PipelineChannel | None = None
        self.field_types: dict[str, str] = {}
        graph = context.require_current("dsl.ParallelFor")
        if isinstance(items, PipelineChannel):
            self.items_channel = items
            self.item = self._item_for_channel(items)
        elif isinstance(items, list | tuple):
            self.item = self._item_for_raw(list(items), graph.next_group_id())
        else:
            raise DslError(
                f"ParallelFor loops over a list or a list-typed task output or pipeline input; "
                f"got {items!r}."
            )

    def _item_for_raw(self, items: list[Any], code: int) -> LoopArgument:
        if not items:
            raise DslError("ParallelFor got an empty list; give at least one item.")
        try:
            json.dumps(items)
        except TypeError as e:
            raise DslError(f"ParallelFor items must be JSON values: {e}.") from e
        self.raw_items = items
        first = items[0]
        item_type = ty.constant_parameter_type(first) or st.STRING
        if isinstance(first, dict):
            self.field_types = {
                k: ty.constant_parameter_type(v) or st.STRING for k, v in first.items()
            }
        return LoopArgument(
            f"loop-item-param-{code}",
            st.IOSpec(parameter_type=item_type),
            loop=self,
            items=None,
        )

    def _item_for_channel(self, items: PipelineChannel) -> LoopArgument:
        spec = items.spec
        if spec.is_artifact:
            if not spec.is_list:
                raise DslError(
                    f"ParallelFor over an artifact needs a list of artifacts; {items!r} is one."
                )
            item_spec = st.IOSpec(
                artifact_type=spec.artifact_type, schema_version=spec.schema_version
            )
        else:
            if spec.parameter_type != st.LIST and not isinstance(items, LoopArgumentVariable):
                raise DslError(
                    f"ParallelFor needs a list to loop over; {items!r} is "
                    f"{spec.parameter_type}. Annotate the output as List[...]."
                )
            item_spec = st.IOSpec(parameter_type=spec.item_type or st.STRING)
            if spec.item_value_type:
                self.field_types = _AllFields(spec.item_value_type)
        return LoopArgument(f"{items.full_name}-loop-item", item_spec, loop=self, items=items)

    def __enter__(self) -> LoopArgument:
        self._enter()
        return self.item


class _AllFields(dict[str, str]):
    """Field types of dict items whose value type is known for every key."""

    def __init__(self, value_type: str) -> None:
        super().__init__()
        self.value_type = value_type

    def get(self, key: str, default: Any = None) -> Any:
        return self.value_type
