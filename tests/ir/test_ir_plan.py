"""`dagyard.ir.plan`: every corpus pipeline, compiled by kfp and by Dagyard, becomes typed
views that say what its YAML says, integers as integers.

The first test reads each document's YAML independently (the checks below name the IR's
keys) and compares every task, component and executor of the plan with it; the others
pin the values of the features one by one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from ir_corpus import STEMS, compile_stem

import dagyard.ir as ir
from dagyard.errors import IRError
from dagyard.ir.pipeline import (
    Component,
    Container,
    ContainerComponent,
    DagComponent,
    Definitions,
    Importer,
    ImporterComponent,
    ParameterType,
    PipelinePlan,
    Task,
    UnsupportedComponent,
    UnsupportedExecutor,
)
from dagyard.ir.sources import (
    ArtifactIterator,
    ComponentInputArtifact,
    ComponentInputParameter,
    Constant,
    InputItems,
    ParameterIterator,
    RawItems,
    RetryPolicy,
    RuntimeParameter,
    TaskFinalStatus,
    TaskOutputArtifact,
    TaskOutputParameter,
    TriggerStrategy,
)

pytestmark = pytest.mark.kfp

Raw = dict[str, Any]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ir.PipelineDocument]:
    directory = tmp_path_factory.mktemp("corpus")
    return {stem: compile_stem(stem, directory) for stem in STEMS}


def _plan(documents: dict[str, ir.PipelineDocument], stem: str) -> PipelinePlan:
    return ir.plan(documents[stem])


# -- the whole corpus, against its YAML ----------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_plan_of_each_corpus_pipeline_says_what_its_yaml_says(
    documents: dict[str, ir.PipelineDocument], stem: str
) -> None:
    raw = documents[stem].raw
    plan = _plan(documents, stem)

    assert plan.info.name == raw["pipelineInfo"]["name"]
    assert plan.default_pipeline_root == raw.get("defaultPipelineRoot")
    assert plan.schema_version == raw["schemaVersion"]
    assert list(plan.components) == list(raw["components"])
    assert list(plan.executors) == list(raw["deploymentSpec"]["executors"])
    _check_component(plan, plan.root, raw["root"], raw)
    for name, component in plan.components.items():
        assert component.name == name
        _check_component(plan, component, raw["components"][name], raw)


def _check_component(plan: PipelinePlan, component: Component, spec: Raw, raw: Raw) -> None:
    _check_definitions(component.inputs, spec.get("inputDefinitions", {}))
    _check_definitions(component.outputs, spec.get("outputDefinitions", {}))
    if isinstance(component, DagComponent):
        tasks = spec["dag"]["tasks"]
        assert list(component.tasks) == list(tasks)
        for name, task in component.tasks.items():
            _check_task(plan, task, tasks[name])
        _check_dag_outputs(component, spec["dag"].get("outputs", {}))
        return
    assert not isinstance(component, UnsupportedComponent)  # none in the corpus
    label = spec["executorLabel"]
    assert component.executor_label == label
    executor = raw["deploymentSpec"]["executors"][label]
    if isinstance(component, ContainerComponent):
        assert component.container is plan.executors[label]
        _check_container(component.container, executor["container"])
    else:
        assert isinstance(component, ImporterComponent)
        _check_importer(component.importer, executor["importer"])


def _check_definitions(definitions: Definitions, spec: Raw) -> None:
    parameters = spec.get("parameters", {})
    assert list(definitions.parameters) == list(parameters)
    for name, definition in definitions.parameters.items():
        written = parameters[name]
        assert definition.type == written["parameterType"]
        assert definition.is_optional == written.get("isOptional", False)
        assert definition.has_default == ("defaultValue" in written)
        if definition.has_default:
            _check_value(definition.default, written["defaultValue"], definition.type)
    artifacts = spec.get("artifacts", {})
    assert list(definitions.artifacts) == list(artifacts)
    for name, artifact in definitions.artifacts.items():
        written = artifacts[name]
        assert artifact.type.schema_title == written["artifactType"]["schemaTitle"]
        assert artifact.type.schema_version == written["artifactType"].get("schemaVersion", "")
        assert artifact.is_list == written.get("isArtifactList", False)
        assert artifact.is_optional == written.get("isOptional", False)


def _check_value(value: Any, written: Any, kind: ParameterType | None) -> None:
    """Equal to the YAML's value, and an int wherever the type says integer."""
    assert value == written
    if kind is ParameterType.NUMBER_INTEGER and isinstance(written, int | float):
        assert type(value) is int, f"{value!r} should be an int"
    elif not isinstance(written, float):
        assert type(value) is type(written)


