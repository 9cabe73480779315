"""Mistakes in a pipeline definition fail at the line that makes them, with a message
that names the task or component, the input, and what to do."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Output
from dagyard.errors import DslError


@dsl.component
def make_number() -> int:
    return 3


@dsl.component
def make_text() -> str:
    return "three"


@dsl.component
def double(x: int) -> int:
    return 2 * x


@dsl.component
def two_outputs() -> NamedTuple("Outputs", [("a", int), ("b", str)]):
    from collections import namedtuple

    return namedtuple("Outputs", ["a", "b"])(1, "b")


@dsl.component
def write_data(data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("x")


@dsl.component
def read_data(data: Input[Dataset]) -> None:
    with open(data.path) as f:
        print(f.read())


def test_wrong_parameter_type_between_tasks_names_task_and_input() -> None:
    with pytest.raises(
        DslError, match=r"input 'x' of component 'double' expects NUMBER_INTEGER but got STRING"
    ):

        @dsl.pipeline
        def bad() -> None:
            double(x=make_text().output)


def test_wrong_constant_type_is_rejected() -> None:
    with pytest.raises(
        DslError,
        match=r"input 'x' of component 'double' expects NUMBER_INTEGER but got the string 'seven'",
    ):

        @dsl.pipeline
        def bad() -> None:
            double(x="seven")


def test_artifact_passed_to_parameter_input_is_rejected() -> None:
    with pytest.raises(
        DslError,
        match=r"input 'x' of component 'double' expects NUMBER_INTEGER but .* is an artifact",
    ):

        @dsl.pipeline
        def bad() -> None:
            double(x=write_data().outputs["data"])


def test_parameter_passed_to_artifact_input_is_rejected() -> None:
    with pytest.raises(
        DslError, match=r"input 'data' of component 'read-data' expects system.Dataset"
    ):

        @dsl.pipeline
        def bad() -> None:
            read_data(data=make_number().output)


def test_missing_required_input_names_it() -> None:
    with pytest.raises(DslError, match=r"component 'double' is missing required input 'x'"):

        @dsl.pipeline
        def bad() -> None:
            double()


def test_unknown_argument_lists_known_inputs() -> None:
    with pytest.raises(DslError, match=r"has no input 'y' \(its inputs: x\)"):

        @dsl.pipeline
        def bad() -> None:
            double(x=1, y=2)


def test_output_on_multi_output_task_says_use_outputs() -> None:
    with pytest.raises(
        DslError, match=r"Task 'two-outputs' has 2 outputs \('a', 'b'\).*outputs\['<name>'\]"
    ):

        @dsl.pipeline
        def bad() -> None:
            double(x=two_outputs().output)


def test_cycle_through_after_is_rejected() -> None:
    with pytest.raises(DslError, match=r"would make a cycle"):

        @dsl.pipeline
        def bad() -> None:
            first = make_number()
            second = double(x=first.output)
            first.after(second)


def test_component_using_module_level_import_is_not_self_contained() -> None:
    import json

    with pytest.raises(DslError, match=r"Component 'dumps-it' is not self-contained: it uses json"):

        @dsl.component
        def dumps_it(x: int) -> str:
            return json.dumps(x)


def test_component_using_closure_is_not_self_contained() -> None:
    factor = 3
    with pytest.raises(DslError, match=r"not self-contained: it uses factor"):

        @dsl.component
        def scale(x: int) -> int:
            return x * factor


def test_missing_annotation_says_how_to_fix() -> None:
    with pytest.raises(
        DslError, match=r"Missing type annotation for argument 'x' of component 'untyped'"
    ):

        @dsl.component
        def untyped(x) -> int:  # type: ignore[no-untyped-def]
            return 1


def test_component_called_outside_pipeline_says_where_to_call_it() -> None:
    with pytest.raises(DslError, match=r"called outside a pipeline"):
        double(x=1)


def test_positional_arguments_are_rejected() -> None:
    with pytest.raises(DslError, match=r"positional arguments"):

        @dsl.pipeline
        def bad() -> None:
            double(1)


def test_python_if_on_a_channel_points_to_dsl_if() -> None:
    with pytest.raises(DslError, match=r"use it as the condition of `with dsl.If"):

        @dsl.pipeline
        def bad() -> None:
            if make_number().output > 2:
                double(x=1)


def test_elif_without_if_is_rejected() -> None:
    with pytest.raises(DslError, match=r"dsl.Elif must directly follow"):

        @dsl.pipeline
        def bad() -> None:
            n = make_number()
            with dsl.Elif(n.output > 1):
                double(x=1)


def test_oneof_without_else_is_rejected() -> None:
    with pytest.raises(DslError, match=r"one output from every branch.*dsl.Else"):

        @dsl.pipeline
        def bad() -> None:
            n = make_number()
            with dsl.If(n.output > 1):
                a = double(x=1)
            with dsl.Elif(n.output > 0):
                b = double(x=2)
            dsl.OneOf(a.output, b.output)


def test_exit_task_must_not_depend_on_other_tasks() -> None:
    @dsl.component
    def cleanup(status: dsl.PipelineTaskFinalStatus, x: int = 0) -> None:
        print(status.state, x)

    with pytest.raises(DslError, match=r"Exit task 'cleanup' depends on other tasks"):

        @dsl.pipeline
        def bad() -> None:
            exit_task = cleanup(x=make_number().output)
            with dsl.ExitHandler(exit_task):
                double(x=1)


def test_bad_resource_values_are_rejected() -> None:
    with pytest.raises(DslError, match=r"memory 'lots' must be a number"):

        @dsl.pipeline
        def bad() -> None:
            double(x=1).set_memory_limit("lots")


def test_ignore_upstream_failure_needs_defaults() -> None:
    with pytest.raises(DslError, match=r"give that input a default value"):

        @dsl.pipeline
        def bad() -> None:
            double(x=make_number().output).ignore_upstream_failure()


def test_an_import_inside_the_body_is_self_contained_even_if_the_module_imports_it() -> None:
    import json  # the module (here: this test) has its own `json`

    @dsl.component
    def dumps_inside(x: int) -> str:
        import json

        return json.dumps(x)

    assert dumps_inside.name == "dumps-inside"
    assert json.dumps(1) == "1"
