"""The public surface is pinned: adding or removing a name is a deliberate change."""

import kfp.dsl
import pytest

import dagyard
from dagyard import dsl


def test_top_level_exports_are_pinned() -> None:
    assert dagyard.__all__ == [
        "Client",
        "DagyardError",
        "__version__",
        "compiler",
        "components",
        "dsl",
        "local",
    ]
    for name in dagyard.__all__:
        assert hasattr(dagyard, name)


DSL_EXPORTS = [
    "Artifact",
    "BaseComponent",
    "ClassificationMetrics",
    "Collected",
    "ConcatPlaceholder",
    "Condition",
    "ConditionOperation",
    "ContainerComponent",
    "ContainerSpec",
    "Dataset",
    "Elif",
    "Else",
    "EmbeddedInput",
    "ExitHandler",
    "GraphComponent",
    "HTML",
    "If",
    "IfPresentPlaceholder",
    "Input",
    "InputPath",
    "KubernetesWorkspaceConfig",
    "Markdown",
    "Metrics",
    "Model",
    "OneOf",
    "Output",
    "OutputPath",
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER",
    "PIPELINE_TASK_ID_PLACEHOLDER",
    "PIPELINE_TASK_NAME_PLACEHOLDER",
    "ParallelFor",
    "PipelineChannel",
    "PipelineConfig",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "PythonComponent",
    "SlicedClassificationMetrics",
    "TaskConfig",
    "TaskConfigField",
    "TaskConfigPassthrough",
    "WORKSPACE_PATH_PLACEHOLDER",
    "WorkspaceConfig",
    "component",
    "container_component",
    "get_uri",
    "importer",
    "notebook_component",
    "pipeline",
    "run_notebook",
]


def test_dsl_exports_are_pinned() -> None:
    assert sorted(dsl.__all__) == DSL_EXPORTS
    for name in dsl.__all__:
        assert hasattr(dsl, name), name


@pytest.mark.kfp
def test_dsl_covers_kfp_authoring_names() -> None:
    """The kfp.dsl names a v2 pipeline author uses all exist in dagyard.dsl."""
    authoring = {
        "component",
        "container_component",
        "pipeline",
        "importer",
        "ContainerSpec",
        "If",
        "Elif",
        "Else",
        "Condition",
        "OneOf",
        "ParallelFor",
        "Collected",
        "ExitHandler",
        "PipelineTaskFinalStatus",
        "PipelineTask",
        "PipelineConfig",
        "WorkspaceConfig",
        "KubernetesWorkspaceConfig",
        "TaskConfig",
        "TaskConfigField",
        "TaskConfigPassthrough",
        "Input",
        "Output",
        "InputPath",
        "OutputPath",
        "Artifact",
        "Dataset",
        "Model",
        "Metrics",
        "ClassificationMetrics",
        "SlicedClassificationMetrics",
        "HTML",
        "Markdown",
        "IfPresentPlaceholder",
        "ConcatPlaceholder",
        "PIPELINE_JOB_NAME_PLACEHOLDER",
        "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
        "PIPELINE_JOB_ID_PLACEHOLDER",
        "PIPELINE_TASK_NAME_PLACEHOLDER",
        "PIPELINE_TASK_ID_PLACEHOLDER",
        "PIPELINE_ROOT_PLACEHOLDER",
        "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
        "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
        "notebook_component",
        "run_notebook",
        "EmbeddedInput",
    }
    # kfp.dsl has EmbeddedInput without listing it in __all__.
    assert authoring <= set(kfp.dsl.__all__) | {"Condition", "EmbeddedInput"}
    assert authoring <= set(dsl.__all__)
    for name in authoring:
        if name.endswith("_PLACEHOLDER"):
            assert getattr(dsl, name) == getattr(kfp.dsl, name), name
