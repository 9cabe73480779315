"""`PipelineTask`: one use of a component inside a pipeline, with its arguments and
settings. Arguments are checked against the component's inputs when the task is made,
so mistakes surface at the line that made them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from dagyard.conventions import STALENESS_VARIABLE
from dagyard.dsl import context
from dagyard.dsl import structures as st
from dagyard.dsl import types as ty
from dagyard.dsl.channels import (
    LoopArgument,
    LoopArgumentVariable,
    PipelineChannel,
    find_in,
)
from dagyard.errors import DslError

if TYPE_CHECKING:
    from dagyard.dsl.component import BaseComponent
    from dagyard.dsl.control_flow import ExitHandler, TasksGroup

_DURATION = re.compile(r"^\d+(\.\d+)?s$")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retry_count: int
    backoff_duration: str = "0s"
    backoff_factor: float = 2.0
    backoff_max_duration: str = "3600s"


class PipelineTask:
    """A task in a pipeline: a component plus arguments and task settings."""

    def __init__(self, component: BaseComponent, arguments: dict[str, Any]) -> None:
        graph = context.require_current(f"Component '{component.name}'")
        self.component = component
        self.arguments: dict[str, Any] = {}
        self.explicit_dependencies: list[PipelineTask] = []
        self.enable_caching = True
        self.cache_key: str | None = None
        self.retry: RetryPolicy | None = None
        self.resources = st.Resources()
        self.env: dict[str, str] = {}
        self.container_image: Any = None
        self.display_name: str | None = None
        # Settings for other platforms, by platform (`dagyard.kubernetes` writes
        # "kubernetes"): the compiler puts them in the PlatformSpec, as kfp does.
        self.platform_config: dict[str, Any] = {}
        self.ignore_upstream_failure_flag = False
        self.exit_handler: ExitHandler | None = None
        self.group: TasksGroup = graph.current_group
        self.name = component.name  # replaced by the graph's unique name below
        self._bind(arguments)
        self.name = graph.add_task(self)
        self.outputs: dict[str, PipelineChannel] = {
            name: PipelineChannel(name, spec, self) for name, spec in component.spec.outputs.items()
        }

    # -- arguments ---------------------------------------------------------------------
    def _bind(self, arguments: dict[str, Any]) -> None:
        inputs = self.component.spec.inputs
        for name, value in arguments.items():
            if name not in inputs:
                known = ", ".join(sorted(inputs)) or "none"
                raise DslError(
                    f"Component '{self.component.name}' has no input '{name}' (its inputs: "
                    f"{known}). Check the argument name."
                )
            self.arguments[name] = self._check_argument(name, inputs[name], value)
        for name, spec in inputs.items():
            if name in self.arguments or spec.optional or spec.has_default:
                continue
            if spec.parameter_type == st.TASK_FINAL_STATUS:
                continue
            raise DslError(
                f"Task for component '{self.component.name}' is missing required input "
                f"'{name}' ({spec.type_name}). Pass it as `{name}=...`."
            )

    def _check_argument(self, name: str, spec: st.IOSpec, value: Any) -> Any:
        where = f"input '{name}' of component '{self.component.name}'"
        if isinstance(value, PipelineTask):
            raise DslError(
                f"A task was passed to {where}; pass one of its outputs instead, e.g. "
                "`task.output` or `task.outputs['name']`."
            )
        if isinstance(value, PipelineChannel):
            self._check_channel(where, spec, value)
            return value
        if spec.is_artifact:
            raise DslError(
                f"{where} is an artifact ({spec.type_name}); pass a task's artifact output or "
                "use dsl.importer to bring in an existing URI."
            )
        if spec.parameter_type == st.TASK_FINAL_STATUS:
            raise DslError(f"{where} is filled in by the exit handler; do not pass it.")
        if isinstance(value, str):
            for channel in find_in(value):
                if channel.is_artifact:
                    raise DslError(
                        f"An f-string passed to {where} embeds artifact {channel!r}; only "
                        "parameters can be formatted into strings."
                    )
            if spec.parameter_type != st.STRING and not find_in(value):
                raise DslError(
                    f"{where} expects {spec.parameter_type} but got the string {value!r}."
                )
            return value
        given = ty.constant_parameter_type(value)
        if given is None:
            raise DslError(
                f"{where} got {value!r} of type {type(value).__name__}; constants must be "
                "str, int, float, bool, list or dict."
            )
        if not ty.parameter_types_compatible(given, spec.parameter_type or ""):
            raise DslError(f"{where} expects {spec.parameter_type} but got {value!r} ({given}).")
        return value

    def _check_channel(self, where: str, spec: st.IOSpec, channel: PipelineChannel) -> None:
        if channel.is_artifact != spec.is_artifact:
            kind = "an artifact" if channel.is_artifact else "a parameter"
            raise DslError(
                f"{where} expects {spec.type_name} but {channel!r} is {kind}. Pass "
                f"{'an artifact' if spec.is_artifact else 'a parameter'} output instead."
            )
        if isinstance(channel, LoopArgumentVariable) or (
            isinstance(channel, LoopArgument) and channel.items is None
        ):
            return  # item types of raw lists are a guess; do not reject on them.
        if spec.is_artifact:
            if channel.spec.is_list != spec.is_list:
                raise DslError(
                    f"{where} expects {spec.type_name} but got {channel.spec.type_name} from "
                    f"{channel!r}. Use dsl.Collected(...) to pass a list of artifacts."
                )
            if not ty.artifact_types_compatible(
                channel.spec.artifact_type or "", spec.artifact_type or ""
            ):
                raise DslError(
                    f"{where} expects {spec.type_name} but got {channel.spec.type_name} from "
                    f"{channel!r}."
                )
            return
        given = channel.spec.parameter_type or ""
        if not ty.parameter_types_compatible(given, spec.parameter_type or ""):
            raise DslError(
                f"{where} expects {spec.parameter_type} but got {given} from {channel!r}."
            )

    def upstream(self) -> set[PipelineTask]:
        """Every task this one waits for, directly or through others."""
        seen: set[PipelineTask] = set()
        pending = [self]
        while pending:
            task = pending.pop()
            direct = list(task.explicit_dependencies)
            for value in task.arguments.values():
                channels = find_in(value) if isinstance(value, str) else [value]
                direct.extend(c.task for c in channels if isinstance(c, PipelineChannel) and c.task)
            for dependency in direct:
                if dependency not in seen:
                    seen.add(dependency)
                    pending.append(dependency)
        return seen

    # -- outputs -----------------------------------------------------------------------
    @property
    def output(self) -> PipelineChannel:
        """The task's only output. Raises if it has none or several."""
        if len(self.outputs) != 1:
            names = ", ".join(f"'{n}'" for n in self.outputs) or "none"
            raise DslError(
                f"Task '{self.name}' has {len(self.outputs)} outputs ({names}), so `.output` "
                "is ambiguous; use `.outputs['<name>']`."
            )
        return next(iter(self.outputs.values()))

    # -- settings (each returns self, as in kfp, so calls can be chained) --------------
    def after(self, *tasks: Any) -> PipelineTask:
        from dagyard.dsl.control_flow import TasksGroup

        for task in tasks:
            if isinstance(task, TasksGroup):
                raise DslError(
                    f"Task '{self.name}'.after() got a group; pass the tasks it should follow."
                )
            if not isinstance(task, PipelineTask):
                raise DslError(f"Task '{self.name}'.after() takes tasks; got {task!r}.")
            if task is self or self in task.upstream():
                raise DslError(
                    f"Task '{self.name}'.after('{task.name}') would make a cycle: "
                    f"'{task.name}' already runs after '{self.name}'. Remove one of the two."
                )
            self.explicit_dependencies.append(task)
        return self

    def set_caching_options(
        self,
        enable_caching: bool,
        cache_key: str | None = None,
        max_cache_staleness: float | None = None,
    ) -> PipelineTask:
        """Turn caching on or off, with an optional custom key (as kfp). Beyond kfp:
        `max_cache_staleness` (seconds) reuses only results at most that old; it travels
        in the IR as the environment variable `DAGYARD_MAX_CACHE_STALENESS`, which other
        engines ignore."""
        self.enable_caching = bool(enable_caching)
        self.cache_key = cache_key
        if max_cache_staleness is not None:
            if not isinstance(max_cache_staleness, int | float) or max_cache_staleness < 0:
                raise DslError(
                    f"Task '{self.name}': max_cache_staleness must be a number of seconds "
                    f">= 0; got {max_cache_staleness!r}."
                )
            self.env[STALENESS_VARIABLE] = f"{max_cache_staleness:g}"
        return self

    def set_retry(
        self,
        num_retries: int,
        backoff_duration: str | None = None,
        backoff_factor: float | None = None,
        backoff_max_duration: str | None = None,
    ) -> PipelineTask:
        if not isinstance(num_retries, int) or num_retries < 0:
            raise DslError(f"Task '{self.name}': num_retries must be an int >= 0.")
        for label, duration in (
            ("backoff_duration", backoff_duration),
            ("backoff_max_duration", backoff_max_duration),
        ):
            if duration is not None and not _DURATION.match(duration):
                raise DslError(
                    f"Task '{self.name}': {label} {duration!r} must be seconds like '30s'."
                )
        self.retry = RetryPolicy(
            max_retry_count=num_retries,
            backoff_duration=backoff_duration or "0s",
            backoff_factor=2.0 if backoff_factor is None else float(backoff_factor),
            backoff_max_duration=backoff_max_duration or "3600s",
        )
        return self

    def _set_resource(self, **change: str | PipelineChannel) -> PipelineTask:
        self.resources = dataclasses.replace(self.resources, **change)
        return self

    # Each resource setter takes a constant or, as kfp's do, a pipeline value (a pipeline
    # input or a task output), which the engine reads when the task starts.
    def set_cpu_request(self, cpu: str | PipelineChannel) -> PipelineTask:
        return self._set_resource(cpu_request=_cpu(self.name, cpu))

    def set_cpu_limit(self, cpu: str | PipelineChannel) -> PipelineTask:
        return self._set_resource(cpu_limit=_cpu(self.name, cpu))

    def set_memory_request(self, memory: str | PipelineChannel) -> PipelineTask:
        return self._set_resource(memory_request=_memory(self.name, memory))

    def set_memory_limit(self, memory: str | PipelineChannel) -> PipelineTask:
        return self._set_resource(memory_limit=_memory(self.name, memory))

    def set_accelerator_type(self, accelerator: str | PipelineChannel) -> PipelineTask:
        if isinstance(accelerator, PipelineChannel):
            return self._set_resource(accelerator_type=_parameter(self.name, accelerator))
        return self._set_resource(accelerator_type=str(accelerator))

    def set_accelerator_limit(self, limit: int | str | PipelineChannel) -> PipelineTask:
        if isinstance(limit, PipelineChannel):
            return self._set_resource(accelerator_count=_parameter(self.name, limit))
        count = str(limit)
        if not count.isdigit():
            raise DslError(
                f"Task '{self.name}': accelerator limit {limit!r} must be a whole number."
            )
        return self._set_resource(accelerator_count=count)

    def set_gpu_limit(self, gpu: int | str | PipelineChannel) -> PipelineTask:
        return self.set_accelerator_limit(gpu)

    def set_env_variable(self, name: str, value: str) -> PipelineTask:
        self.env[name] = value
        return self

    def set_display_name(self, name: str) -> PipelineTask:
        self.display_name = name
        return self

    def set_container_image(self, name: Any) -> PipelineTask:
        if not isinstance(name, str | PipelineChannel):
            raise DslError(f"Task '{self.name}': container image must be a string; got {name!r}.")
        self.container_image = name
        return self

    def ignore_upstream_failure(self) -> PipelineTask:
        for name, value in self.arguments.items():
            spec = self.component.spec.inputs[name]
            if (
                isinstance(value, PipelineChannel)
                and value.task is not None
                and not (spec.has_default or spec.optional)
            ):
                raise DslError(
                    f"Task '{self.name}' ignores upstream failure, so its input '{name}' fed by "
                    f"{value!r} may be missing; give that input a default value."
                )
        self.ignore_upstream_failure_flag = True
        return self

    def __repr__(self) -> str:
        return f"<PipelineTask '{self.name}' of component '{self.component.name}'>"


_CPU = re.compile(r"^([0-9]*\.?[0-9]+m?)$")
_MEMORY = re.compile(r"^([0-9]*\.?[0-9]+)(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki|k)?$")


def _parameter(task: str, value: PipelineChannel) -> PipelineChannel:
    """A pipeline value given as a resource setting: a parameter, checked when it is used."""
    if value.is_artifact:
        raise DslError(
            f"Task '{task}': a resource setting takes a parameter; {value!r} is an artifact."
        )
    return value


def _cpu(task: str, cpu: str | PipelineChannel) -> str | PipelineChannel:
    if isinstance(cpu, PipelineChannel):
        return _parameter(task, cpu)
    if not _CPU.match(str(cpu)):
        raise DslError(f"Task '{task}': CPU {cpu!r} must be a number like '2', '0.5' or '500m'.")
    return str(cpu)


def _memory(task: str, memory: str | PipelineChannel) -> str | PipelineChannel:
    if isinstance(memory, PipelineChannel):
        return _parameter(task, memory)
    if not _MEMORY.match(str(memory)):
        raise DslError(
            f"Task '{task}': memory {memory!r} must be a number with an optional unit, "
            "like '512Mi' or '2G'."
        )
    return str(memory)
