"""Turns one pipeline graph (tasks nested in groups) into IR DAG components.

Every group (condition, loop, exit handler, branches) becomes a sub-DAG component, as
kfp does. The work is routing: a value used inside a group but produced outside it is
passed down through each group on the way as an input named `pipelinechannel--<name>`;
a value produced inside a loop or branch and used outside it (`Collected`, `OneOf`) is
passed up as a DAG output. Dependencies are lifted the same way, to the level where
producer and consumer are siblings.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from dagyard.compiler import components as cp
from dagyard.compiler.loaded import add_loaded_pipeline
from dagyard.dsl import structures as st
from dagyard.dsl import task_config
from dagyard.dsl.channels import (
    Collected,
    ConditionOperation,
    LoopArgument,
    LoopArgumentVariable,
    OneOf,
    PipelineChannel,
    find_in,
    replace_in,
)
from dagyard.dsl.context import Graph
from dagyard.dsl.control_flow import (
    ConditionBranches,
    ConditionGroup,
    ParallelFor,
    TasksGroup,
)
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.errors import CompileError

Node = PipelineTask | TasksGroup
PREFIX = "pipelinechannel--"


def _parent(node: Node) -> TasksGroup | None:
    return node.group if isinstance(node, PipelineTask) else node.parent


def _chain(node: Node) -> list[Node]:
    """Root group first, `node` last."""
    chain: list[Node] = [node]
    parent = _parent(node)
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return chain[::-1]


def _split(consumer: Node, producer: Node) -> tuple[TasksGroup, list[Node], list[Node]]:
    """Common ancestor group, then the chains below it to consumer and producer."""
    a, b = _chain(consumer), _chain(producer)
    i = 0
    while i < min(len(a), len(b)) and a[i] is b[i]:
        i += 1
    ancestor = a[i - 1]
    assert isinstance(ancestor, TasksGroup)
    return ancestor, a[i:], b[i:]


class _Dag:
    """The IR being assembled for one group."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.inputs: dict[str, st.IOSpec] = {}
        self.outputs: dict[str, Any] = {"parameters": {}, "artifacts": {}}
        self.output_specs: dict[str, st.IOSpec] = {}


