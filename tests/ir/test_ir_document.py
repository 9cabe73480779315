"""PipelineDocument: typed read access over a validated document, and the public surface."""

import pytest
from ir_sample import sample_spec

import dagyard.ir as ir
from dagyard.errors import IRError
from dagyard.ir.pipeline import PipelineInfo


def test_public_surface_is_pinned() -> None:
    assert ir.__all__ == [
        "SCHEMA_VERSION",
        "PipelineDocument",
        "PipelinePlan",
        "dump",
        "dumps",
        "from_dict",
        "load",
        "loads",
        "pipeline_info",
        "pipeline_spec_pb2",
        "plan",
        "stored_form",
        "validate",
    ]


def test_read_helpers_give_typed_messages() -> None:
    doc = ir.from_dict(sample_spec())
    pb2 = ir.pipeline_spec_pb2

    assert doc.name == "sample"
    assert doc.root_inputs.parameters["x"].parameter_type == pb2.ParameterType.NUMBER_INTEGER
    assert doc.component("comp-add").executor_label == "exec-add"
    assert doc.component("comp-for-loop-2").WhichOneof("implementation") == "dag"
    assert doc.executor("exec-add").container.image == "python:3.11"
    assert doc.executor("exec-importer").importer.artifact_uri.runtime_parameter == "uri"


def test_pipeline_info_of_a_stored_spec_is_the_plans_without_validating_the_rest() -> None:
    spec = sample_spec()
    spec["pipelineInfo"] = {"name": "sample", "displayName": "Sample", "description": "d"}

    assert ir.pipeline_info(spec) == ir.plan(ir.from_dict(spec)).info
    # Nothing else of the spec is needed, nor checked.
    assert ir.pipeline_info({"pipelineInfo": {"name": "only"}}) == PipelineInfo(name="only")
    assert ir.pipeline_info({}) == ir.pipeline_info({"pipelineInfo": None}) == PipelineInfo("")


def test_unknown_names_raise_key_error_listing_the_known_ones() -> None:
    doc = ir.from_dict(sample_spec())

    with pytest.raises(KeyError, match="No component 'comp-x'; known: comp-add, comp-condition-1"):
        doc.component("comp-x")
    with pytest.raises(KeyError, match="No executor 'exec-x'; known: exec-add"):
        doc.executor("exec-x")


def test_raw_keeps_integers_that_protobuf_turns_into_floats() -> None:
    doc = ir.from_dict(sample_spec())

    assert doc.raw["root"]["inputDefinitions"]["parameters"]["x"]["defaultValue"] == 1
    assert type(doc.raw["root"]["inputDefinitions"]["parameters"]["x"]["defaultValue"]) is int
    assert doc.root_inputs.parameters["x"].default_value.number_value == 1.0
    metadata = doc.raw["deploymentSpec"]["executors"]["exec-importer"]["importer"]["metadata"]
    assert type(metadata["version"]) is int


def test_from_dict_copies_its_input() -> None:
    spec = sample_spec()
    doc = ir.from_dict(spec)

    spec["pipelineInfo"]["name"] = "changed"

    assert doc.raw["pipelineInfo"]["name"] == "sample"


def test_validate_accepts_or_raises() -> None:
    ir.validate(sample_spec())
    with pytest.raises(IRError):
        ir.validate({"schemaVersion": "2.1.0"})


def test_from_dict_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(IRError, match="a PipelineSpec must be a mapping, got list"):
        ir.from_dict([])  # type: ignore[arg-type]


def test_document_is_immutable() -> None:
    doc = ir.from_dict(sample_spec())

    with pytest.raises(AttributeError):
        doc.raw = {}  # type: ignore[misc]
