"""Each validation rule: break a valid document in one place, get IRError at that place."""

from collections.abc import Callable
from typing import Any

import pytest
from ir_sample import sample_platform_spec, sample_spec

import dagyard.ir as ir
from dagyard.errors import IRError

Spec = dict[str, Any]


def at(spec: Spec, dotted: str) -> Any:
    """The value at a dotted path of `spec` (keys only, no list indexes)."""
    node: Any = spec
    for key in dotted.split("."):
        node = node[key]
    return node


def put(dotted: str, value: object) -> Callable[[Spec], None]:
    parent, _, key = dotted.rpartition(".")

    def mutate(spec: Spec) -> None:
        (at(spec, parent) if parent else spec)[key] = value

    return mutate


def drop(dotted: str) -> Callable[[Spec], None]:
    parent, _, key = dotted.rpartition(".")

    def mutate(spec: Spec) -> None:
        del (at(spec, parent) if parent else spec)[key]

    return mutate


ADD = "root.dag.tasks.add"
MAKE = "root.dag.tasks.make"
READ = "root.dag.tasks.read"
LOOP = "root.dag.tasks.for-loop-2"

# (rule, mutation, expected IRError.path, a fragment of the message)
STRUCTURAL: list[tuple[str, Callable[[Spec], None], str, str]] = [
    ("unknown top-level field", put("pipelineName", "x"), "pipelineName", "unknown field"),
    ("unknown task field", put(f"{ADD}.foo", 1), f"{ADD}.foo", "unknown field 'foo'"),
    (
        "unknown field in an input",
        put(f"{ADD}.inputs.parameters.a.fromTask", "x"),
        f"{ADD}.inputs.parameters.a.fromTask",
        "InputParameterSpec",
    ),
    ("snake_case field", put(f"{ADD}.task_info", {}), f"{ADD}.task_info", "'taskInfo'"),
    (
        "number where a string belongs",
        put("deploymentSpec.executors.exec-add.container.image", 3),
        "deploymentSpec.executors.exec-add.container.image",
        "expected a string",
    ),
    (
        "unknown executor field",
        put("deploymentSpec.executors.exec-add.container.imag", "x"),
        "deploymentSpec.executors.exec-add.container.imag",
        "unknown field",
    ),
    (
        "string where a list belongs",
        put(f"{MAKE}.dependentTasks", "add"),
        f"{MAKE}.dependentTasks",
        "list",
    ),
    (
        "number in a list of strings",
        put(f"{MAKE}.dependentTasks", [1]),
        f"{MAKE}.dependentTasks[0]",
        "string",
    ),
    (
        "unknown enum value",
        put("root.inputDefinitions.parameters.x.parameterType", "INT"),
        "root.inputDefinitions.parameters.x.parameterType",
        "NUMBER_INTEGER",
    ),
    (
        "both branches of a oneof",
        put("components.comp-add.dag", {}),
        "components.comp-add.dag",
        "give only one",
    ),
    (
        "two sources for one input",
        put(f"{ADD}.inputs.parameters.a.runtimeValue", {"constant": 1}),
        f"{ADD}.inputs.parameters.a.runtimeValue",
        "alternatives",
    ),
    (
        "bad duration",
        put(f"{ADD}.retryPolicy.backoffDuration", "1 minute"),
        f"{ADD}.retryPolicy.backoffDuration",
        "duration",
    ),
    (
        "text where an integer belongs",
        put(f"{ADD}.retryPolicy.maxRetryCount", "many"),
        f"{ADD}.retryPolicy.maxRetryCount",
        "integer",
    ),
    (
        "text where a boolean belongs",
        put(f"{ADD}.cachingOptions.enableCache", "yes"),
        f"{ADD}.cachingOptions.enableCache",
        "true or false",
    ),
    (
        "non-JSON default value",
        put("root.inputDefinitions.parameters.x.defaultValue", {1, 2}),
        "root.inputDefinitions.parameters.x.defaultValue",
        "not a JSON value",
    ),
    ("list where a map belongs", put("components", []), "components", "mapping"),
    (
        "integer out of range",
        put(f"{ADD}.retryPolicy.maxRetryCount", 2**40),
        f"{ADD}.retryPolicy.maxRetryCount",
        "out of range",
    ),
    (
        # Only protobuf knows this limit: its own error, translated to our path.
        "duration out of range",
        put(f"{ADD}.retryPolicy.backoffDuration", "999999999999s"),
        f"{ADD}.retryPolicy.backoffDuration",
        "must be in range [-315576000000, 315576000000]",
    ),
]