def _check_task(plan: PipelinePlan, task: Task, spec: Raw) -> None:
    component_name = spec["componentRef"]["name"]
    assert task.component is plan.components[component_name]
    assert task.display_name == spec.get("taskInfo", {}).get("name", task.name)
    # The listed tasks, then the producers of its task outputs that the list leaves out, as
    # KFP's backend adds them (addImplicitDependencies, argocompiler/dag.go).
    listed = tuple(spec.get("dependentTasks", ()))
    producers = {
        value[source]["producerTask"]
        for kind, source in (
            ("parameters", "taskOutputParameter"),
            ("artifacts", "taskOutputArtifact"),
        )
        for value in spec.get("inputs", {}).get(kind, {}).values()
        if source in value
    }
    assert task.dependent_tasks[: len(listed)] == listed
    assert set(task.dependent_tasks[len(listed) :]) == producers - set(listed)
    declared = task.component.inputs.parameters
    inputs = spec.get("inputs", {})
    assert list(task.parameters) == list(inputs.get("parameters", {}))
    for name, given in task.parameters.items():
        written = inputs["parameters"][name]
        assert given.selector == written.get("parameterExpressionSelector")
        source = given.source
        if "componentInputParameter" in written:
            assert source == ComponentInputParameter(written["componentInputParameter"])
        elif "taskOutputParameter" in written:
            output = written["taskOutputParameter"]
            assert source == TaskOutputParameter(
                output["producerTask"], output["outputParameterKey"]
            )
        elif "taskFinalStatus" in written:
            assert source == TaskFinalStatus(written["taskFinalStatus"]["producerTask"])
        else:
            assert isinstance(source, Constant)
            definition = declared.get(name)
            _check_value(
                source.value,
                written["runtimeValue"]["constant"],
                definition.type if definition else None,
            )
    assert list(task.artifacts) == list(inputs.get("artifacts", {}))
    for name, artifact in task.artifacts.items():
        written = inputs["artifacts"][name]
        if "componentInputArtifact" in written:
            assert artifact == ComponentInputArtifact(written["componentInputArtifact"])
        else:
            output = written["taskOutputArtifact"]
            assert artifact == TaskOutputArtifact(
                output["producerTask"], output["outputArtifactKey"]
            )
    trigger = spec.get("triggerPolicy", {})
    assert task.trigger.condition == trigger.get("condition")
    assert task.trigger.strategy == trigger.get("strategy", "TRIGGER_STRATEGY_UNSPECIFIED")
    _check_retry(task.retry, spec.get("retryPolicy"))
    caching = spec.get("cachingOptions", {})
    assert task.caching.enabled == caching.get("enableCache", False)
    assert task.caching.cache_key == caching.get("cacheKey")
    _check_iterator(task, spec)


def _check_retry(retry: RetryPolicy, spec: Raw | None) -> None:
    if spec is None:
        assert retry == RetryPolicy(max_retry_count=0)
        return
    assert type(retry.max_retry_count) is int
    assert retry.max_retry_count == spec["maxRetryCount"]
    assert retry.backoff_seconds == float(spec["backoffDuration"].removesuffix("s"))
    assert retry.backoff_factor == spec["backoffFactor"]
    assert retry.backoff_max_seconds == float(spec["backoffMaxDuration"].removesuffix("s"))


def _check_iterator(task: Task, spec: Raw) -> None:
    limit = spec.get("iteratorPolicy", {}).get("parallelismLimit", 0)
    if "parameterIterator" in spec:
        written = spec["parameterIterator"]
        assert isinstance(task.iterator, ParameterIterator)
        assert task.iterator.item_input == written["itemInput"]
        assert task.iterator.parallelism_limit == limit
        if "raw" in written["items"]:
            assert task.iterator.items == RawItems(tuple(json.loads(written["items"]["raw"])))
        else:
            assert task.iterator.items == InputItems(written["items"]["inputParameter"])
    elif "artifactIterator" in spec:
        written = spec["artifactIterator"]
        assert task.iterator == ArtifactIterator(
            written["items"]["inputArtifact"], written["itemInput"], limit
        )
    else:
        assert task.iterator is None


