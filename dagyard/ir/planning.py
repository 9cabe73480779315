"""Building the plan: a validated document read once into the views of `pipeline.py`.

Belongs here: `plan(document)` and the reading of each IR section into its view, and
`pipeline_info(spec)`, the one part cheap enough to read from a stored spec without
planning it. After validation, this is where the IR's camelCase field names are read;
every other package reads the plan. It reads `document.raw`, not the protobuf message,
because protobuf keeps every number of a `Value` as a double, and the plan keeps
integers integers.

Must not validate: the document passed `structure.py` (shapes, types, one field of
each oneof) and `semantics.py` (references, cycles, iterators), so a missing section
here means "not set". The few alternatives that validation lets through and the engine
cannot run become values that say so (`UnsupportedExecutor`), not errors, except a root
that is not a DAG, which no compiler writes. Must not run anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from dagyard.errors import IRError
from dagyard.ir import pipeline, sources
from dagyard.ir.document import PipelineDocument
from dagyard.ir.kubernetes import read_kubernetes
from dagyard.ir.schema import JsonDict, pipeline_spec_pb2
from dagyard.ir.workspace import read_workspace_size

_V = TypeVar("_V")
_ROOT = "root"


def plan(document: PipelineDocument) -> pipeline.PipelinePlan:
    """The typed plan of a validated document. Raises IRError only for a root component
    that is not a DAG."""
    raw = document.raw
    executors = {
        label: _executor(spec)
        for label, spec in _section(_section(raw, "deploymentSpec"), "executors").items()
    }
    builder = _Builder(_section(raw, "components"), executors)
    components = {name: builder.component(name) for name in builder.sections}
    root = builder.build(_ROOT, _section(raw, _ROOT))
    if not isinstance(root, pipeline.DagComponent):
        raise IRError(
            "the root component runs an executor instead of a dag; compile the component "
            "as a pipeline (kfp and Dagyard wrap it in a one-task dag)",
            path=_ROOT,
        )
    return pipeline.PipelinePlan(
        info=pipeline_info(raw),
        root=root,
        components=_frozen(components),
        executors=_frozen(executors),
        schema_version=raw.get("schemaVersion", ""),
        sdk_version=raw.get("sdkVersion") or "",
        default_pipeline_root=raw.get("defaultPipelineRoot") or None,
        platform_spec=document.platform_spec,
        kubernetes=read_kubernetes(document.platform_spec),
        workspace_size=read_workspace_size(document.platform_spec),
    )


def pipeline_info(spec: Mapping[str, Any]) -> pipeline.PipelineInfo:
    """The `pipelineInfo` of a PipelineSpec dict, read without validating or planning
    the rest: for specs validated when they were stored, where planning each would cost
    too much (a page of runs). A section that is missing or not a mapping reads as empty."""
    info = spec.get("pipelineInfo")
    if not isinstance(info, dict):
        info = {}
    return pipeline.PipelineInfo(
        name=info.get("name", ""),
        display_name=info.get("displayName") or "",
        description=info.get("description") or "",
    )


class _Builder:
    """Builds each component once, callees first (validation ruled out cycles), so that
    every task holds the very object that `PipelinePlan.components` holds."""

    def __init__(self, sections: JsonDict, executors: Mapping[str, pipeline.Executor]) -> None:
        self.sections = sections
        self.executors = executors
        self.built: dict[str, pipeline.Component] = {}

    def component(self, name: str) -> pipeline.Component:
        if name not in self.built:
            self.built[name] = self.build(name, _section(self.sections, name))
        return self.built[name]

    def build(self, name: str, section: JsonDict) -> pipeline.Component:
        inputs = _definitions(_section(section, "inputDefinitions"))
        outputs = _definitions(_section(section, "outputDefinitions"))
        if "dag" in section:
            dag = _section(section, "dag")
            dag_outputs = _section(dag, "outputs")
            return pipeline.DagComponent(
                name=name,
                inputs=inputs,
                outputs=outputs,
                tasks=_frozen(
                    {key: self.task(key, spec) for key, spec in _section(dag, "tasks").items()}
                ),
                parameter_outputs=_each(dag_outputs, "parameters", _parameter_selectors),
                artifact_outputs=_each(dag_outputs, "artifacts", _artifact_selectors),
            )
        label = section.get("executorLabel", "")
        executor = self.executors[label]
        if isinstance(executor, pipeline.Container):
            passthroughs = {
                str(entry.get("field", "")): entry.get("applyToTask") is True
                for entry in section.get("taskConfigPassthroughs", [])
                if isinstance(entry, dict)
            }
            return pipeline.ContainerComponent(
                name, inputs, outputs, label, executor, _frozen(passthroughs)
            )
        if isinstance(executor, pipeline.Importer):
            return pipeline.ImporterComponent(name, inputs, outputs, label, executor)
        return pipeline.UnsupportedComponent(name, inputs, outputs, label, executor)

    def task(self, name: str, spec: JsonDict) -> pipeline.Task:
        component = self.component(_section(spec, "componentRef").get("name", ""))
        declared = component.inputs.parameters
        inputs = _section(spec, "inputs")
        return pipeline.Task(
            name=name,
            display_name=_section(spec, "taskInfo").get("name") or name,
            component=component,
            dependent_tasks=_dependent_tasks(spec),
            parameters=_frozen(
                {
                    key: _parameter_input(value, declared.get(key))
                    for key, value in _section(inputs, "parameters").items()
                }
            ),
            artifacts=_each(inputs, "artifacts", _artifact_source),
            trigger=_trigger(_section(spec, "triggerPolicy")),
            retry=_retry(spec.get("retryPolicy")),
            caching=sources.CachingOptions(
                enabled=bool(_section(spec, "cachingOptions").get("enableCache")),
                cache_key=_section(spec, "cachingOptions").get("cacheKey") or None,
            ),
            iterator=_iterator(spec),
        )


# -- definitions ---------------------------------------------------------------------


def _definitions(section: JsonDict) -> pipeline.Definitions:
    return pipeline.Definitions(
        parameters=_each(section, "parameters", _parameter_definition),
        artifacts=_each(section, "artifacts", _artifact_definition),
        raw=MappingProxyType(section),
    )


def _parameter_definition(spec: JsonDict) -> pipeline.ParameterDefinition:
    kind = pipeline.ParameterType(
        _enum_name(spec.get("parameterType"), pipeline_spec_pb2.ParameterType.ParameterTypeEnum)
    )
    return pipeline.ParameterDefinition(
        type=kind,
        # As the engine has always read it: a default given as null is a null default.
        has_default="defaultValue" in spec,
        default=_typed(spec.get("defaultValue"), kind),
        is_optional=bool(spec.get("isOptional")),
        description=spec.get("description") or "",
    )


def _artifact_definition(spec: JsonDict) -> pipeline.ArtifactDefinition:
    return pipeline.ArtifactDefinition(
        type=_artifact_type(_section(spec, "artifactType")),
        is_list=bool(spec.get("isArtifactList")),
        is_optional=bool(spec.get("isOptional")),
        description=spec.get("description") or "",
        metadata=_frozen(_section(spec, "metadata")),
    )


def _artifact_type(spec: JsonDict) -> pipeline.ArtifactType:
    return pipeline.ArtifactType(
        schema_title=spec.get("schemaTitle") or "",
        schema_version=spec.get("schemaVersion") or "",
        schema_uri=spec.get("schemaUri") or "",
        instance_schema=spec.get("instanceSchema") or "",
    )


# -- executors -----------------------------------------------------------------------


def _executor(spec: JsonDict) -> pipeline.Executor:
    if "container" in spec:
        return _container(_section(spec, "container"))
    if "importer" in spec:
        importer = _section(spec, "importer")
        return pipeline.Importer(
            artifact_uri=_value_or_parameter(_section(importer, "artifactUri"), None),
            type=_artifact_type(_section(importer, "typeSchema")),
            metadata=_frozen(_section(importer, "metadata")),
            reimport=bool(importer.get("reimport")),
            download_to_workspace=bool(importer.get("downloadToWorkspace")),
        )
    kind = next((key for key in spec if spec[key] is not None), "")
    return pipeline.UnsupportedExecutor(kind=kind, raw=MappingProxyType(spec))


def _container(spec: JsonDict) -> pipeline.Container:
    pre_cache_check = _section(_section(spec, "lifecycle"), "preCacheCheck")
    return pipeline.Container(
        image=spec.get("image", ""),
        command=tuple(spec.get("command") or ()),
        args=tuple(spec.get("args") or ()),
        env=tuple(
            pipeline.EnvVar(name=entry.get("name", ""), value=entry.get("value", ""))
            for entry in spec.get("env") or ()
        ),
        resources=_resources(_section(spec, "resources")) if "resources" in spec else None,
        pre_cache_check=(
            pipeline.Exec(
                command=tuple(pre_cache_check.get("command") or ()),
                args=tuple(pre_cache_check.get("args") or ()),
            )
            if pre_cache_check
            else None
        ),
        raw=MappingProxyType(spec),
    )


def _resources(spec: JsonDict) -> pipeline.Resources:
    accelerator = _section(spec, "accelerator")
    return pipeline.Resources(
        cpu_limit=_number(spec.get("cpuLimit")),
        memory_limit=_number(spec.get("memoryLimit")),
        cpu_request=_number(spec.get("cpuRequest")),
        memory_request=_number(spec.get("memoryRequest")),
        resource_cpu_limit=spec.get("resourceCpuLimit"),
        resource_memory_limit=spec.get("resourceMemoryLimit"),
        resource_cpu_request=spec.get("resourceCpuRequest"),
        resource_memory_request=spec.get("resourceMemoryRequest"),
        accelerator=(
            pipeline.Accelerator(
                type=accelerator.get("type") or "",
                # int64 in the IR: protobuf's JSON writes it as a string ("1").
                count=int(accelerator.get("count") or 0),
                resource_type=accelerator.get("resourceType") or "",
                resource_count=accelerator.get("resourceCount") or "",
            )
            if accelerator
            else None
        ),
    )


# -- a task's parts ------------------------------------------------------------------


def _parameter_input(
    spec: JsonDict, declared: pipeline.ParameterDefinition | None
) -> sources.ParameterInput:
    source: sources.ParameterSource
    if "componentInputParameter" in spec:
        source = sources.ComponentInputParameter(spec["componentInputParameter"])
    elif "taskOutputParameter" in spec:
        output = _section(spec, "taskOutputParameter")
        source = sources.TaskOutputParameter(
            output.get("producerTask", ""), output.get("outputParameterKey", "")
        )
    elif "taskFinalStatus" in spec:
        source = sources.TaskFinalStatus(_section(spec, "taskFinalStatus").get("producerTask", ""))
    else:  # validation guarantees a runtimeValue here
        source = _value_or_parameter(
            _section(spec, "runtimeValue"), declared.type if declared else None
        )
    return sources.ParameterInput(source, spec.get("parameterExpressionSelector") or None)


def _artifact_source(spec: JsonDict) -> sources.ArtifactSource:
    if "componentInputArtifact" in spec:
        return sources.ComponentInputArtifact(spec["componentInputArtifact"])
    output = _section(spec, "taskOutputArtifact")
    return sources.TaskOutputArtifact(
        output.get("producerTask", ""), output.get("outputArtifactKey", "")
    )


def _value_or_parameter(
    spec: JsonDict, kind: pipeline.ParameterType | None
) -> sources.ConstantOrRuntimeParameter:
    """A `ValueOrRuntimeParameter`; an empty one is a null constant."""
    if "runtimeParameter" in spec:
        return sources.RuntimeParameter(spec["runtimeParameter"])
    if "constantValue" in spec:  # the older form: {intValue | doubleValue | stringValue}
        old = _section(spec, "constantValue")
        if "intValue" in old:
            return sources.Constant(int(old["intValue"]))
        if "doubleValue" in old:
            return sources.Constant(float(old["doubleValue"]))
        return sources.Constant(old.get("stringValue"))
    return sources.Constant(_typed(spec.get("constant"), kind))


def _trigger(spec: JsonDict) -> sources.TriggerPolicy:
    strategy = spec.get("strategy")
    return sources.TriggerPolicy(
        condition=spec.get("condition") or None,
        strategy=sources.TriggerStrategy(
            _enum_name(strategy, pipeline_spec_pb2.PipelineTaskSpec.TriggerPolicy.TriggerStrategy)
        )
        if strategy is not None
        else sources.TriggerStrategy.UNSPECIFIED,
    )


def _retry(spec: JsonDict | None) -> sources.RetryPolicy:
    if spec is None:
        return sources.RetryPolicy()
    default = sources.RetryPolicy()
    return sources.RetryPolicy(
        max_retry_count=int(spec.get("maxRetryCount") or 0),
        backoff_seconds=_seconds(spec.get("backoffDuration"), default.backoff_seconds),
        backoff_factor=(
            default.backoff_factor
            if spec.get("backoffFactor") is None
            else float(spec["backoffFactor"])
        ),
        backoff_max_seconds=_seconds(spec.get("backoffMaxDuration"), default.backoff_max_seconds),
    )


def _iterator(spec: JsonDict) -> sources.Iterator | None:
    limit = int(_section(spec, "iteratorPolicy").get("parallelismLimit") or 0)
    if "parameterIterator" in spec:
        iterator = _section(spec, "parameterIterator")
        items = _section(iterator, "items")
        return sources.ParameterIterator(
            items=(
                sources.RawItems(tuple(json.loads(items["raw"])))
                if "raw" in items
                else sources.InputItems(items.get("inputParameter", ""))
            ),
            item_input=iterator.get("itemInput", ""),
            parallelism_limit=limit,
        )
    if "artifactIterator" in spec:
        iterator = _section(spec, "artifactIterator")
        return sources.ArtifactIterator(
            input_artifact=_section(iterator, "items").get("inputArtifact", ""),
            item_input=iterator.get("itemInput", ""),
            parallelism_limit=limit,
        )
    return None


def _parameter_selectors(spec: JsonDict) -> tuple[sources.OutputSelector, ...]:
    if "valueFromParameter" in spec:
        return _selectors([spec["valueFromParameter"]], "outputParameterKey")
    oneof = _section(spec, "valueFromOneof").get("parameterSelectors")
    return _selectors(oneof, "outputParameterKey")


def _artifact_selectors(spec: JsonDict) -> tuple[sources.OutputSelector, ...]:
    return _selectors(spec.get("artifactSelectors"), "outputArtifactKey")


def _selectors(specs: list[JsonDict] | None, key: str) -> tuple[sources.OutputSelector, ...]:
    return tuple(
        sources.OutputSelector(spec.get("producerSubtask", ""), spec.get(key, ""))
        for spec in specs or ()
    )


# -- values --------------------------------------------------------------------------


def _typed(value: Any, kind: pipeline.ParameterType | None) -> Any:
    """A whole double back to an int where the type says integer (kfp writes `2.0`)."""
    if (
        kind is pipeline.ParameterType.NUMBER_INTEGER
        and isinstance(value, float)
        and value.is_integer()
    ):
        return int(value)
    return value


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _seconds(duration: str | None, default: float) -> float:
    """A protobuf Duration as JSON writes it ("10s", "0.5s")."""
    return default if duration is None else float(duration.removesuffix("s"))


def _enum_name(value: Any, enum: Any) -> str:
    """An enum given by name or, as protobuf's JSON also allows, by number."""
    return str(enum.Name(value)) if isinstance(value, int) else str(value)