SEMANTIC: list[tuple[str, Callable[[Spec], None], str, str]] = [
    ("schemaVersion missing", drop("schemaVersion"), "schemaVersion", "missing"),
    ("schemaVersion 1.x", put("schemaVersion", "1.0.0"), "schemaVersion", "'1.0.0'"),
    ("schemaVersion not x.y.z", put("schemaVersion", "2.1"), "schemaVersion", "not supported"),
    ("pipeline name missing", drop("pipelineInfo.name"), "pipelineInfo.name", "no name"),
    ("root missing", drop("root"), "root", "no root"),
    (
        "container without image",
        drop("deploymentSpec.executors.exec-add.container.image"),
        "deploymentSpec.executors.exec-add.container.image",
        "no image",
    ),
    (
        "dangling componentRef",
        put(f"{ADD}.componentRef.name", "comp-nope"),
        f"{ADD}.componentRef.name",
        "'comp-nope'",
    ),
    (
        "missing executor",
        drop("deploymentSpec.executors.exec-add"),
        "components.comp-add.executorLabel",
        "'exec-add'",
    ),
    (
        "component with no implementation",
        drop("components.comp-read.executorLabel"),
        "components.comp-read",
        "neither",
    ),
    (
        "unknown producer task",
        put(f"{MAKE}.inputs.parameters.n.taskOutputParameter.producerTask", "ghost"),
        f"{MAKE}.inputs.parameters.n.taskOutputParameter.producerTask",
        "'ghost'",
    ),
    (
        "producer from another DAG",
        put(f"{MAKE}.inputs.parameters.n.taskOutputParameter.producerTask", "add-2"),
        f"{MAKE}.inputs.parameters.n.taskOutputParameter.producerTask",
        "not a task of this DAG",
    ),
    (
        "unknown output parameter",
        put(f"{MAKE}.inputs.parameters.n.taskOutputParameter.outputParameterKey", "Out"),
        f"{MAKE}.inputs.parameters.n.taskOutputParameter.outputParameterKey",
        "no output parameter 'Out'",
    ),
    (
        "unknown artifact producer",
        put(f"{READ}.inputs.artifacts.ds.taskOutputArtifact.producerTask", "ghost"),
        f"{READ}.inputs.artifacts.ds.taskOutputArtifact.producerTask",
        "'ghost'",
    ),
    (
        "unknown output artifact",
        put(f"{READ}.inputs.artifacts.ds.taskOutputArtifact.outputArtifactKey", "model"),
        f"{READ}.inputs.artifacts.ds.taskOutputArtifact.outputArtifactKey",
        "no output artifact 'model'",
    ),
    (
        "unknown final-status producer",
        put("root.dag.tasks.report.inputs.parameters.status.taskFinalStatus.producerTask", "x"),
        "root.dag.tasks.report.inputs.parameters.status.taskFinalStatus.producerTask",
        "'x'",
    ),
    (
        "unknown dependent task",
        put(f"{MAKE}.dependentTasks", ["ghost"]),
        f"{MAKE}.dependentTasks[0]",
        "'ghost'",
    ),
    (
        "dependency cycle",
        put(f"{ADD}.dependentTasks", ["read"]),
        ADD,
        "add -> read -> make -> add",
    ),
    ("task depending on itself", put(f"{MAKE}.dependentTasks", ["make"]), MAKE, "make -> make"),
    (
        "unknown input parameter name",
        put(f"{ADD}.inputs.parameters.c", {"runtimeValue": {"constant": 1}}),
        f"{ADD}.inputs.parameters.c",
        "no input parameter 'c'",
    ),
    (
        "unknown input artifact name",
        put(f"{READ}.inputs.artifacts.model", {"componentInputArtifact": "m"}),
        f"{READ}.inputs.artifacts.model",
        "no input artifact 'model'",
    ),
    (
        "injected-looking name without a placeholder",
        put(f"{ADD}.inputs.parameters.base_image", {"runtimeValue": {"constant": "alpine"}}),
        f"{ADD}.inputs.parameters.base_image",
        "no input parameter",
    ),
    (
        "missing required parameter",
        drop(f"{ADD}.inputs.parameters.a"),
        f"{ADD}.inputs.parameters.a",
        "required input parameter 'a'",
    ),
    (
        "missing required artifact",
        drop(f"{READ}.inputs"),
        f"{READ}.inputs.artifacts.ds",
        "required input artifact 'ds'",
    ),
    (
        "unknown enclosing input",
        put(f"{ADD}.inputs.parameters.a.componentInputParameter", "nope"),
        f"{ADD}.inputs.parameters.a.componentInputParameter",
        "enclosing component",
    ),
    (
        "sub-DAG reading a root input directly",
        put(
            "components.comp-condition-1.dag.tasks.add-2.inputs.parameters.a",
            {"componentInputParameter": "x"},
        ),
        "components.comp-condition-1.dag.tasks.add-2.inputs.parameters.a.componentInputParameter",
        "'x' is not an input parameter of the enclosing component",
    ),
    (
        "unknown enclosing artifact",
        put(f"{READ}.inputs.artifacts.ds", {"componentInputArtifact": "nope"}),
        f"{READ}.inputs.artifacts.ds.componentInputArtifact",
        "enclosing component",
    ),
    (
        "input without a value",
        put(f"{ADD}.inputs.parameters.a", {}),
        f"{ADD}.inputs.parameters.a",
        "gives no value",
    ),
    (
        "parameter without a type",
        drop("root.inputDefinitions.parameters.x.parameterType"),
        "root.inputDefinitions.parameters.x.parameterType",
        "no parameterType",
    ),
    (
        "parameter of unspecified type",
        put(
            "components.comp-add.outputDefinitions.parameters.Output.parameterType",
            "PARAMETER_TYPE_ENUM_UNSPECIFIED",
        ),
        "components.comp-add.outputDefinitions.parameters.Output.parameterType",
        "no parameterType",
    ),
    (
        "DAG output from an unknown subtask",
        put("root.dag.outputs.parameters.total.valueFromParameter.producerSubtask", "ghost"),
        "root.dag.outputs.parameters.total.valueFromParameter.producerSubtask",
        "'ghost'",
    ),
    (
        "DAG output of an unknown key",
        put("root.dag.outputs.parameters.total.valueFromParameter.outputParameterKey", "Sum"),
        "root.dag.outputs.parameters.total.valueFromParameter.outputParameterKey",
        "no output parameter 'Sum'",
    ),
    (
        "DAG output artifact of an unknown key",
        put(
            "root.dag.outputs.artifacts.data.artifactSelectors",
            [{"producerSubtask": "make", "outputArtifactKey": "x"}],
        ),
        "root.dag.outputs.artifacts.data.artifactSelectors[0].outputArtifactKey",
        "no output artifact 'x'",
    ),
    (
        "OneOf output from an unknown subtask",
        put(
            "components.comp-condition-1.dag.outputs.parameters.pipelinechannel--add-2-Output",
            {
                "valueFromOneof": {
                    "parameterSelectors": [{"producerSubtask": "z", "outputParameterKey": "Output"}]
                }
            },
        ),
        "components.comp-condition-1.dag.outputs.parameters.pipelinechannel--add-2-Output"
        ".valueFromOneof.parameterSelectors[0].producerSubtask",
        "'z'",
    ),
    (
        "undeclared DAG output",
        drop("root.outputDefinitions.parameters.total"),
        "root.dag.outputs.parameters.total",
        "not declared",
    ),
    (
        "loop item that is not a component input",
        put(f"{LOOP}.parameterIterator.itemInput", "item"),
        f"{LOOP}.parameterIterator.itemInput",
        "'item'",
    ),
    (
        "loop over something the task does not receive",
        put(f"{LOOP}.parameterIterator.items.inputParameter", "items"),
        f"{LOOP}.parameterIterator.items.inputParameter",
        "'items'",
    ),
    (
        "raw loop items that are not a JSON list",
        put(f"{LOOP}.parameterIterator.items", {"raw": "{1, 2"}),
        f"{LOOP}.parameterIterator.items.raw",
        "JSON list",
    ),
    (
        "loop without items",
        put(f"{LOOP}.parameterIterator.items", {}),
        f"{LOOP}.parameterIterator.items",
        "no items",
    ),
    (
        "parallelism on a task that is not a loop",
        put(f"{ADD}.iteratorPolicy", {"parallelismLimit": 2}),
        f"{ADD}.iteratorPolicy",
        "loop",
    ),
    (
        "condition reading an input the task lacks",
        put(
            "root.dag.tasks.condition-1.triggerPolicy.condition", "inputs.parameter_values['x'] > 1"
        ),
        "root.dag.tasks.condition-1.triggerPolicy.condition",
        "'x'",
    ),
    (
        "component containing itself",
        put("components.comp-condition-1.dag.tasks.add-2.componentRef.name", "comp-condition-1"),
        "components.comp-condition-1",
        "comp-condition-1 -> comp-condition-1",
    ),
]