def _check_dag_outputs(component: DagComponent, spec: Raw) -> None:
    parameters = spec.get("parameters", {})
    assert list(component.parameter_outputs) == list(parameters)
    for name, selectors in component.parameter_outputs.items():
        written = parameters[name]
        chosen = (
            [written["valueFromParameter"]]
            if "valueFromParameter" in written
            else written["valueFromOneof"]["parameterSelectors"]
        )
        assert [(s.producer_subtask, s.output_key) for s in selectors] == [
            (c["producerSubtask"], c["outputParameterKey"]) for c in chosen
        ]
    artifacts = spec.get("artifacts", {})
    assert list(component.artifact_outputs) == list(artifacts)
    for name, selectors in component.artifact_outputs.items():
        assert [(s.producer_subtask, s.output_key) for s in selectors] == [
            (c["producerSubtask"], c["outputArtifactKey"])
            for c in artifacts[name]["artifactSelectors"]
        ]


def _check_container(container: Container, spec: Raw) -> None:
    assert container.image == spec["image"]
    assert container.command == tuple(spec.get("command", ()))
    assert container.args == tuple(spec.get("args", ()))
    assert [(e.name, e.value) for e in container.env] == [
        (e["name"], e["value"]) for e in spec.get("env", ())
    ]
    assert (container.resources is None) == ("resources" not in spec)
    assert container.raw == spec


def _check_importer(importer: Importer, spec: Raw) -> None:
    uri = spec["artifactUri"]
    if "runtimeParameter" in uri:
        assert importer.artifact_uri == RuntimeParameter(uri["runtimeParameter"])
    else:
        assert importer.artifact_uri == Constant(uri["constant"])
    assert importer.type.schema_title == spec["typeSchema"]["schemaTitle"]
    assert dict(importer.metadata) == spec.get("metadata", {})
    assert importer.reimport == spec.get("reimport", False)


