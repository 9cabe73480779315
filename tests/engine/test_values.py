"""Parameter values as KFP hands them over: output parameter files read by their declared
type as KFP's launcher reads them (`TextToPbValue` in its driver/launcher support code:
Go's strconv.ParseBool for BOOLEAN, ParseInt and ParseFloat of the trimmed text for
numbers, JSON for LIST and STRUCT, STRING as written), and non-string values reaching a
STRING input as their JSON text, as KFP's driver gives them. The runs that show both end
to end are the corpus pipeline run_values (tests/pipelines/kfp_run_values.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dagyard.engine.values import as_text, from_ir, parse_output


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[(t, True) for t in ("1", "t", "T", "TRUE", "true", "True", "True\n", " true ")],
        *[(t, False) for t in ("0", "f", "F", "FALSE", "false", "False", "False\n")],
    ],
)
def test_a_boolean_file_is_read_as_go_parsebool_reads_it(text: str, value: bool) -> None:
    assert parse_output(text, "BOOLEAN") is value


@pytest.mark.parametrize("text", ["yes", "no", "tRUE", "", "2", '"true"'])
def test_other_boolean_text_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="one of true, false, True, False, TRUE, FALSE, 1, 0"):
        parse_output(text, "BOOLEAN")


@pytest.mark.parametrize(("text", "value"), [("3", 3), (" 3\n", 3), ("-12", -12), ("+7", 7)])
def test_an_integer_file_holds_a_decimal_integer(text: str, value: int) -> None:
    parsed = parse_output(text, "NUMBER_INTEGER")
    assert parsed == value and type(parsed) is int


@pytest.mark.parametrize("text", ["3.0", "1e3", "0x10", "1_000", "three", ""])
def test_an_integer_file_with_anything_else_is_refused_as_kfp_refuses_it(text: str) -> None:
    with pytest.raises(ValueError, match=r"decimal integer such as 3 \(not 3.0\)"):
        parse_output(text, "NUMBER_INTEGER")


@pytest.mark.parametrize(
    ("text", "value"), [("2", 2.0), ("2.5\n", 2.5), ("1e-3", 0.001), ("-0.5", -0.5)]
)
def test_a_float_file_holds_any_number(text: str, value: float) -> None:
    parsed = parse_output(text, "NUMBER_DOUBLE")
    assert parsed == value and type(parsed) is float


def test_a_float_file_may_hold_infinity_and_nan_as_go_reads_them() -> None:
    assert parse_output("inf", "NUMBER_DOUBLE") == math.inf
    assert math.isnan(parse_output("NaN", "NUMBER_DOUBLE"))
    with pytest.raises(ValueError, match=r"number such as 2\.5"):
        parse_output("two", "NUMBER_DOUBLE")


def test_lists_and_structs_are_json_and_strings_are_kept_as_written() -> None:
    assert parse_output(' [1, "a"]\n', "LIST") == [1, "a"]
    assert parse_output('{"a": {"b": null}}', "STRUCT") == {"a": {"b": None}}
    assert parse_output(" text \n", "STRING") == " text \n"
    with pytest.raises(ValueError, match="a LIST is written as JSON"):
        parse_output("[1,", "LIST")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (110, "110"),
        (110.0, "110"),  # protobuf keeps numbers as doubles; KFP's driver writes 110
        (0.5, "0.5"),
        (True, "true"),
        ([1.0, 2.5], "[1, 2.5]"),
        ({"a": 1.0, "b": [True, None]}, '{"a": 1, "b": [true, null]}'),
    ],
)
def test_a_value_reaching_a_string_input_becomes_its_json_text(value: Any, text: str) -> None:
    assert as_text(value) == text
    assert from_ir(value, "STRING") == text


def test_strings_and_missing_values_reach_a_string_input_unchanged() -> None:
    assert from_ir("110", "STRING") == "110"
    assert from_ir(None, "STRING") is None
    assert from_ir(3.0, "NUMBER_INTEGER") == 3