def _ids(rules: list[tuple[str, Callable[[Spec], None], str, str]]) -> list[str]:
    return [rule[0] for rule in rules]


def test_the_sample_is_valid() -> None:
    ir.validate(sample_spec(), sample_platform_spec())


@pytest.mark.parametrize(("rule", "mutate", "path", "words"), STRUCTURAL, ids=_ids(STRUCTURAL))
def test_structural_rule(rule: str, mutate: Callable[[Spec], None], path: str, words: str) -> None:
    spec = sample_spec()
    mutate(spec)

    with pytest.raises(IRError) as caught:
        ir.validate(spec)

    assert caught.value.path == path
    assert words in str(caught.value)


@pytest.mark.parametrize(("rule", "mutate", "path", "words"), SEMANTIC, ids=_ids(SEMANTIC))
def test_semantic_rule(rule: str, mutate: Callable[[Spec], None], path: str, words: str) -> None:
    spec = sample_spec()
    mutate(spec)

    with pytest.raises(IRError) as caught:
        ir.validate(spec)

    assert caught.value.path == path
    assert words in str(caught.value)


def test_the_message_starts_with_the_path() -> None:
    spec = sample_spec()
    put(f"{ADD}.componentRef.name", "comp-nope")(spec)

    with pytest.raises(IRError, match=r"^root\.dag\.tasks\.add\.componentRef\.name: component"):
        ir.validate(spec)


