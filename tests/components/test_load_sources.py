"""The three public loaders, and what `dagyard.components` exports."""

from pathlib import Path

from dagyard import components
from dagyard.components import YamlComponent
from dagyard.dsl.placeholders import render_item
from dagyard.dsl.structures import ContainerImplementation

TEXT = """
name: Say hello
inputs:
- {name: who, type: String, default: world}
implementation:
  container:
    image: alpine
    command: [echo, {concat: [hello, ' ', {inputValue: who}]}]
"""


def test_all_is_the_public_api() -> None:
    assert components.__all__ == [
        "YamlComponent",
        "load_component_from_file",
        "load_component_from_text",
        "load_component_from_url",
    ]


def test_text_file_and_url_load_the_same_component(tmp_path: Path) -> None:
    path = tmp_path / "hello.yaml"
    path.write_text(TEXT)
    loaded = [
        components.load_component_from_text(TEXT),
        components.load_component_from_file(path),
        components.load_component_from_file(str(path)),
        components.load_component_from_url(path.as_uri()),
    ]
    for component in loaded:
        assert isinstance(component, YamlComponent)
        assert component.component_yaml == TEXT
    assert {c.name for c in loaded} == {"say-hello"}
    described = [_describe(c) for c in loaded]
    assert described == [described[0]] * len(loaded)
    assert described[0][1] == [
        "echo",
        '{"Concat": ["hello", " ", "{{$.inputs.parameters[\'who\']}}"]}',
    ]


def _describe(component: YamlComponent) -> tuple[object, list[object]]:
    spec = component.component_spec
    assert isinstance(spec.implementation, ContainerImplementation)
    return spec.inputs, [render_item(item) for item in spec.implementation.command]
