"""Every way a component document can be wrong gives a ComponentLoadError that names
the place in the document and says what to do."""

import re
from pathlib import Path

import pytest
import yaml

from dagyard import compiler, components, dsl
from dagyard.errors import ComponentLoadError, DslError


def _error(text: str) -> str:
    with pytest.raises(ComponentLoadError) as caught:
        components.load_component_from_text(text)
    return str(caught.value)


def _v1(args: str, inputs: str = "- {name: Text, type: String}", outputs: str = "[]") -> str:
    return (
        f"name: v1\ninputs:\n{inputs}\noutputs: {outputs}\n"
        f"implementation:\n  container:\n    image: alpine\n    args: {args}\n"
    )


# -- text and format -------------------------------------------------------------------


def test_bad_yaml_is_reported_with_its_position() -> None:
    message = _error("name: x\ninputs: [\n")
    assert "not valid YAML" in message and "line" in message


def test_empty_text_is_rejected() -> None:
    assert "the text is empty" in _error("")


def test_a_list_is_not_a_component() -> None:
    assert "expected a mapping, got a list" in _error("- a\n- b\n")


def test_unknown_format_names_both_formats() -> None:
    message = _error("hello: world\n")
    assert "neither KFP v2 IR" in message and "v1 component.yaml" in message


def test_three_documents_are_rejected() -> None:
    assert "3 YAML documents" in _error("a: 1\n---\nb: 2\n---\nc: 3\n")


def test_bytes_are_rejected_with_a_fix() -> None:
    with pytest.raises(ComponentLoadError, match=r"decode\('utf-8'\)"):
        components.load_component_from_text(b"name: x")  # type: ignore[arg-type]


def test_load_errors_are_dsl_errors() -> None:
    assert issubclass(ComponentLoadError, DslError)


# -- v1 ----------------------------------------------------------------------------------


def test_v1_missing_implementation() -> None:
    message = _error("name: x\ninputs:\n- {name: a, type: String}\n")
    assert "has no implementation" in message and "implementation.container" in message


def test_v1_null_implementation() -> None:
    assert "'implementation' is missing" in _error("name: x\nimplementation:\n")


def test_v1_graph_implementation_is_not_supported() -> None:
    message = _error("name: x\nimplementation:\n  graph: {tasks: {}}\n")
    assert "at implementation" in message and "graph components are not supported" in message


def test_v1_missing_image() -> None:
    message = _error("name: x\nimplementation:\n  container: {command: [ls]}\n")
    assert "at implementation.container: 'image' is missing" in message


def test_v1_placeholder_naming_an_unknown_input() -> None:
    message = _error(_v1("[--x, {inputValue: Txt}]"))
    assert "at implementation.container.args[1].inputValue" in message
    assert "input 'Txt'" in message and "(inputs: Text)" in message


def test_v1_placeholder_naming_an_unknown_output() -> None:
    message = _error(_v1("[{outputPath: result}]"))
    assert "names output 'result'" in message and "(outputs: none)" in message


def test_v1_unknown_input_inside_if_and_concat() -> None:
    message = _error(_v1("[{concat: [a, {if: {cond: {isPresent: nope}, then: b}}]}]"))
    assert "args[0].concat[1].if.cond.isPresent" in message and "input 'nope'" in message


def test_v1_input_value_of_an_artifact() -> None:
    message = _error(_v1("[{inputValue: data}]", inputs="- {name: data, type: Dataset}"))
    assert "needs a parameter, but input 'data' is an artifact (system.Dataset)" in message
    assert "{inputPath: data}" in message


def test_v1_input_path_of_a_parameter() -> None:
    message = _error(_v1("[{inputPath: Text}]"))
    assert "needs an artifact, but input 'Text' is a STRING parameter" in message


def test_v1_output_uri_of_a_parameter() -> None:
    message = _error(_v1("[{outputUri: n}]", outputs="[{name: n, type: Integer}]"))
    assert "output 'n' is a NUMBER_INTEGER parameter" in message and "{outputPath: n}" in message


def test_v1_unknown_placeholder() -> None:
    message = _error(_v1("[{inputMetadata: Text}]"))
    assert "unknown placeholder 'inputMetadata'" in message and "inputValue" in message


def test_v1_placeholder_with_two_keys() -> None:
    assert "with one key" in _error(_v1("[{inputValue: Text, inputPath: Text}]"))


def test_v1_number_in_args_must_be_quoted() -> None:
    message = _error(_v1("[--n, 5]"))
    assert "args[1]" in message and "Quote numbers" in message


def test_v1_if_with_an_unsupported_condition() -> None:
    message = _error(_v1("[{if: {cond: true, then: [a]}}]"))
    assert "args[0].if.cond" in message and "isPresent" in message


def test_v1_list_if_inside_concat() -> None:
    message = _error(_v1("[{concat: [{if: {cond: {isPresent: Text}, then: [a, b]}}]}]"))
    assert "args[0].concat[0]" in message and "single `then` item" in message


def test_v1_bad_default() -> None:
    message = _error(_v1("[]", inputs="- {name: n, type: Integer, default: many}"))
    assert "at inputs[0].default" in message and "NUMBER_INTEGER" in message and "'5'" in message


def test_v1_bad_list_default() -> None:
    message = _error(_v1("[]", inputs="- {name: xs, type: JsonArray, default: 'a,b'}"))
    assert "at inputs[0].default" in message and "LIST" in message


def test_v1_typo_in_an_input_key() -> None:
    message = _error(_v1("[]", inputs="- {name: a, type: String, defualt: x}"))
    assert "at inputs[0]" in message and "'defualt'" in message and "default" in message


