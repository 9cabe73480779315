"""Channels: references to values that exist only when a pipeline runs.

A channel stands for a pipeline input, a task output, a loop item (or one field of it),
a fan-in (`Collected`) or the output of whichever condition branch ran (`OneOf`). Tasks
record channels as their arguments; the compiler turns them into IR input references.
Comparing a channel builds a `ConditionOperation` for `dsl.If`.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import weakref
from typing import TYPE_CHECKING, Any

from dagyard.dsl import structures as st
from dagyard.errors import DslError

if TYPE_CHECKING:
    from dagyard.dsl.control_flow import ConditionBranches, ParallelFor
    from dagyard.dsl.pipeline_task import PipelineTask

_ids = itertools.count(1)
_registry: weakref.WeakValueDictionary[int, PipelineChannel] = weakref.WeakValueDictionary()
_PATTERN = re.compile(r"\{\{dagyard\.channel:(\d+)\}\}")


class PipelineChannel:
    """A value produced at run time.

    `name` is the output or input name; `task` the producing task (None for pipeline
    inputs and loop items). `spec` says whether it is a parameter or an artifact, and
    which type.
    """

    def __init__(self, name: str, spec: st.IOSpec, task: PipelineTask | None = None) -> None:
        self.name = name
        self.spec = spec
        self.task = task
        self._id = next(_ids)
        _registry[self._id] = self

    @property
    def full_name(self) -> str:
        """The name used for this channel inside sub-DAGs: `<task>-<output>` or `<input>`."""
        return f"{self.task.name}-{self.name}" if self.task is not None else self.name

    @property
    def is_artifact(self) -> bool:
        return self.spec.is_artifact

    @property
    def pattern(self) -> str:
        return f"{{{{dagyard.channel:{self._id}}}}}"

    def __str__(self) -> str:
        # Lets f-strings embed a channel; the compiler finds it again with `find_in`.
        return self.pattern

    def __repr__(self) -> str:
        owner = f"task '{self.task.name}'" if self.task is not None else "pipeline"
        return f"<{type(self).__name__} '{self.name}' of {owner}: {self.spec.type_name}>"

    def __hash__(self) -> int:
        return self._id

    def _compare(self, op: str, other: Any) -> ConditionOperation:
        if self.is_artifact:
            raise DslError(
                f"Cannot compare artifact {self!r} in a condition; conditions compare "
                "parameters. Pass a parameter output instead."
            )
        return ConditionOperation(op, self, other)

    def __eq__(self, other: object) -> ConditionOperation:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: object) -> ConditionOperation:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> ConditionOperation:
        return self._compare("<", other)

    def __le__(self, other: Any) -> ConditionOperation:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> ConditionOperation:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> ConditionOperation:
        return self._compare(">=", other)

    def __bool__(self) -> bool:
        raise DslError(
            f"{self!r} has no value while the pipeline is being defined, so it cannot be "
            "used in a Python `if`, `and`, `or` or `not`. Use `with dsl.If(...)` instead."
        )

    def __iter__(self) -> Any:
        raise DslError(
            f"Cannot iterate over {self!r} while defining the pipeline; use "
            "`with dsl.ParallelFor(...) as item:` to loop at run time."
        )


def find_in(text: str) -> list[PipelineChannel]:
    """Channels embedded in a string by an f-string, in order of first appearance."""
    found: dict[int, PipelineChannel] = {}
    for match in _PATTERN.finditer(text):
        channel_id = int(match.group(1))
        channel = _registry.get(channel_id)
        if channel is None:
            raise DslError(f"A string refers to a channel that no longer exists: {text!r}.")
        found.setdefault(channel_id, channel)
    return list(found.values())


def replace_in(text: str, render: Any) -> str:
    """Replace every embedded channel in `text` with `render(channel)`."""
    return _PATTERN.sub(lambda m: str(render(_registry[int(m.group(1))])), text)


@dataclasses.dataclass
class ConditionOperation:
    """`left <op> right`, optionally negated; the parts of a `dsl.If` condition."""

    operator: str
    left: Any
    right: Any
    negate: bool = False

    def __bool__(self) -> bool:
        raise DslError(
            "A comparison of pipeline values has no truth value at definition time; "
            "use it as the condition of `with dsl.If(...)`, not in a Python `if`."
        )


class LoopArgument(PipelineChannel):
    """The item of a `ParallelFor`: the whole item, or `item.field` for dict items."""

    def __init__(
        self,
        name: str,
        spec: st.IOSpec,
        *,
        loop: ParallelFor,
        items: PipelineChannel | None,
    ) -> None:
        super().__init__(name, spec)
        self.loop = loop
        self.items = items
        self._fields: dict[str, LoopArgumentVariable] = {}

    def __getattr__(self, field: str) -> LoopArgumentVariable:
        if field.startswith("_"):
            raise AttributeError(field)
        if self.is_artifact:
            raise DslError(f"Loop item '{self.name}' is an artifact; it has no field '{field}'.")
        if field not in self._fields:
            self._fields[field] = LoopArgumentVariable(self, field)
        return self._fields[field]

    def __getitem__(self, field: str) -> LoopArgumentVariable:
        return self.__getattr__(field)


class LoopArgumentVariable(PipelineChannel):
    """One field of a dict loop item (`item.a`), read with a CEL selector."""

    def __init__(self, item: LoopArgument, field: str) -> None:
        field_type = item.loop.field_types.get(field, st.STRING)
        super().__init__(f"{item.name}-subvar-{field}", st.IOSpec(parameter_type=field_type))
        self.item = item
        self.field = field

    @property
    def selector(self) -> str:
        return f'parseJson(string_value)["{self.field}"]'


class Collected(PipelineChannel):
    """Fan-in: all values of a channel produced inside a `ParallelFor`, as one list."""

    def __init__(self, output: PipelineChannel) -> None:
        if isinstance(output, Collected):
            raise DslError(f"{output!r} is already collected.")
        if output.task is None:
            raise DslError(
                f"dsl.Collected takes a task output produced inside a ParallelFor; got {output!r}."
            )
        spec = (
            dataclasses.replace(output.spec, is_list=True)
            if output.is_artifact
            else st.IOSpec(parameter_type=st.LIST)
        )
        super().__init__(output.name, spec, output.task)
        self.output = output


class OneOf(PipelineChannel):
    """The output of whichever branch of an If/Elif/Else ran."""

    def __init__(self, *channels: PipelineChannel) -> None:
        from dagyard.dsl import context

        if len(channels) < 2:
            raise DslError("dsl.OneOf needs at least two channels, one from each branch.")
        self.channels = list(channels)
        self.branches: ConditionBranches = context.one_of_branches(self.channels)
        first = channels[0].spec
        for channel in channels[1:]:
            if channel.is_artifact != first.is_artifact or (
                channel.spec.artifact_type or channel.spec.parameter_type
            ) != (first.artifact_type or first.parameter_type):
                raise DslError(
                    f"dsl.OneOf needs channels of one type; {channels[0]!r} and {channel!r} differ."
                )
        oneof_id = self.branches.next_oneof_id()
        super().__init__(f"oneof-{oneof_id}", dataclasses.replace(first, is_list=False))
        self.producer_group_name = self.branches.name

    @property
    def full_name(self) -> str:
        return f"{self.producer_group_name}-{self.name}"
