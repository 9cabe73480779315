"""An executor's settings given by pipeline values are read for each task from its
input parameters: a container's image and resources, as KFP's driver does
(resolvePodSpecInputRuntimeParameter in backend/src/v2/driver/resolve.go), and an
importer's metadata, as kfp.local does; what cannot be read fails the task, naming it.

The runs of such pipelines, compiled by kfp and by Dagyard, are in the corpus
(tests/pipelines/kfp_sdk_resource_values.py and kfp_sdk_importer_metadata.py, run by
test_kfp_corpus_runs.py).
"""

from __future__ import annotations

import pytest

from dagyard.engine.commands import RuntimeContext
from dagyard.engine.executor_settings import resolve_container, resolve_metadata
from dagyard.engine.failures import TaskFailure
from dagyard.ir.pipeline import Accelerator, Container, Resources

CONTEXT = RuntimeContext("job", "run-1", "train", "task-1", "/root", "t0", "t0")


def _value(name: str) -> str:
    return "{{$.inputs.parameters['pipelinechannel--" + name + "']}}"


def test_every_setting_given_by_a_pipeline_value_is_read_from_the_attempts_inputs() -> None:
    container = Container(
        image=_value("image"),
        resources=Resources(
            resource_cpu_limit=_value("cpu"),
            resource_cpu_request="250m",
            resource_memory_limit=_value("memory"),
            accelerator=Accelerator(resource_type=_value("kind"), resource_count=_value("count")),
        ),
    )
    parameters = {
        "pipelinechannel--image": "python:3.12",
        "pipelinechannel--cpu": "2",
        "pipelinechannel--memory": "512Mi",
        "pipelinechannel--kind": "nvidia.com/gpu",
        "pipelinechannel--count": 2,  # a task's int output: its text, as in a command
    }
    resolved = resolve_container(container, parameters, CONTEXT)
    assert resolved.image == "python:3.12"
    assert resolved.resources == Resources(
        resource_cpu_limit="2",
        resource_cpu_request="250m",
        resource_memory_limit="512Mi",
        accelerator=Accelerator(resource_type="nvidia.com/gpu", resource_count="2"),
    )


def test_a_container_with_constant_settings_is_returned_as_it_is() -> None:
    container = Container(image="python:3.11", resources=Resources(resource_cpu_limit="1"))
    assert resolve_container(container, {}, CONTEXT) is container


def test_a_setting_whose_value_no_input_gives_fails_the_task_naming_it() -> None:
    container = Container(image="python:3.11", resources=Resources(resource_cpu_limit=_value("x")))
    with pytest.raises(
        TaskFailure, match=r"set_cpu_limit\(\) of this task is .*pipelinechannel--x"
    ):
        resolve_container(container, {}, CONTEXT)


@pytest.mark.parametrize(
    ("resources", "value", "message"),
    [
        (
            Resources(resource_memory_limit=_value("v")),
            "lots",
            r"set_memory_limit\(\) was given 'lots'",
        ),
        (
            Resources(resource_cpu_request=_value("v")),
            "two",
            r"set_cpu_request\(\) was given 'two'",
        ),
        (
            Resources(accelerator=Accelerator(resource_count=_value("v"))),
            "1.5",
            r"set_accelerator_limit\(\) was given '1.5' .* whole number",
        ),
    ],
)
def test_a_value_that_is_not_a_setting_fails_the_task_naming_it(
    resources: Resources, value: str, message: str
) -> None:
    container = Container(image="python:3.11", resources=resources)
    with pytest.raises(TaskFailure, match=message):
        resolve_container(container, {"pipelinechannel--v": value}, CONTEXT)


def test_an_importers_metadata_is_filled_in_keys_values_and_lists_as_text() -> None:
    """As kfp.local's importer_handler fills it (recursively_resolve_json_dict_placeholders)."""
    metadata = {
        "owner": "{{$.inputs.parameters['metadata']}}",
        "{{$.inputs.parameters['metadata']}}": ["v{{$.inputs.parameters['metadata-2']}}", 1],
        "job": "{{$.pipeline_job_name}}",
        "nested": {"n": "{{$.inputs.parameters['metadata-2']}}"},
    }
    parameters = {"metadata": "ml-team", "metadata-2": 3}
    assert resolve_metadata(metadata, parameters, CONTEXT) == {
        "owner": "ml-team",
        "ml-team": ["v3", 1],
        "job": "job",
        "nested": {"n": "3"},
    }


def test_an_importers_metadata_value_with_no_input_fails_the_task() -> None:
    with pytest.raises(TaskFailure, match=r"importer's metadata .*'metadata-9'"):
        resolve_metadata({"a": "{{$.inputs.parameters['metadata-9']}}"}, {}, CONTEXT)