def _dependent_tasks(spec: JsonDict) -> tuple[str, ...]:
    """The tasks listed in `dependentTasks`, then those whose outputs the task takes
    and the list leaves out, as KFP's backend adds them (addImplicitDependencies in
    backend/src/v2/compiler/argocompiler/dag.go): kfp writes none for a task output
    given to `set_cpu_limit()` and the other resource setters."""
    upstream = list(spec.get("dependentTasks") or ())
    inputs = _section(spec, "inputs")
    for kind, source in (
        ("parameters", "taskOutputParameter"),
        ("artifacts", "taskOutputArtifact"),
    ):
        for value in _section(inputs, kind).values():
            producer = _section(value, source).get("producerTask")
            if producer and producer not in upstream:
                upstream.append(producer)
    return tuple(upstream)


def _section(holder: JsonDict, key: str) -> JsonDict:
    """`holder[key]` when it is a mapping, else an empty one (null means unset)."""
    value = holder.get(key)
    return value if isinstance(value, dict) else {}


def _each(holder: JsonDict, key: str, read: Callable[[JsonDict], _V]) -> Mapping[str, _V]:
    """Each entry of the map `holder[key]`, read."""
    return _frozen({name: read(spec) for name, spec in _section(holder, key).items()})


def _frozen(mapping: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(mapping))
