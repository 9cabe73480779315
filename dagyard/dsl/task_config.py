"""Task config passthroughs: which of a task's own settings a component receives in its
`dsl.TaskConfig` input, and whether they still apply to the task itself.

kfp 2.17 names them `TaskConfigField` (the PipelineSpec's TaskConfigPassthroughType
enum, same numbers) and `TaskConfigPassthrough(field, apply_to_task=False)`; a bare
field in `task_config_passthroughs=[...]` is a passthrough not applied to the task.
Belongs here: those names, reading the decorator's list, and the check kfp makes when
it compiles a task (a setting the component does not pass through is refused). Writing
the IR is the compiler's; filling the input at run time the engine's.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dagyard.errors import CompileError, DslError


class TaskConfigField(enum.IntEnum):
    """A kind of task setting a component may receive in its `dsl.TaskConfig` input."""

    RESOURCES = 1
    ENV = 2
    KUBERNETES_AFFINITY = 3
    KUBERNETES_TOLERATIONS = 4
    KUBERNETES_NODE_SELECTOR = 5
    KUBERNETES_VOLUMES = 6


@dataclasses.dataclass
class TaskConfigPassthrough:
    """`field` goes to the component's TaskConfig input; `apply_to_task`: the task itself
    uses the setting too (by default only the TaskConfig carries it)."""

    field: TaskConfigField
    apply_to_task: bool = False


def passthroughs(
    given: Sequence[TaskConfigPassthrough | TaskConfigField] | None, *, component: str
) -> tuple[TaskConfigPassthrough, ...]:
    """The decorator's `task_config_passthroughs`, each a TaskConfigPassthrough."""
    result: list[TaskConfigPassthrough] = []
    for item in given or ():
        if isinstance(item, TaskConfigPassthrough) and isinstance(item.field, TaskConfigField):
            result.append(item)
        elif isinstance(item, TaskConfigField):
            result.append(TaskConfigPassthrough(field=item, apply_to_task=False))
        else:
            raise DslError(
                f"task_config_passthroughs of component '{component}' holds {item!r}; give "
                "dsl.TaskConfigField members (such as dsl.TaskConfigField.RESOURCES) or "
                "dsl.TaskConfigPassthrough(field=..., apply_to_task=...)."
            )
    return tuple(result)


# The Kubernetes settings (the PlatformSpec's keys) each field covers, as kfp checks them.
_KUBERNETES_KEYS = (
    (("tolerations",), TaskConfigField.KUBERNETES_TOLERATIONS),
    (("nodeSelector",), TaskConfigField.KUBERNETES_NODE_SELECTOR),
    (("nodeAffinity", "podAffinity"), TaskConfigField.KUBERNETES_AFFINITY),
    (("pvcMount", "secretAsVolume", "configMapAsVolume"), TaskConfigField.KUBERNETES_VOLUMES),
)


def check_task(
    *,
    task: str,
    declared: Iterable[TaskConfigPassthrough],
    has_resources: bool,
    has_env: bool,
    kubernetes: Mapping[str, Any],
) -> None:
    """Refuse, as kfp does, a task setting what its component declares passthroughs for
    but leaves out: the setting would be neither applied nor handed on."""
    fields = {p.field for p in declared}
    if not fields:
        return
    used: list[TaskConfigField] = []
    if has_resources:
        used.append(TaskConfigField.RESOURCES)
    if has_env:
        used.append(TaskConfigField.ENV)
    used += [field for keys, field in _KUBERNETES_KEYS if any(kubernetes.get(k) for k in keys)]
    for field in used:
        if field not in fields:
            raise CompileError(
                f"Task '{task}' sets {field.name} settings, but its component's "
                "task_config_passthroughs leave out that field, so they would be neither "
                f"applied nor passed on. Add dsl.TaskConfigField.{field.name} (or a "
                "TaskConfigPassthrough of it with apply_to_task=True) to the component's "
                "task_config_passthroughs, or remove the setting."
            )