def test_v1_names_that_clash_after_sanitising() -> None:
    message = _error(_v1("[]", inputs="- {name: Learning Rate}\n- {name: learning_rate}"))
    assert "at inputs[1].name" in message and "both become 'learning_rate'" in message


def test_v1_input_declared_twice() -> None:
    message = _error(_v1("[]", inputs="- {name: a}\n- {name: a}"))
    assert "at inputs[1].name: input 'a' is declared twice" in message


def test_v1_file_outputs_are_refused() -> None:
    message = _error(
        "name: x\noutputs: [{name: o}]\nimplementation:\n  container:\n"
        "    image: a\n    fileOutputs: {o: /tmp/o}\n"
    )
    assert "fileOutputs" in message and "{outputPath: name}" in message


def test_v1_env_value_must_be_a_string() -> None:
    message = _error("name: x\nimplementation:\n  container: {image: a, env: {N: 1}}\n")
    assert "at implementation.container.env.N" in message and "quote it" in message


# -- IR ----------------------------------------------------------------------------------


@dsl.container_component
def echo(text: str, times: int = 1):
    return dsl.ContainerSpec(image="alpine", command=["echo", text, times])


def _ir(component: object, tmp_path: Path) -> dict:
    path = tmp_path / "ir.yaml"
    compiler.Compiler().compile(component, path)
    return yaml.safe_load(path.read_text())


def _ir_error(document: dict) -> str:
    return _error(yaml.safe_dump(document))


def test_ir_missing_image(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    del document["deploymentSpec"]["executors"]["exec-echo"]["container"]["image"]
    message = _ir_error(document)
    assert "at deploymentSpec.executors.exec-echo.container: 'image' is missing" in message


def test_ir_missing_executor(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    document["deploymentSpec"]["executors"] = {}
    message = _ir_error(document)
    assert "at deploymentSpec.executors: 'exec-echo' is missing" in message


def test_ir_unknown_parameter_type(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    definitions = document["components"]["comp-echo"]["inputDefinitions"]
    definitions["parameters"]["times"]["parameterType"] = "NUMBER"
    message = _ir_error(document)
    assert "components.comp-echo.inputDefinitions.parameters.times.parameterType" in message
    assert "'NUMBER' is not supported" in message


def test_ir_default_of_the_wrong_type(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    definitions = document["components"]["comp-echo"]["inputDefinitions"]
    definitions["parameters"]["times"]["defaultValue"] = "one"
    message = _ir_error(document)
    assert "parameters.times.defaultValue: default 'one' is not a NUMBER_INTEGER value" in message


def test_ir_fractional_integer_default(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    definitions = document["components"]["comp-echo"]["inputDefinitions"]
    definitions["parameters"]["times"]["defaultValue"] = 1.5
    assert "not a whole number" in _ir_error(document)


def test_ir_placeholder_naming_an_unknown_input(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    container = document["deploymentSpec"]["executors"]["exec-echo"]["container"]
    container["command"][1] = "{{$.inputs.parameters['txt']}}"
    message = _ir_error(document)
    assert "at deploymentSpec.executors.exec-echo.container.command[1]: " in message
    assert "refers to input parameter 'txt'" in message and "(inputs: text, times)" in message


def test_ir_placeholder_reading_an_artifact_as_a_parameter(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    container = document["deploymentSpec"]["executors"]["exec-echo"]["container"]
    container["command"][1] = "{{$.inputs.artifacts['text'].path}}"
    assert "refers to input artifact 'text'" in _ir_error(document)


def test_ir_if_present_naming_an_unknown_input(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    container = document["deploymentSpec"]["executors"]["exec-echo"]["container"]
    container["command"][1] = '{"IfPresent": {"InputName": "nope", "Then": ["x"]}}'
    assert "refers to input 'nope'" in _ir_error(document)


def test_ir_unknown_container_field(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    document["deploymentSpec"]["executors"]["exec-echo"]["container"]["lifecycle"] = {}
    assert "unknown key(s) 'lifecycle'" in _ir_error(document)


def test_ir_without_root_dag(tmp_path: Path) -> None:
    document = _ir(echo, tmp_path)
    del document["root"]["dag"]
    assert "at root: the root has no dag" in _ir_error(document)


def test_ir_with_a_platform_spec(tmp_path: Path) -> None:
    text = yaml.safe_dump(_ir(echo, tmp_path)) + "---\nplatforms: {kubernetes: {}}\n"
    message = _error(text)
    assert "(second document)" in message and "kfp-kubernetes" in message


def test_ir_importer_with_a_constant_uri(tmp_path: Path) -> None:
    @dsl.pipeline(name="imp")
    def imp(uri: str):
        dsl.importer(artifact_uri=uri, artifact_class=dsl.Dataset)

    document = _ir(imp, tmp_path)
    document["deploymentSpec"]["executors"]["exec-importer"]["importer"]["artifactUri"] = {
        "constant": "gs://b/x"
    }
    assert "runtimeParameter" in _ir_error(document)


# -- sources -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(
        ComponentLoadError, match=re.escape(f"Cannot read component file '{missing}'")
    ):
        components.load_component_from_file(missing)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(_v1("[{inputValue: nope}]"))
    with pytest.raises(ComponentLoadError, match=re.escape(f"file '{path}' at implementation")):
        components.load_component_from_file(path)


def test_unreachable_url(tmp_path: Path) -> None:
    url = (tmp_path / "nope.yaml").as_uri()
    with pytest.raises(
        ComponentLoadError, match=re.escape(f"Cannot download component from '{url}'")
    ):
        components.load_component_from_url(url)
