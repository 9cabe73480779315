"""v1 component.yaml files load as kfp 2.17 loads them: the same interface and the same
container command and args once used in a pipeline and compiled, plus the deliberate
differences listed in dagyard/components/v1.py."""

from pathlib import Path

import pytest
from loading_compat import (
    ARTIFACT,
    assert_same_component,
    compile_with_dagyard,
    compile_with_kfp,
    component_in,
    read_ir,
)

from dagyard import compiler, components, dsl
from dagyard.dsl import structures as st

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"

KITCHEN_SINK = """
name: My Fancy Component!
description: Exercises every v1 input type and placeholder.
inputs:
- {name: Input Text, type: String, description: the text}
- {name: count, type: Integer, default: '5'}
- {name: ratio, type: Float, default: '0.5'}
- {name: flag, type: Boolean, default: 'True'}
- {name: switch, type: Bool, default: 'no'}
- {name: items, type: JsonArray, default: '[1, 2]'}
- {name: cfg, type: JsonObject, default: '{"a": 1}'}
- {name: plain list, type: List}
- {name: data, type: Dataset}
- {name: model in, type: system.Model, optional: true}
- {name: blob, type: CSV}
- {name: untyped}
- {name: shaped, type: {GCSPath: {data_type: CSV}}}
- {name: gmodel, type: google.VertexModel}
- {name: maybe, type: String, optional: true}
outputs:
- {name: Out Path, type: String}
- {name: model, type: Model}
- {name: anything}
- {name: n, type: Integer}
- {name: report, type: HTML}
implementation:
  container:
    image: alpine:3
    command: [sh, -c, {concat: ['echo ', {inputValue: Input Text}, ' x']}]
    args:
    - {inputValue: count}
    - {inputPath: data}
    - {inputUri: blob}
    - {inputPath: untyped}
    - {outputPath: Out Path}
    - {outputPath: model}
    - {outputUri: anything}
    - {outputPath: report}
    - {if: {cond: {isPresent: maybe}, then: [--maybe, {inputValue: maybe}], else: [--none]}}
    - {if: {cond: {isPresent: maybe}, then: --scalar}}
    - {if: {cond: {isPresent: model in}, then: [{inputPath: model in}], else: []}}
    - {concat: [--x=, {if: {cond: {isPresent: maybe}, then: {inputValue: maybe}, else: none}}]}
    - {executorInput: null}
    - {outputPath: n}
"""
KITCHEN_SINK_ARGUMENTS = {
    "input_text": "hello",
    "plain_list": [1, 2],
    "data": ARTIFACT,
    "blob": ARTIFACT,
    "untyped": ARTIFACT,
    "shaped": ARTIFACT,
    "gmodel": ARTIFACT,
}

MINIMAL = """
name: echo
implementation:
  container:
    image: busybox
    command: [echo, hello]
"""

CASES = {
    "tokenize": ((PIPELINES / "tokenize_component_v1.yaml").read_text(), {"text": ARTIFACT}),
    "kitchen-sink": (KITCHEN_SINK, KITCHEN_SINK_ARGUMENTS),
    "minimal": (MINIMAL, {}),
}


@pytest.mark.kfp
@pytest.mark.parametrize("case", sorted(CASES))
def test_v1_component_compiles_like_kfp(case: str, tmp_path: Path) -> None:
    text, arguments = CASES[case]
    kfp_ir = compile_with_kfp(text, arguments, tmp_path)
    dagyard_ir = compile_with_dagyard(text, arguments, tmp_path)
    name = components.load_component_from_text(text).name
    # kfp drops v1 descriptions; dagyard keeps them (checked below).
    assert_same_component(kfp_ir, dagyard_ir, name, descriptions=False)


