"""What the compiler writes: valid IR, one component per distinct component, integers
kept as integers, kfp's shape for groups, and clear compile-time errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dagyard import dsl, ir
from dagyard.compiler import Compiler, compile_to_dict
from dagyard.errors import CompileError, DslError


@dsl.component
def step(i: int) -> int:
    return i


@dsl.component
def total(xs: list[int]) -> int:
    return sum(xs)


@dsl.component
def annotate(xs: list[int], meta: dict = {"k": 1}) -> str:  # noqa: B006
    return str(xs) + str(meta)


def test_identical_components_are_emitted_once(tmp_path: Path) -> None:
    @dsl.pipeline
    def many() -> None:
        for i in range(50):
            step(i=i)

    doc = compile_to_dict(many)
    assert len(doc["root"]["dag"]["tasks"]) == 50
    assert list(doc["components"]) == ["comp-step"]
    assert list(doc["deploymentSpec"]["executors"]) == ["exec-step"]
    refs = {t["componentRef"]["name"] for t in doc["root"]["dag"]["tasks"].values()}
    assert refs == {"comp-step"}


def test_components_that_differ_in_task_settings_are_kept_apart() -> None:
    @dsl.pipeline
    def two() -> None:
        step(i=1)
        step(i=2).set_env_variable("MODE", "fast")

    doc = compile_to_dict(two)
    assert sorted(doc["deploymentSpec"]["executors"]) == ["exec-step", "exec-step-2"]
    env = doc["deploymentSpec"]["executors"]["exec-step-2"]["container"]["env"]
    assert env == [{"name": "MODE", "value": "fast"}]


def test_integers_stay_integers_in_lists_dicts_and_defaults(tmp_path: Path) -> None:
    @dsl.pipeline
    def ints(xs: list[int] = [1, 2, 3], n: int = 4) -> None:  # noqa: B006
        annotate(xs=[5, 6], meta={"depth": 7, "nested": [8]})
        annotate(xs=xs)
        with dsl.ParallelFor([10, 20]) as item:
            step(i=item)

    path = tmp_path / "ints.yaml"
    Compiler().compile(ints, path)
    text = path.read_text()
    doc = yaml.safe_load(text)
    params = doc["root"]["inputDefinitions"]["parameters"]
    assert params["xs"]["defaultValue"] == [1, 2, 3]
    assert all(type(v) is int for v in params["xs"]["defaultValue"])
    assert type(params["n"]["defaultValue"]) is int
    first = doc["root"]["dag"]["tasks"]["annotate"]["inputs"]["parameters"]
    assert first["xs"]["runtimeValue"]["constant"] == [5, 6]
    assert type(first["meta"]["runtimeValue"]["constant"]["depth"]) is int
    loop = doc["root"]["dag"]["tasks"]["for-loop-2"]["parameterIterator"]
    assert loop["items"]["raw"] == "[10, 20]"
    assert "- 1.0" not in text and "defaultValue: 4.0" not in text


def test_compiled_ir_is_valid_for_dagyard_ir(tmp_path: Path) -> None:
    from dagyard.samples.hello import hello

    path = tmp_path / "hello.yaml"
    Compiler().compile(hello, path)
    document = ir.load(path)
    assert document.raw["schemaVersion"] == "2.1.0"
    assert document.raw["sdkVersion"].startswith("dagyard-")


def test_pipeline_info_root_and_parameters_override() -> None:
    @dsl.pipeline(name="my-pipe", description="does things", pipeline_root="file:///tmp/r")
    def described(n: int = 1) -> int:
        return step(i=n).output

    doc = compile_to_dict(described, pipeline_parameters={"n": 9})
    assert doc["pipelineInfo"] == {"name": "my-pipe", "description": "does things"}
    assert doc["defaultPipelineRoot"] == "file:///tmp/r"
    assert doc["root"]["inputDefinitions"]["parameters"]["n"]["defaultValue"] == 9
    assert doc["root"]["dag"]["outputs"]["parameters"]["Output"] == {
        "valueFromParameter": {"producerSubtask": "step", "outputParameterKey": "Output"}
    }
    with pytest.raises(CompileError, match="names 'm', which is not an input"):
        compile_to_dict(described, pipeline_parameters={"m": 1})


def test_nested_pipeline_becomes_a_sub_dag_with_outputs() -> None:
    @dsl.pipeline
    def inner(n: int) -> int:
        return step(i=n).output

    @dsl.pipeline
    def outer() -> None:
        sub = inner(n=3)
        step(i=sub.output)

    doc = compile_to_dict(outer)
    tasks = doc["root"]["dag"]["tasks"]
    assert tasks["inner"]["componentRef"]["name"] == "comp-inner"
    assert tasks["step"]["inputs"]["parameters"]["i"] == {
        "taskOutputParameter": {"producerTask": "inner", "outputParameterKey": "Output"}
    }
    assert doc["components"]["comp-inner"]["dag"]["outputs"]["parameters"]["Output"]


def test_using_a_loop_output_outside_the_loop_needs_collected() -> None:
    @dsl.pipeline
    def leaky() -> None:
        with dsl.ParallelFor([1, 2]) as item:
            inside = step(i=item)
        step(i=inside.output)

    with pytest.raises(CompileError, match=r"inside a ParallelFor.*Use dsl.Collected"):
        compile_to_dict(leaky)


def test_collected_output_is_a_list_output_of_the_loop() -> None:
    @dsl.pipeline
    def fan_in() -> None:
        with dsl.ParallelFor([1, 2]) as item:
            inside = step(i=item)
        total(xs=dsl.Collected(inside.output))

    doc = compile_to_dict(fan_in)
    loop = doc["components"]["comp-for-loop-2"]
    assert loop["outputDefinitions"]["parameters"]["pipelinechannel--step-Output"] == {
        "parameterType": "LIST"
    }
    assert doc["root"]["dag"]["tasks"]["total"]["dependentTasks"] == ["for-loop-2"]


def test_condition_compiles_to_cel_over_group_inputs() -> None:
    @dsl.pipeline
    def branchy(flag: str = "yes") -> None:
        n = step(i=1)
        with dsl.If(n.output > 2):
            step(i=2)
        with dsl.Elif(flag == "no"):
            step(i=3)
        with dsl.Else():
            step(i=4)

    doc = compile_to_dict(branchy)
    branches = doc["components"]["comp-condition-branches-1"]["dag"]["tasks"]
    assert branches["condition-2"]["triggerPolicy"]["condition"] == (
        "int(inputs.parameter_values['pipelinechannel--step-Output']) > 2"
    )
    assert branches["condition-4"]["triggerPolicy"]["condition"] == (
        "!(int(inputs.parameter_values['pipelinechannel--step-Output']) > 2) && "
        "!(inputs.parameter_values['pipelinechannel--flag'] == 'no')"
    )


def test_compile_rejects_a_bad_output_path(tmp_path: Path) -> None:
    @dsl.pipeline
    def tiny() -> None:
        step(i=1)

    with pytest.raises(CompileError, match=r"must end in .yaml, .yml or .json"):
        Compiler().compile(tiny, tmp_path / "out.txt")


def test_compile_rejects_a_plain_function() -> None:
    def not_a_pipeline() -> None: ...

    with pytest.raises(CompileError, match=r"decorated with @dsl\.pipeline"):
        compile_to_dict(not_a_pipeline)  # type: ignore[arg-type]


def test_component_compiles_alone_as_a_one_task_pipeline() -> None:
    doc = compile_to_dict(step)
    assert doc["pipelineInfo"]["name"] == "step"
    assert doc["root"]["dag"]["tasks"]["step"]["inputs"]["parameters"]["i"] == {
        "componentInputParameter": "i"
    }


def test_oneof_selects_from_each_branch() -> None:
    @dsl.pipeline
    def pick(n: int = 1) -> int:
        with dsl.If(n > 1):
            a = step(i=1)
        with dsl.Else():
            b = step(i=2)
        return dsl.OneOf(a.output, b.output)

    doc = compile_to_dict(pick)
    group = doc["components"]["comp-condition-branches-1"]["dag"]["outputs"]["parameters"]
    selectors = group["pipelinechannel--condition-branches-1-oneof-1"]["valueFromOneof"]
    assert selectors["parameterSelectors"] == [
        {"producerSubtask": "condition-2", "outputParameterKey": "pipelinechannel--step-Output"},
        {"producerSubtask": "condition-3", "outputParameterKey": "pipelinechannel--step-2-Output"},
    ]


def test_condition_on_a_list_is_a_clear_error() -> None:
    @dsl.component
    def listy() -> list[int]:
        return [1]

    @dsl.pipeline
    def bad() -> None:
        with dsl.If(listy().output == 1):
            step(i=1)

    with pytest.raises((CompileError, DslError), match=r"conditions need str, int, float or bool"):
        compile_to_dict(bad)
