"""Reading IR from YAML/JSON text and files, and writing it back as YAML."""

import json
from pathlib import Path

import pytest
import yaml
from ir_sample import PLATFORM_YAML, SAMPLE_YAML, sample_platform_spec, sample_spec

import dagyard.ir as ir
from dagyard.errors import IRError


def test_loads_reads_yaml_with_its_comment_header() -> None:
    doc = ir.loads(SAMPLE_YAML)

    assert doc.name == "sample"
    assert doc.raw == sample_spec()
    assert doc.platform_spec is None


def test_second_document_is_the_platform_spec() -> None:
    doc = ir.loads(f"{SAMPLE_YAML}---\n{PLATFORM_YAML}")

    assert doc.platform_spec == sample_platform_spec()


def test_a_trailing_document_marker_adds_nothing() -> None:
    assert ir.loads(f"{SAMPLE_YAML}---\n").platform_spec is None


def test_second_document_must_be_a_platform_spec() -> None:
    with pytest.raises(IRError, match="second YAML document must be a PlatformSpec"):
        ir.loads(f"{SAMPLE_YAML}---\n{SAMPLE_YAML}")


def test_three_documents_are_refused() -> None:
    with pytest.raises(IRError, match="3 YAML documents"):
        ir.loads(f"{SAMPLE_YAML}---\n{PLATFORM_YAML}---\n{PLATFORM_YAML}")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(IRError, match="no document"):
        ir.loads(text)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(IRError, match="must be a mapping") as caught:
        ir.loads(text)

    assert caught.value.path == ""


def test_yaml_syntax_error_names_line_and_column() -> None:
    text = "pipelineInfo:\n  name: a\nroot: [unclosed\n"

    with pytest.raises(IRError, match=r"invalid YAML at line 4, column 1") as caught:
        ir.loads(text)

    assert caught.value.path == ""


def test_bad_indentation_names_line_and_column() -> None:
    with pytest.raises(IRError, match=r"invalid YAML at line 2, column 5: mapping values"):
        ir.loads("a: b\nc: d: e\n")


def test_duplicate_yaml_key_is_refused_with_its_line() -> None:
    text = SAMPLE_YAML.replace(
        "pipelineInfo: {name: sample}", "pipelineInfo: {name: sample}\npipelineInfo: {name: b}"
    )
    line = text.splitlines().index("pipelineInfo: {name: b}") + 1

    with pytest.raises(IRError, match=rf"line {line}, column 1: key 'pipelineInfo' is given twice"):
        ir.loads(text)


def test_unquoted_dates_stay_text() -> None:
    doc = ir.loads(SAMPLE_YAML.replace("sdkVersion: kfp-2.17.0", "sdkVersion: 2024-01-31"))

    assert doc.raw["sdkVersion"] == "2024-01-31"


def test_loads_reads_json() -> None:
    doc = ir.loads(json.dumps(sample_spec(), indent=2))

    assert doc.raw == sample_spec()


def test_json_syntax_error_names_line_and_column() -> None:
    text = json.dumps(sample_spec(), indent=2)[:-1]
    lines = text.count("\n") + 1

    with pytest.raises(IRError, match=rf"invalid JSON at line {lines}, column 1"):
        ir.loads(text)


def test_duplicate_json_key_is_refused() -> None:
    with pytest.raises(IRError, match="'a' is given twice"):
        ir.loads('{"a": 1, "a": 2}')


def test_yaml_flow_mapping_is_not_mistaken_for_json() -> None:
    with pytest.raises(IRError) as caught:
        ir.loads("{pipelineInfo: {name: x}}")

    assert caught.value.path == "schemaVersion"


def test_validation_errors_from_text_carry_the_document_path() -> None:
    text = SAMPLE_YAML.replace("componentRef: {name: comp-read}", "componentRef: {name: comp-x}")

    with pytest.raises(IRError) as caught:
        ir.loads(text)

    assert caught.value.path == "root.dag.tasks.read.componentRef.name"


def test_dumps_round_trips_and_keeps_integers() -> None:
    doc = ir.from_dict(sample_spec(), sample_platform_spec())

    again = ir.loads(ir.dumps(doc))

    assert again.raw == doc.raw
    assert again.platform_spec == doc.platform_spec
    default = again.raw["root"]["inputDefinitions"]["parameters"]["x"]["defaultValue"]
    assert type(default) is int
    limit = again.raw["root"]["dag"]["tasks"]["for-loop-2"]["iteratorPolicy"]["parallelismLimit"]
    assert type(limit) is int


def test_dumps_keeps_the_given_key_order() -> None:
    spec = {"schemaVersion": "2.1.0", "pipelineInfo": {"name": "x"}, "components": {}}

    text = ir.dumps(spec)

    assert [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")] == [
        "schemaVersion",
        "pipelineInfo",
        "components",
    ]


def test_dumps_writes_multiline_strings_as_block_scalars() -> None:
    text = ir.dumps(sample_spec())

    assert '- |\n          set -e\n          echo "$0 + $1"\n' in text


def test_dumps_survives_strings_a_block_scalar_cannot_hold() -> None:
    spec = {"a": "trailing space \nnext", "b": "  leading\nx", "c": "tab\there\n", "d": "x\n\n"}

    assert yaml.safe_load(ir.dumps(spec)) == spec


def test_dumps_writes_a_shared_object_twice_instead_of_an_alias() -> None:
    shared = {"parameterType": "STRING"}
    spec = {"a": shared, "b": shared}

    assert "&" not in ir.dumps(spec)


def test_dumps_takes_a_platform_spec_argument() -> None:
    text = ir.dumps(sample_spec(), platform_spec=sample_platform_spec())

    assert ir.loads(text).platform_spec == sample_platform_spec()


def test_dump_and_load_a_file(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"

    ir.dump(ir.loads(SAMPLE_YAML), path)

    assert ir.load(path).raw == sample_spec()
    assert ir.load(str(path)).name == "sample"


def test_load_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"pipelineInfo: {name: \xff}\n")

    with pytest.raises(IRError, match="not UTF-8"):
        ir.load(path)


def test_load_of_a_missing_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ir.load(tmp_path / "missing.yaml")