def test_v1_names_types_and_defaults_follow_kfp() -> None:
    component = components.load_component_from_text(KITCHEN_SINK)
    spec = component.component_spec
    assert component.name == "my-fancy-component"
    assert component.description == "Exercises every v1 input type and placeholder."
    inputs = spec.inputs
    assert inputs["input_text"].parameter_type == st.STRING
    assert inputs["input_text"].description == "the text"
    assert (inputs["count"].default, inputs["ratio"].default) == (5, 0.5)
    assert type(inputs["count"].default) is int
    assert (inputs["flag"].default, inputs["switch"].default) == (True, False)
    assert (inputs["items"].default, inputs["cfg"].default) == ([1, 2], {"a": 1})
    assert inputs["plain_list"].parameter_type == st.LIST
    assert not inputs["plain_list"].optional
    assert inputs["maybe"].optional and not inputs["maybe"].has_default
    artifact_types = {
        name: inputs[name].artifact_type
        for name in ("data", "model_in", "blob", "untyped", "shaped", "gmodel")
    }
    # `system.Model` is not a v1 type name, so kfp (and we) make it a plain Artifact.
    assert artifact_types == {
        "data": "system.Dataset",
        "model_in": "system.Artifact",
        "blob": "system.Artifact",
        "untyped": "system.Artifact",
        "shaped": "system.Artifact",
        "gmodel": "google.VertexModel",
    }
    assert inputs["model_in"].optional
    outputs = spec.outputs
    assert [outputs[n].parameter_type for n in ("out_path", "n")] == [st.STRING, st.NUMBER_INTEGER]
    assert [outputs[n].artifact_type for n in ("model", "anything", "report")] == [
        "system.Model",
        "system.Artifact",
        "system.HTML",
    ]


def test_v1_descriptions_reach_the_compiled_interface(tmp_path: Path) -> None:
    ir = compile_with_dagyard(KITCHEN_SINK, KITCHEN_SINK_ARGUMENTS, tmp_path)
    interface, _ = component_in(ir, "my-fancy-component")
    parameter = interface["inputDefinitions"]["parameters"]["input_text"]
    assert parameter["description"] == "the text"


def test_v1_typed_list_default_is_json_decoded() -> None:
    # kfp keeps '["a"]' as a string for `List[str]` (invalid IR for a LIST); we decode it.
    text = """
name: lists
inputs:
- {name: words, type: 'List[str]', default: '["a", "b"]'}
- {name: table, type: 'typing.Dict[str, int]', default: '{"a": 1}'}
- {name: already, type: JsonArray, default: [1, 2]}
implementation:
  container: {image: alpine, args: [{inputValue: words}]}
"""
    inputs = components.load_component_from_text(text).component_spec.inputs
    assert inputs["words"].parameter_type == st.LIST
    assert inputs["words"].default == ["a", "b"]
    assert inputs["table"].parameter_type == st.STRUCT
    assert inputs["table"].default == {"a": 1}
    assert inputs["already"].default == [1, 2]


def test_v1_else_placeholder_is_converted(tmp_path: Path) -> None:
    # kfp leaves a placeholder in a scalar `else` unconverted; we render it.
    text = """
name: fallback
inputs:
- {name: a, type: String, optional: true}
- {name: b, type: String}
implementation:
  container:
    image: alpine
    args: [{if: {cond: {isPresent: a}, then: {inputValue: a}, else: {inputValue: b}}}]
"""
    ir = compile_with_dagyard(text, {"b": "x"}, tmp_path)
    _, executor = component_in(ir, "fallback")
    assert executor["container"]["args"] == [
        '{"IfPresent": {"InputName": "a", "Then": "{{$.inputs.parameters[\'a\']}}", '
        '"Else": "{{$.inputs.parameters[\'b\']}}"}}'
    ]


def test_v1_env_is_set_on_every_task(tmp_path: Path) -> None:
    text = """
name: with env
implementation:
  container:
    image: alpine
    command: [env]
    env: {GREETING: hello, EMPTY: ''}
"""
    component = components.load_component_from_text(text)

    @dsl.pipeline(name="env-pipeline")
    def env_pipeline() -> None:
        component().set_env_variable("EXTRA", "1")

    path = tmp_path / "env.yaml"
    compiler.Compiler().compile(env_pipeline, path)
    _, executor = component_in(read_ir(path), "with-env")
    assert executor["container"]["env"] == [
        {"name": "GREETING", "value": "hello"},
        {"name": "EMPTY", "value": ""},
        {"name": "EXTRA", "value": "1"},
    ]


def test_v1_task_final_status_input_is_optional() -> None:
    text = """
name: notify
inputs:
- {name: status, type: PipelineTaskFinalStatus}
implementation:
  container: {image: alpine, args: [{inputValue: status}]}
"""
    status = components.load_component_from_text(text).component_spec.inputs["status"]
    assert status.parameter_type == st.TASK_FINAL_STATUS
    assert status.optional
