"""Everything the real kfp 2.17 compiler writes loads, validates and round-trips."""

import subprocess
import sys
from pathlib import Path

import pytest
from ir_kfp_pipelines import PIPELINES, compile_to_text

import dagyard.ir as ir
from dagyard.errors import IRError

pytestmark = pytest.mark.kfp


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("kfp")
    return {name: compile_to_text(name, str(directory)) for name in PIPELINES}


@pytest.mark.parametrize("name", list(PIPELINES))
def test_kfp_output_loads_and_validates(compiled: dict[str, str], name: str) -> None:
    doc = ir.loads(compiled[name])

    assert doc.raw["schemaVersion"] == ir.SCHEMA_VERSION
    assert doc.name == doc.raw["pipelineInfo"]["name"]
    ir.validate(doc.raw, doc.platform_spec)


@pytest.mark.parametrize("name", list(PIPELINES))
def test_kfp_output_round_trips_through_dumps(compiled: dict[str, str], name: str) -> None:
    doc = ir.loads(compiled[name])

    again = ir.loads(ir.dumps(doc))

    assert again.raw == doc.raw
    assert again.platform_spec == doc.platform_spec


def test_component_compiled_alone_is_a_pipeline_with_one_task(
    compiled: dict[str, str],
) -> None:
    # kfp does not write a root with an executorLabel: it wraps the component in a DAG.
    doc = ir.loads(compiled["component_python"])

    assert list(doc.raw["root"]["dag"]["tasks"]) == ["add"]
    assert doc.component("comp-add").executor_label == "exec-add"
    assert doc.executor("exec-add").container.image == "python:3.11"


def test_platform_config_becomes_the_second_document(compiled: dict[str, str]) -> None:
    doc = ir.loads(compiled["with_platform_config"])

    assert doc.platform_spec is not None
    workspace = doc.platform_spec["platforms"]["kubernetes"]["pipelineConfig"]["workspace"]
    assert workspace["size"] == "1Gi"
    assert ir.dumps(doc).count("\n---\n") == 1


def test_breaking_kfp_output_names_the_place(compiled: dict[str, str]) -> None:
    spec = ir.loads(compiled["artifact_loop"]).raw
    loop = spec["components"]["comp-each-dataset"]["dag"]["tasks"]["for-loop-1"]
    loop["artifactIterator"]["items"]["inputArtifact"] = "datasets"

    with pytest.raises(IRError) as caught:
        ir.validate(spec)

    assert caught.value.path == (
        "components.comp-each-dataset.dag.tasks.for-loop-1.artifactIterator.items.inputArtifact"
    )


def test_kfp_json_output_loads(tmp_path: Path) -> None:
    from kfp import compiler

    path = tmp_path / "p.json"
    with pytest.warns(DeprecationWarning):
        compiler.Compiler().compile(PIPELINES["loops"], package_path=str(path))

    doc = ir.load(path)

    assert doc.name == "loops"


def test_messages_are_the_classes_kfp_uses(compiled: dict[str, str]) -> None:
    from kfp.pipeline_spec import pipeline_spec_pb2

    doc = ir.loads(compiled["conditions"])

    assert isinstance(doc.spec, pipeline_spec_pb2.PipelineSpec)
    assert ir.pipeline_spec_pb2.PipelineSpec is pipeline_spec_pb2.PipelineSpec


def test_importing_dagyard_ir_does_not_import_the_kfp_sdk() -> None:
    code = (
        "import sys, dagyard.ir\n"
        "loaded = sorted(m for m in sys.modules if m == 'kfp' or m.startswith('kfp.'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
