"""IR compiled by kfp from a lone component loads into dagyard as kfp loads it: the
same interface, and command and args kept byte for byte (kfp's `pip install kfp` command
included) when the component is used in a pipeline and compiled again."""

from pathlib import Path
from typing import NamedTuple, Optional

import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp.dsl import Dataset, Input, Model, Output, OutputPath
from loading_compat import (
    ARTIFACT,
    assert_same_component,
    canonical,
    compile_with_dagyard,
    compile_with_kfp,
    component_in,
)

from dagyard import compiler, components
from dagyard.dsl import structures as st

pytestmark = pytest.mark.kfp


@kfp_dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def train(
    data: Input[Dataset],
    model: Output[Model],
    epochs: int = 3,
    lr: float = 0.1,
    tags: list = ["a"],  # noqa: B006
    opts: dict = {"k": 1},  # noqa: B006
    name: Optional[str] = None,  # noqa: UP045  (kfp 2.17 rejects `str | None`)
    many: Input[list[Dataset]] = None,
) -> NamedTuple("Outputs", accuracy=float, note=str):
    """Train a model.

    Args:
        data: Training examples.
        epochs: How many passes over the data.
    """
    return (
        1.0,
        model.path + str(data) + name + str(epochs + lr) + str(tags) + str(opts) + str(many),
    )


@kfp_dsl.container_component
def word_count(
    text: Input[Dataset],
    count: OutputPath(int),
    min_length: Optional[int] = None,  # noqa: UP045
    lower: bool = False,
):
    return kfp_dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'wc -w < "$0" > "$1"'],
        args=[
            text.path,
            count,
            kfp_dsl.IfPresentPlaceholder(input_name="min_length", then=["--min", min_length]),
            kfp_dsl.ConcatPlaceholder(["--lower=", lower, "@", text.uri]),
        ],
    )


@kfp_dsl.pipeline(name="import-dataset")
def import_dataset(uri: str):
    kfp_dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=True, metadata={"k": "v"})


def _kfp_text(component: object, tmp_path: Path) -> str:
    path = tmp_path / "kfp_component.yaml"
    kfp_compiler.Compiler().compile(component, str(path))
    return path.read_text()


CASES = {
    "python": (train, {"data": ARTIFACT}),
    "container": (word_count, {"text": ARTIFACT, "min_length": 2}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kfp_ir_component_compiles_like_kfp(case: str, tmp_path: Path) -> None:
    component, arguments = CASES[case]
    text = _kfp_text(component, tmp_path)
    kfp_ir = compile_with_kfp(text, arguments, tmp_path)
    dagyard_ir = compile_with_dagyard(text, arguments, tmp_path)
    assert_same_component(kfp_ir, dagyard_ir, component.name, descriptions=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_kfp_ir_component_recompiles_to_the_same_component(case: str, tmp_path: Path) -> None:
    component, _ = CASES[case]
    text = _kfp_text(component, tmp_path)
    original = yaml.safe_load(text)
    path = tmp_path / "again.yaml"
    compiler.Compiler().compile(components.load_component_from_text(text), path)
    again = yaml.safe_load(path.read_text())
    name = component.name
    original_interface, original_executor = component_in(original, name)
    interface, executor = component_in(again, name)
    assert executor == original_executor
    assert canonical(interface) == canonical(original_interface)
    assert again["pipelineInfo"]["name"] == original["pipelineInfo"]["name"]


def test_kfp_ir_artifact_descriptions_survive_recompiling(tmp_path: Path) -> None:
    text = _kfp_text(train, tmp_path)
    path = tmp_path / "again.yaml"
    compiler.Compiler().compile(components.load_component_from_text(text), path)
    interface, _ = component_in(yaml.safe_load(path.read_text()), "train")
    assert interface["inputDefinitions"]["artifacts"]["data"]["description"] == (
        "Training examples."
    )


def test_kfp_ir_interface_is_read_in_full(tmp_path: Path) -> None:
    loaded = components.load_component_from_text(_kfp_text(train, tmp_path))
    spec = loaded.component_spec
    assert loaded.name == "train"
    assert loaded.description == "Train a model."
    epochs = spec.inputs["epochs"]
    assert (epochs.parameter_type, epochs.default, epochs.optional) == (st.NUMBER_INTEGER, 3, True)
    assert type(epochs.default) is int  # kfp wrote 3.0
    assert epochs.description == "How many passes over the data."
    assert spec.inputs["lr"].default == 0.1
    assert spec.inputs["tags"].default == ["a"]
    assert spec.inputs["name"].optional and not spec.inputs["name"].has_default
    many = spec.inputs["many"]
    assert (many.artifact_type, many.is_list, many.optional) == ("system.Dataset", True, True)
    assert spec.inputs["data"].description == "Training examples."
    assert spec.outputs["model"].artifact_type == "system.Model"
    assert spec.outputs["accuracy"].parameter_type == st.NUMBER_DOUBLE
    command = spec.implementation.command
    assert any("pip install" in item and "kfp==" in item for item in command)


def test_kfp_importer_pipeline_loads_as_an_importer(tmp_path: Path) -> None:
    text = _kfp_text(import_dataset, tmp_path)
    loaded = components.load_component_from_text(text)
    assert isinstance(loaded.component_spec.implementation, st.ImporterImplementation)
    assert list(loaded.component_spec.inputs) == ["uri"]
    path = tmp_path / "again.yaml"
    compiler.Compiler().compile(loaded, path)
    again = yaml.safe_load(path.read_text())
    original = yaml.safe_load(text)
    # The loaded component is named after pipelineInfo.name, as kfp names loaded components.
    assert loaded.name == "import-dataset"
    assert component_in(again, "import-dataset") == component_in(original, "importer")