class DagCompiler:
    """Compiles one `Graph` into DAG component dicts, adding leaf components to `table`."""

    def __init__(
        self, graph: Graph, table: cp.ComponentTable, compile_graph: Callable[[Graph], str]
    ) -> None:
        self.graph = graph
        self.table = table
        self.compile_graph = compile_graph
        self.dags: dict[TasksGroup, _Dag] = {}
        self._walk(graph.root)

    def _walk(self, group: TasksGroup) -> None:
        self.dags[group] = _Dag()
        for child in group.children:
            if isinstance(child, TasksGroup):
                self._walk(child)

    def _spec(self, node: Node) -> dict[str, Any]:
        parent = _parent(node)
        assert parent is not None
        return self.dags[parent].tasks.setdefault(node.name, {})

    # -- routing ---------------------------------------------------------------------
    def _depend(self, consumer: Node, producer: Node) -> None:
        """`consumer.after(producer)`: the dependency lifted to the siblings that hold
        them. Into a loop, as kfp allows it (its compiler_utils.get_dependencies checks
        the producer's outermost group only), it waits for every iteration; never into
        a condition the consumer is outside of, which may not run at all."""
        _, down, up = _split(consumer, producer)
        if not down or not up:
            raise CompileError(
                f"'{consumer.name}' cannot depend on its own group '{producer.name}'."
            )
        outermost = up[0]
        if len(up) > 1 and isinstance(outermost, ConditionGroup | ConditionBranches):
            raise CompileError(
                f"Task '{consumer.name}' runs after '{producer.name}', which is inside a "
                f"condition branch ('{outermost.name}') that does not contain "
                f"'{consumer.name}' and may not run. Move the task into the same block, or "
                "make it run after a task outside the branch."
            )
        deps = self._spec(down[0]).setdefault("dependentTasks", [])
        if up[0].name not in deps:
            deps.append(up[0].name)

    def _check_crossing(self, consumer: Node, producer: Node, groups: list[Node]) -> None:
        for group in groups:
            if isinstance(group, ParallelFor | ConditionGroup | ConditionBranches):
                kind = "a ParallelFor" if isinstance(group, ParallelFor) else "a condition branch"
                remedy = (
                    "dsl.Collected(...)" if isinstance(group, ParallelFor) else "dsl.OneOf(...)"
                )
                raise CompileError(
                    f"Task '{consumer.name}' uses '{producer.name}', which is inside {kind} "
                    f"('{group.name}') that does not contain '{consumer.name}'. Use {remedy} "
                    "to pass its values out, or move the task into the same block."
                )

    def _lift_output(self, channel: PipelineChannel, up: list[Node], *, collected: bool) -> str:
        """Expose `channel`, produced at the end of `up`, as an output of each group in
        `up` (outermost first); returns the output key at the outermost node."""
        if len(up) == 1:
            return channel.name
        key = PREFIX + channel.full_name
        inner_key = self._lift_output(channel, up[1:], collected=collected)
        group = up[0]
        assert isinstance(group, TasksGroup)
        dag = self.dags[group]
        spec = channel.spec
        # Every group a collected value passes out of holds it as a list, as kfp types it
        # (from the one inside a loop's iteration to a condition that is in no loop).
        if collected:
            spec = (
                st.IOSpec(
                    artifact_type=spec.artifact_type,
                    schema_version=spec.schema_version,
                    is_list=True,
                )
                if spec.is_artifact
                else st.IOSpec(parameter_type=st.LIST)
            )
        else:
            spec = st.IOSpec(
                parameter_type=spec.parameter_type,
                artifact_type=spec.artifact_type,
                schema_version=spec.schema_version,
                is_list=spec.is_list,
            )
        dag.output_specs[key] = spec
        if channel.is_artifact:
            dag.outputs["artifacts"][key] = {
                "artifactSelectors": [
                    {"producerSubtask": up[1].name, "outputArtifactKey": inner_key}
                ]
            }
        else:
            dag.outputs["parameters"][key] = {
                "valueFromParameter": {
                    "producerSubtask": up[1].name,
                    "outputParameterKey": inner_key,
                }
            }
        return key

    def _oneof_output(self, channel: OneOf) -> str:
        dag = self.dags[channel.branches]
        key = PREFIX + channel.full_name
        selectors = []
        for member in channel.channels:
            assert member.task is not None
            _, _, up = _split(channel.branches, member.task)
            inner = self._lift_output(member, up, collected=False)
            if member.is_artifact:
                selectors.append({"producerSubtask": up[0].name, "outputArtifactKey": inner})
            else:
                selectors.append({"producerSubtask": up[0].name, "outputParameterKey": inner})
        dag.output_specs[key] = channel.spec
        if channel.is_artifact:
            dag.outputs["artifacts"][key] = {"artifactSelectors": selectors}
        else:
            dag.outputs["parameters"][key] = {"valueFromOneof": {"parameterSelectors": selectors}}
        return key

    def _source(
        self, channel: PipelineChannel, consumer: Node
    ) -> tuple[TasksGroup, Node | None, dict[str, Any], list[Node]]:
        """Where `channel` is available: the group, the producing node in it (None for a
        group input), the IR reference there, and the chain from that group down to
        `consumer`."""
        kind = "Artifact" if channel.is_artifact else "Parameter"
        if isinstance(channel, LoopArgumentVariable | LoopArgument):
            loop = (channel.item if isinstance(channel, LoopArgumentVariable) else channel).loop
            chain = _chain(consumer)
            if loop not in chain:
                raise CompileError(
                    f"'{consumer.name}' uses the item of loop '{loop.name}' outside that loop."
                )
            item = channel.item if isinstance(channel, LoopArgumentVariable) else channel
            ref: dict[str, Any] = {f"componentInput{kind}": PREFIX + item.name}
            if isinstance(channel, LoopArgumentVariable):
                ref["parameterExpressionSelector"] = channel.selector
            return loop, None, ref, chain[chain.index(loop) + 1 :]
        if isinstance(channel, OneOf):
            ancestor, down, up = _split(consumer, channel.branches)
            key = self._oneof_output(channel)
            if len(up) > 1:
                key = self._lift_output(
                    _Renamed(channel, key), [*up[:-1], channel.branches], collected=False
                )
            return ancestor, up[0], _task_ref(kind, up[0].name, key), down
        if channel.task is None:
            if channel.name not in self.graph.inputs:
                raise CompileError(f"{channel!r} does not belong to pipeline '{self.graph.name}'.")
            root = self.graph.root
            return root, None, {f"componentInput{kind}": channel.name}, _chain(consumer)[1:]
        producer = channel.task
        ancestor, down, up = _split(consumer, producer)
        collected = isinstance(channel, Collected)
        crossing = up[:-1]
        if collected:
            if not any(isinstance(g, ParallelFor) for g in crossing):
                self._check_collected_outside_loops(channel, consumer, crossing)
        else:
            self._check_crossing(consumer, producer, crossing)
        key = self._lift_output(channel, up, collected=collected)
        return ancestor, up[0], _task_ref(kind, up[0].name, key), down

    def _check_collected_outside_loops(
        self, channel: PipelineChannel, consumer: Node, crossing: list[Node]
    ) -> None:
        """`dsl.Collected` of a task whose loops, if any, hold the consumer too. kfp
        allows one case: a pipeline's output collecting a task inside a condition, which
        gives that task's value, if it ran (compiler_utils.get_outputs_for_all_groups)."""
        producer = channel.task
        assert producer is not None
        if crossing and consumer is self.graph.root:
            return
        loops = [g for g in _chain(producer) if isinstance(g, ParallelFor)]
        user = f"the output of pipeline '{self.graph.name}'"
        if consumer is not self.graph.root:
            user = f"'{consumer.name}'"
        if loops:
            raise CompileError(
                f"dsl.Collected({channel.full_name}) is used by {user} inside the loop that "
                f"produces it ('{loops[-1].name}'); use it after the loop, or pass "
                f"'{producer.name}'s output directly."
            )
        raise CompileError(
            f"dsl.Collected({channel.full_name}) is used by {user}, but '{producer.name}' is "
            "in no dsl.ParallelFor: there is nothing to collect. Pass its output directly."
        )

    def _route(
        self, channel: PipelineChannel, consumer: Node, input_name: str | None
    ) -> dict[str, Any]:
        """Make `channel` available to `consumer`; returns the reference to put in the
        consumer's own input (named `input_name`, or `pipelinechannel--...`)."""
        _, producer, ref, down = self._source(channel, consumer)
        carried = channel.item if isinstance(channel, LoopArgumentVariable) else channel
        if producer is not None and down:
            deps = self._spec(down[0]).setdefault("dependentTasks", [])
            if producer.name not in deps:
                deps.append(producer.name)
        # Every group between the source and the consumer receives the value as an input;
        # collected values under the name kfp gives them: the loop's, then its output's.
        name = PREFIX + carried.full_name
        if isinstance(channel, Collected) and producer is not None:
            ((_, source),) = ref.items()
            key = source.get("outputArtifactKey") or source["outputParameterKey"]
            name = f"{PREFIX}{producer.name}-{key}"
        for node in down[:-1]:
            assert isinstance(node, TasksGroup)
            self._add_input(self._spec(node), name, ref, channel)
            self.dags[node].inputs[name] = _carried_spec(carried)
            kind = "Artifact" if channel.is_artifact else "Parameter"
            ref = {f"componentInput{kind}": name}
            if isinstance(channel, LoopArgumentVariable):
                ref["parameterExpressionSelector"] = channel.selector
        return ref

    def _add_input(
        self, spec: dict[str, Any], name: str, ref: dict[str, Any], channel: PipelineChannel
    ) -> None:
        section = "artifacts" if channel.is_artifact else "parameters"
        carried = {k: v for k, v in ref.items() if k != "parameterExpressionSelector"}
        spec.setdefault("inputs", {}).setdefault(section, {})[name] = carried

    # -- nodes -----------------------------------------------------------------------
    def compile(self) -> dict[str, Any]:
        """The pipeline's own DAG component; sub-DAGs and leaves go into the table."""
        for task in self.graph.tasks.values():
            self._task(task)
        self._groups(self.graph.root)
        for name, channel in self.graph.outputs.items():
            self._graph_output(name, channel)
        return self._register(self.graph.root)

    def _register(self, group: TasksGroup) -> dict[str, Any]:
        """Register sub-DAG components children first, so each parent refers to the
        final (possibly renamed or shared) name; returns `group`'s component."""
        for child in group.children:
            if isinstance(child, TasksGroup):
                name = self.table.add(child.name, self._register(child), None)
                self._spec(child)["componentRef"] = {"name": name}
        return self._component(group)

    def _groups(self, group: TasksGroup) -> None:
        for child in group.children:
            if isinstance(child, TasksGroup):
                self._group(child)
                self._groups(child)

    def _task(self, task: PipelineTask) -> None:
        spec = self._spec(task)
        spec["taskInfo"] = {"name": task.display_name or task.name}
        spec["cachingOptions"] = (
            {"enableCache": True, **({"cacheKey": task.cache_key} if task.cache_key else {})}
            if task.enable_caching
            else {}
        )
        for name, value in task.arguments.items():
            self._argument(task, spec, name, value)
        for name, input_spec in task.component.spec.inputs.items():
            # Given by the exit handler, unless passed on from a pipeline's own input.
            if input_spec.parameter_type == st.TASK_FINAL_STATUS and name not in task.arguments:
                if task.exit_handler is None:
                    raise CompileError(
                        f"Task '{task.name}' takes a PipelineTaskFinalStatus ('{name}') but is "
                        "not the exit task of a dsl.ExitHandler."
                    )
                spec.setdefault("inputs", {}).setdefault("parameters", {})[name] = {
                    "taskFinalStatus": {"producerTask": task.exit_handler.name}
                }
        for upstream in task.explicit_dependencies:
            self._depend(task, upstream)
        # As kfp does, every group between a condition and a task inside it also receives
        # the condition's values, so each sub-DAG can re-check what guards it.
        group: TasksGroup | None = task.group
        while group is not None:
            if isinstance(group, ConditionGroup):
                for op in group.conditions:
                    for side in (op.left, op.right):
                        if isinstance(side, PipelineChannel):
                            self._route(side, task, None)
            group = group.parent
        if task.exit_handler is not None:
            if task.exit_handler.parent is not task.group:
                raise CompileError(
                    f"Exit task '{task.name}' must be created in the block that contains its "
                    f"dsl.ExitHandler ('{task.exit_handler.name}')."
                )
            deps = spec.setdefault("dependentTasks", [])
            deps.append(task.exit_handler.name)
            spec["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
        if task.ignore_upstream_failure_flag:
            spec["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
        if task.retry is not None:
            spec["retryPolicy"] = {
                "backoffDuration": task.retry.backoff_duration,
                "backoffFactor": task.retry.backoff_factor,
                "backoffMaxDuration": task.retry.backoff_max_duration,
                "maxRetryCount": task.retry.max_retry_count,
            }
        spec["componentRef"] = {"name": self._leaf_component(task)}

    def _argument(self, task: PipelineTask, spec: dict[str, Any], name: str, value: Any) -> None:
        if isinstance(value, PipelineChannel):
            ref = self._route(value, task, name)
            section = "artifacts" if value.is_artifact else "parameters"
            spec.setdefault("inputs", {}).setdefault(section, {})[name] = ref
            return
        params = spec.setdefault("inputs", {}).setdefault("parameters", {})
        if isinstance(value, str) and find_in(value):
            for channel in find_in(value):
                params[PREFIX + channel.full_name] = self._route(channel, task, None)
            value = replace_in(
                value, lambda c: f"{{{{$.inputs.parameters['{PREFIX}{c.full_name}']}}}}"
            )
        params[name] = {"runtimeValue": {"constant": value}}

    def _leaf_component(self, task: PipelineTask) -> str:
        comp = task.component.spec
        impl = comp.implementation
        if isinstance(impl, st.GraphImplementation):
            return self.compile_graph(impl.graph)
        if isinstance(impl, st.PipelineSpecImplementation):
            if any(task.platform_config.values()):
                raise CompileError(
                    f"Task '{task.name}' runs a loaded pipeline and has Kubernetes settings; "
                    "as kfp, these may only be set on a task of a component. Set them "
                    "inside the pipeline before compiling and loading it."
                )
            return add_loaded_pipeline(self.table, comp.name, impl)
        executor: dict[str, Any]
        if isinstance(impl, st.ImporterImplementation):
            if impl.uri_from_input:
                uri = task.arguments.get(impl.artifact_uri)
                constant = uri if isinstance(uri, str) else None
            else:
                constant = impl.artifact_uri
            executor = cp.importer_executor(impl, constant)
        else:
            task_config.check_task(
                task=task.name,
                declared=comp.task_config_passthroughs,
                has_resources=any(
                    getattr(task.resources, f.name) is not None
                    for f in dataclasses.fields(st.Resources)
                ),
                has_env=bool(task.env),
                kubernetes=task.platform_config.get("kubernetes") or {},
            )
            image = self._image(task)
            res = self._resources(task)
            executor = cp.container_executor(impl, image=image, env=task.env, res=res)
        platform = {kind: self._platform(task, c) for kind, c in task.platform_config.items() if c}
        return self.table.add(comp.name, cp.interface(comp), executor, platform)

    def _platform(self, task: PipelineTask, settings: Any) -> Any:
        """A task's settings for another platform with each pipeline value in them
        (a channel, left by `dagyard.kubernetes`) replaced by its reference from where
        the task stands, as the task's own inputs are."""
        if isinstance(settings, PipelineChannel):
            return self._route(settings, task, None)
        if isinstance(settings, dict):
            return {key: self._platform(task, value) for key, value in settings.items()}
        if isinstance(settings, list):
            return [self._platform(task, value) for value in settings]
        return settings

    def _resources(self, task: PipelineTask) -> st.Resources:
        """The task's resources, each one given by a pipeline value written as a
        placeholder of the extra input named for it (`cpu_limit`, ...), as kfp writes
        them; KFP's driver (resolvePodSpecInputRuntimeParameter) and the engine read the
        placeholder's value when the task starts."""
        # Not dataclasses.asdict, which would copy the channels.
        given = {f.name: getattr(task.resources, f.name) for f in dataclasses.fields(st.Resources)}
        params: dict[str, Any] | None = None
        for field, value in given.items():
            if not isinstance(value, PipelineChannel):
                continue
            if params is None:
                params = self._spec(task).setdefault("inputs", {}).setdefault("parameters", {})
            params[PREFIX + value.full_name] = self._route(value, task, None)
            given[field] = f"{{{{$.inputs.parameters['{PREFIX}{value.full_name}']}}}}"
            params[field] = {"runtimeValue": {"constant": given[field]}}
        return task.resources if params is None else st.Resources(**given)

    def _image(self, task: PipelineTask) -> str | None:
        """The task's image override. One that comes from pipeline values is passed in
        as the extra input `base_image`, and the executor names it by placeholder, as
        kfp writes it."""
        image = task.container_image
        if image is None:
            return None
        text = str(image)
        channels = find_in(text)
        if not channels:
            return text
        params = self._spec(task).setdefault("inputs", {}).setdefault("parameters", {})
        for channel in channels:
            params[PREFIX + channel.full_name] = self._route(channel, task, None)
        rendered = replace_in(
            text, lambda c: f"{{{{$.inputs.parameters['{PREFIX}{c.full_name}']}}}}"
        )
        params["base_image"] = {"runtimeValue": {"constant": rendered}}
        return rendered

    def _group(self, group: TasksGroup) -> None:
        spec = self._spec(group)
        spec["taskInfo"] = {"name": group.display_name or group.name}
        if isinstance(group, ConditionGroup):
            spec["triggerPolicy"] = {
                "condition": " && ".join(self._condition(group, op) for op in group.conditions)
            }
        if isinstance(group, ParallelFor):
            self._loop(group, spec)

    def _loop(self, loop: ParallelFor, spec: dict[str, Any]) -> None:
        item = loop.item
        self.dags[loop].inputs[PREFIX + item.name] = _carried_spec(item)
        if loop.items_channel is None:
            spec["parameterIterator"] = {
                "items": {"raw": json.dumps(loop.raw_items, sort_keys=True)},
                "itemInput": PREFIX + item.name,
            }
        else:
            channel = loop.items_channel
            name = PREFIX + channel.full_name
            ref = self._route(channel, loop, name)
            self._add_input(spec, name, ref, channel)
            if "parameterExpressionSelector" in ref:
                spec["inputs"]["parameters"][name]["parameterExpressionSelector"] = ref[
                    "parameterExpressionSelector"
                ]
            self.dags[loop].inputs[name] = _carried_spec(channel)
            if channel.is_artifact:
                spec["artifactIterator"] = {
                    "items": {"inputArtifact": name},
                    "itemInput": PREFIX + item.name,
                }
            else:
                spec["parameterIterator"] = {
                    "items": {"inputParameter": name},
                    "itemInput": PREFIX + item.name,
                }
        if loop.parallelism:
            spec["iteratorPolicy"] = {"parallelismLimit": loop.parallelism}

    def _condition(self, group: ConditionGroup, op: ConditionOperation) -> str:
        operands = []
        types = []
        for side in (op.left, op.right):
            if isinstance(side, PipelineChannel):
                ptype = side.spec.parameter_type
                if ptype in (st.LIST, st.STRUCT, None):
                    raise CompileError(
                        f"Condition of '{group.name}' compares {side!r}; conditions need "
                        "str, int, float or bool values."
                    )
                name = PREFIX + side.full_name
                ref = self._route(side, group, name)
                self._add_input(self._spec(group), name, ref, side)
                if "parameterExpressionSelector" in ref:
                    self._spec(group)["inputs"]["parameters"][name][
                        "parameterExpressionSelector"
                    ] = ref["parameterExpressionSelector"]
                self.dags[group].inputs[name] = _carried_spec(side)
                text = f"inputs.parameter_values['{name}']"
                operands.append(f"int({text})" if ptype == st.NUMBER_INTEGER else text)
                types.append(ptype)
            else:
                operands.append(_cel_constant(side))
                types.append(_constant_type(side))
        if st.STRING in types and len(set(types)) > 1:
            operands = [
                o if t == st.STRING else f"string({o})"
                for o, t in zip(operands, types, strict=True)
            ]
        elif set(types) == {st.NUMBER_INTEGER, st.NUMBER_DOUBLE}:
            operands = [
                f"double({o})" if t == st.NUMBER_INTEGER else o
                for o, t in zip(operands, types, strict=True)
            ]
        text = f"{operands[0]} {op.operator} {operands[1]}"
        return f"!({text})" if op.negate else text

    def _graph_output(self, name: str, channel: PipelineChannel) -> None:
        if channel.task is None and not isinstance(channel, OneOf):
            raise CompileError(
                f"Pipeline '{self.graph.name}' output '{name}' must come from a task, not an input."
            )
        root = self.graph.root
        _, producer, ref, _ = self._source(channel, root)
        assert producer is not None
        ((_, source),) = ref.items()
        key = source.get("outputArtifactKey") or source["outputParameterKey"]
        if channel.is_artifact:
            root_outputs = self.dags[root].outputs["artifacts"]
            root_outputs[name] = {
                "artifactSelectors": [{"producerSubtask": producer.name, "outputArtifactKey": key}]
            }
        else:
            self.dags[root].outputs["parameters"][name] = {
                "valueFromParameter": {"producerSubtask": producer.name, "outputParameterKey": key}
            }

    def _component(self, group: TasksGroup) -> dict[str, Any]:
        dag = self.dags[group]
        for task_spec in dag.tasks.values():
            if "dependentTasks" in task_spec:
                task_spec["dependentTasks"] = sorted(task_spec["dependentTasks"])
        body: dict[str, Any] = {"tasks": dag.tasks}
        outputs = {k: v for k, v in dag.outputs.items() if v}
        if outputs:
            body["outputs"] = outputs
        component: dict[str, Any] = {"dag": body}
        if group is not self.graph.root:
            if dag.inputs:
                component["inputDefinitions"] = cp.io_definitions(dag.inputs)
            if dag.output_specs:
                component["outputDefinitions"] = cp.io_definitions(dag.output_specs)
        return component


class _Renamed(PipelineChannel):
    """A OneOf value seen under its key at the branches group, lifted further up."""

    def __init__(self, channel: OneOf, key: str) -> None:
        super().__init__(key, channel.spec)
        self._full = key[len(PREFIX) :]

    @property
    def full_name(self) -> str:
        return self._full


def _task_ref(kind: str, producer: str, key: str) -> dict[str, Any]:
    field = "outputArtifactKey" if kind == "Artifact" else "outputParameterKey"
    return {f"taskOutput{kind}": {"producerTask": producer, field: key}}


def _carried_spec(channel: PipelineChannel) -> st.IOSpec:
    spec = channel.spec
    return st.IOSpec(
        parameter_type=spec.parameter_type,
        artifact_type=spec.artifact_type,
        schema_version=spec.schema_version,
        is_list=spec.is_list,
    )


def _cel_constant(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, int | float):
        return repr(value)
    raise CompileError(f"Conditions compare with str, int, float or bool constants; got {value!r}.")


def _constant_type(value: Any) -> str:
    if isinstance(value, bool):
        return st.BOOLEAN
    if isinstance(value, str):
        return st.STRING
    if isinstance(value, int):
        return st.NUMBER_INTEGER
    return st.NUMBER_DOUBLE
