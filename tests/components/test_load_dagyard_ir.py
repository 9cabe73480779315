"""IR compiled by dagyard from a lone component loads back into dagyard and kfp alike,
and compiling the loaded component again gives the same document: our runtime's command
survives byte for byte, as do the executor's env and resources."""

from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from loading_compat import (
    ARTIFACT,
    assert_same_component,
    compile_with_dagyard,
    compile_with_kfp,
    component_in,
)

from dagyard import compiler, components, dsl
from dagyard.components import YamlComponent
from dagyard.dsl import Dataset, Input, Model, Output, OutputPath


@dsl.component(base_image="python:3.12", packages_to_install=["pandas"])
def fit(
    data: Input[Dataset],
    model: Output[Model],
    rounds: int = 10,
    rate: float = 0.5,
    features: list = ["x", "y"],  # noqa: B006
    label: str | None = None,
) -> NamedTuple("Outputs", score=float, rows=int):
    """Fit a model."""
    with open(data.path) as f:
        rows = len(f.readlines())
    with open(model.path, "w") as f:
        f.write(f"{rounds} {rate} {features} {label}")
    return (1.0, rows)


@dsl.container_component
def count_words(text: Input[Dataset], count: OutputPath(int), minimum: int | None = None):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'wc -w < "$0" > "$1"'],
        args=[
            text.path,
            count,
            dsl.IfPresentPlaceholder(input_name="minimum", then=["--min", minimum]),
            dsl.ConcatPlaceholder(["uri=", text.uri]),
        ],
    )


@dsl.pipeline(name="import-model")
def import_model(uri: str):
    dsl.importer(artifact_uri=uri, artifact_class=Model, metadata={"framework": "xgb"})


COMPONENTS = {"python": fit, "container": count_words}
ARGUMENTS = {"python": {"data": ARTIFACT}, "container": {"text": ARTIFACT, "minimum": 3}}


def _compiled(component: Any, tmp_path: Path, name: str = "component.yaml") -> str:
    path = tmp_path / name
    compiler.Compiler().compile(component, path)
    return path.read_text()


@pytest.mark.parametrize("case", sorted(COMPONENTS))
def test_loading_and_recompiling_gives_the_same_document(case: str, tmp_path: Path) -> None:
    text = _compiled(COMPONENTS[case], tmp_path)
    again = _compiled(components.load_component_from_text(text), tmp_path, "again.yaml")
    assert yaml.safe_load(again) == yaml.safe_load(text)


def test_importer_recompiles_to_the_same_executor(tmp_path: Path) -> None:
    original = yaml.safe_load(_compiled(import_model, tmp_path))
    loaded = components.load_component_from_text(yaml.safe_dump(original))
    again = yaml.safe_load(_compiled(loaded, tmp_path, "again.yaml"))
    # Named after the pipeline it was compiled from, as kfp names loaded components.
    assert component_in(again, "import-model") == component_in(original, "importer")
    assert again["root"]["inputDefinitions"] == original["root"]["inputDefinitions"]


@pytest.mark.kfp
@pytest.mark.parametrize("case", sorted(ARGUMENTS))
def test_dagyard_ir_component_compiles_like_kfp(case: str, tmp_path: Path) -> None:
    text = _compiled(COMPONENTS[case], tmp_path)
    kfp_ir = compile_with_kfp(text, ARGUMENTS[case], tmp_path)
    dagyard_ir = compile_with_dagyard(text, ARGUMENTS[case], tmp_path)
    assert_same_component(kfp_ir, dagyard_ir, COMPONENTS[case].name, descriptions=True)


def _with_executor_settings(text: str, settings: dict[str, Any]) -> str:
    document = yaml.safe_load(text)
    executor = document["deploymentSpec"]["executors"]["exec-count-words"]
    executor["container"].update(settings)
    return yaml.safe_dump(document)


SETTINGS = {
    "env": [{"name": "MODE", "value": "fast"}, {"name": "LEVEL", "value": "3"}],
    "resources": {
        "cpuLimit": 0.5,
        "resourceCpuLimit": "500m",
        "memoryRequest": 0.268435456,
        "resourceMemoryRequest": "256Mi",
        "accelerator": {
            "count": "1",
            "resourceCount": "1",
            "type": "nvidia.com/gpu",
            "resourceType": "nvidia.com/gpu",
        },
    },
}


def test_env_and_resources_survive_recompiling(tmp_path: Path) -> None:
    text = _with_executor_settings(_compiled(count_words, tmp_path), SETTINGS)
    loaded = components.load_component_from_text(text)
    assert isinstance(loaded, YamlComponent)
    assert loaded.env == {"MODE": "fast", "LEVEL": "3"}
    ir = compile_with_dagyard(text, ARGUMENTS["container"], tmp_path)
    _, executor = component_in(ir, "count-words")
    assert executor == component_in(yaml.safe_load(text), "count-words")[1]


def test_env_and_resources_survive_compiling_the_component_alone(tmp_path: Path) -> None:
    text = _with_executor_settings(_compiled(count_words, tmp_path), SETTINGS)
    again = _compiled(components.load_component_from_text(text), tmp_path, "again.yaml")
    assert yaml.safe_load(again) == yaml.safe_load(text)


def test_numeric_resources_of_older_ir_become_quantities(tmp_path: Path) -> None:
    settings = {"resources": {"cpuLimit": 2.0, "memoryLimit": 1.5}}
    text = _with_executor_settings(_compiled(count_words, tmp_path), settings)
    loaded = components.load_component_from_text(text)
    assert isinstance(loaded, YamlComponent)
    assert (loaded.resources.cpu_limit, loaded.resources.memory_limit) == ("2", "1.5G")


def test_task_settings_add_to_the_loaded_ones(tmp_path: Path) -> None:
    settings = {"env": [{"name": "MODE", "value": "fast"}], "resources": {"resourceCpuLimit": "1"}}
    loaded = components.load_component_from_text(
        _with_executor_settings(_compiled(count_words, tmp_path), settings)
    )

    @dsl.pipeline(name="tuned")
    def tuned() -> None:
        source = dsl.importer(artifact_uri="gs://b/t", artifact_class=Dataset)
        loaded(text=source.output).set_env_variable("EXTRA", "1").set_memory_limit("1Gi")

    ir = yaml.safe_load(_compiled(tuned, tmp_path, "tuned.yaml"))
    container = component_in(ir, "count-words")[1]["container"]
    assert container["env"] == [
        {"name": "MODE", "value": "fast"},
        {"name": "EXTRA", "value": "1"},
    ]
    assert container["resources"]["resourceCpuLimit"] == "1"
    assert container["resources"]["resourceMemoryLimit"] == "1Gi"