@pytest.mark.parametrize(
    "mutate",
    [
        put(f"{ADD}.inputs.parameters.pipelinechannel--x-Output", {"componentInputParameter": "x"}),
        put(
            f"{ADD}.inputs.parameters.cpu_limit",
            {"runtimeValue": {"constant": "{{$.inputs.parameters['pipelinechannel--cpu']}}"}},
        ),
        put("deploymentSpec.executors.exec-read.container.resources.accelerator.count", "1"),
        put(
            f"{ADD}.inputs.parameters.a.parameterExpressionSelector", 'parseJson(string_value)["a"]'
        ),
        put("components.comp-add.inputDefinitions.parameters.a.defaultValue", None),
        put(f"{LOOP}.parameterIterator.items", {"raw": '[{"a": 1}, {"a": 2}]'}),
    ],
    ids=["channel input", "resource input", "int64 as text", "selector", "null", "raw items"],
)
def test_what_kfp_writes_stays_valid(mutate: Callable[[Spec], None]) -> None:
    spec = sample_spec()
    mutate(spec)

    ir.validate(spec)


def test_null_default_does_not_make_an_input_optional() -> None:
    spec = sample_spec()
    put("components.comp-add.inputDefinitions.parameters.a.defaultValue", None)(spec)
    drop(f"{ADD}.inputs.parameters.a")(spec)

    with pytest.raises(IRError) as caught:
        ir.validate(spec)

    assert caught.value.path == f"{ADD}.inputs.parameters.a"


def test_platform_spec_shape_is_checked() -> None:
    platform = sample_platform_spec()
    platform["platforms"]["kubernetes"]["pipelineConfig"]["workspaces"] = {}

    with pytest.raises(IRError) as caught:
        ir.validate(sample_spec(), platform)

    assert caught.value.path == "platforms.kubernetes.pipelineConfig.workspaces"


def test_platform_executor_config_is_free_form() -> None:
    platform = sample_platform_spec()
    platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-x"] = {"any": [1]}

    ir.validate(sample_spec(), platform)