# -- features, one by one ------------------------------------------------------------


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_retry_policies_are_numbers_with_kfps_defaults_for_what_is_left_out(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    tasks = _plan(documents, f"{sdk}_task_config").root.tasks

    assert tasks["train"].retry == RetryPolicy(2, 0.0, 2.0, 3600.0)
    assert tasks["flaky-eval"].retry == RetryPolicy(3, 1.0, 1.5, 10.0)
    assert tasks["prepare"].retry == RetryPolicy(0)


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_task_settings_become_typed_caching_trigger_and_resources(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    tasks = _plan(documents, f"{sdk}_task_config").root.tasks

    assert not tasks["prepare"].caching.enabled
    assert tasks["prepare"].display_name == "Prepare data"
    assert tasks["train"].caching.enabled and tasks["train"].caching.cache_key == "train-v1"
    assert tasks["report-3"].trigger.strategy is TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED
    assert tasks["report-3"].dependent_tasks == ("flaky-eval",)
    train = tasks["train"].component
    assert isinstance(train, ContainerComponent)
    resources = train.container.resources
    assert resources is not None and resources.accelerator is not None
    assert resources.resource_cpu_request == "500m"
    assert resources.resource_memory_limit == "1G"
    assert resources.accelerator.resource_type == "nvidia.com/gpu"
    assert {(e.name, e.value) for e in train.container.env} >= {("WANDB_MODE", "offline")}


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_loops_over_constants_and_parameters_keep_integer_items(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    plan = _plan(documents, f"{sdk}_loops_static")
    iterators = {name: task.iterator for name, task in plan.root.tasks.items()}

    constants = [
        i.items.items
        for i in iterators.values()
        if isinstance(i, ParameterIterator) and isinstance(i.items, RawItems)
    ]
    seeds = constants[constants.index((1, 2, 3))]
    assert [type(seed) for seed in seeds] == [int, int, int]
    limits = {
        i.parallelism_limit: i.items for i in iterators.values() if isinstance(i, ParameterIterator)
    }
    assert isinstance(limits[2], InputItems)
    assert isinstance(limits[1], RawItems) and limits[1].items[0] == {"lr": 0.1, "momentum": 0.9}
    assert plan.root.inputs.parameters["folds"].default == [1, 2, 3]


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_loop_over_a_task_output_reads_its_items_from_an_input(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    plan = _plan(documents, f"{sdk}_loops_dynamic")
    loops = [t for t in plan.root.tasks.values() if t.iterator is not None]

    assert loops
    for loop in loops:
        assert isinstance(loop.iterator, ParameterIterator)
        assert isinstance(loop.iterator.items, InputItems)
        source = loop.parameters[loop.iterator.items.parameter].source
        assert isinstance(source, TaskOutputParameter)
        assert source.producer_task in plan.root.tasks


def test_integer_defaults_kfp_writes_as_doubles_are_ints(
    documents: dict[str, ir.PipelineDocument],
) -> None:
    raw = documents["kfp_loops_dynamic"].raw
    written = raw["root"]["inputDefinitions"]["parameters"]["n"]["defaultValue"]

    default = _plan(documents, "kfp_loops_dynamic").root.inputs.parameters["n"].default

    assert type(written) is float
    assert default == 3 and type(default) is int


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_exit_task_reads_the_final_status_of_the_group(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    tasks = _plan(documents, f"{sdk}_exit_handler").root.tasks
    exit_tasks = [
        t
        for t in tasks.values()
        if t.trigger.strategy is TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED
    ]

    statuses = [(task, given.source) for task in exit_tasks for given in task.parameters.values()]
    assert any(
        isinstance(source, TaskFinalStatus) and source.producer_task in task.dependent_tasks
        for task, source in statuses
    )


@pytest.mark.parametrize("sdk", ["kfp", "dy"])
def test_importers_take_a_constant_uri_or_a_parameter(
    documents: dict[str, ir.PipelineDocument], sdk: str
) -> None:
    plan = _plan(documents, f"{sdk}_importer")
    importers = [e for e in plan.executors.values() if isinstance(e, Importer)]

    assert {type(i.artifact_uri) for i in importers} == {Constant, RuntimeParameter}
    assert any(i.reimport for i in importers)
    assert all(i.type.schema_title.startswith("system.") for i in importers)


def test_conditions_and_oneof_outputs(documents: dict[str, ir.PipelineDocument]) -> None:
    plan = _plan(documents, "dy_oneof")
    conditions = [
        t.trigger.condition
        for c in plan.components.values()
        if isinstance(c, DagComponent)
        for t in c.tasks.values()
        if t.trigger.condition
    ]
    oneofs = [
        selectors
        for c in plan.components.values()
        if isinstance(c, DagComponent)
        for selectors in (*c.parameter_outputs.values(), *c.artifact_outputs.values())
        if len(selectors) > 1
    ]

    assert conditions and all("inputs.parameter_values[" in c for c in conditions)
    assert oneofs


# -- the views themselves ------------------------------------------------------------


def test_plan_is_frozen_and_its_mappings_read_only(
    documents: dict[str, ir.PipelineDocument],
) -> None:
    plan = _plan(documents, "dy_task_config")
    task = plan.root.tasks["train"]

    with pytest.raises(dataclasses.FrozenInstanceError):
        task.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.root.tasks["x"] = task  # type: ignore[index]
    with pytest.raises(TypeError):
        task.component.inputs.parameters["x"] = None  # type: ignore[index]


def _minimal(root: Raw, executors: Raw) -> Raw:
    return {
        "schemaVersion": "2.1.0",
        "pipelineInfo": {"name": "p"},
        "root": root,
        "components": {"comp-a": {"executorLabel": "exec-a"}},
        "deploymentSpec": {"executors": executors},
    }


def test_an_executor_dagyard_does_not_run_is_planned_as_unsupported() -> None:
    spec = _minimal(
        {"dag": {"tasks": {"a": {"componentRef": {"name": "comp-a"}, "taskInfo": {"name": "a"}}}}},
        {"exec-a": {"resolver": {"outputArtifactQueries": {}}}},
    )

    plan = ir.plan(ir.from_dict(spec))

    component = plan.root.tasks["a"].component
    assert isinstance(component, UnsupportedComponent)
    assert component.executor == UnsupportedExecutor(kind="resolver")


def test_a_root_that_is_not_a_dag_is_an_error_naming_the_root(tmp_path: Path) -> None:
    spec = _minimal({"executorLabel": "exec-a"}, {"exec-a": {"container": {"image": "alpine"}}})

    with pytest.raises(IRError) as caught:
        ir.plan(ir.from_dict(spec))

    assert caught.value.path == "root"
    assert "dag" in str(caught.value)
