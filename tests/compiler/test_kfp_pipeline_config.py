"""`dsl.PipelineConfig` as kfp 2.17 has it: the same checks when it is made, the same
PlatformSpec written (kfp's pipeline_spec_builder._merge_pipeline_config puts it at
`platforms.kubernetes.pipelineConfig`), and the same refusal of a pipeline that uses
the workspace without one. Each case runs with the real kfp and with `dagyard.dsl`.
"""

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl

from dagyard import compiler as dagyard_compiler
from dagyard import dsl as dagyard_dsl
from dagyard.errors import DslError

pytestmark = pytest.mark.kfp

BOTH = pytest.mark.parametrize("dsl", [kfp_dsl, dagyard_dsl], ids=["kfp", "dagyard"])


def _platform_spec(dsl: ModuleType, pipeline: Any, path: Path) -> Any:
    if dsl is kfp_dsl:
        kfp_compiler.Compiler().compile(pipeline, str(path))
    else:
        dagyard_compiler.Compiler().compile(pipeline, path)
    documents = list(yaml.safe_load_all(path.read_text()))
    return documents[1] if len(documents) == 2 else None


def _workspace_pipeline(dsl: ModuleType, config: Any) -> Any:
    @dsl.container_component
    def list_files(workspace: str):  # type: ignore[no-untyped-def]
        return dsl.ContainerSpec(image="alpine:3.20", command=["ls"], args=[workspace])

    @dsl.pipeline(name="workspace", pipeline_config=config)
    def pipeline():  # type: ignore[no-untyped-def]
        list_files(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER)

    return pipeline


CONFIGS = {
    "size-only": lambda dsl: dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")),
    "pvc-patch-and-seconds": lambda dsl: dsl.PipelineConfig(
        workspace=dsl.WorkspaceConfig(
            size=" 2.5Gi ",
            kubernetes=dsl.KubernetesWorkspaceConfig(
                pvcSpecPatch={"storageClassName": "fast", "accessModes": ["ReadWriteOnce"]}
            ),
        ),
        ttl_seconds_after_finished=0,
        ttl_seconds_after_success=60,
        ttl_seconds_after_failure=600,
        active_deadline_seconds=3600,
    ),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_a_pipeline_config_is_written_to_the_platform_spec_as_kfp_writes_it(
    config: str, tmp_path: Path
) -> None:
    """kfp writes the workspace (size trimmed, the PVC patch, {} when none) and every
    number of seconds above zero under platforms.kubernetes.pipelineConfig."""
    expected = _platform_spec(
        kfp_dsl, _workspace_pipeline(kfp_dsl, CONFIGS[config](kfp_dsl)), tmp_path / "kfp.yaml"
    )
    actual = _platform_spec(
        dagyard_dsl,
        _workspace_pipeline(dagyard_dsl, CONFIGS[config](dagyard_dsl)),
        tmp_path / "dagyard.yaml",
    )
    assert (
        expected is not None
        and "workspace" in expected["platforms"]["kubernetes"]["pipelineConfig"]
    )
    assert actual == expected


def test_a_pipeline_without_a_config_writes_no_platform_spec(tmp_path: Path) -> None:
    @dagyard_dsl.component(base_image="python:3.11")
    def one() -> int:
        return 1

    @dagyard_dsl.pipeline(pipeline_config=dagyard_dsl.PipelineConfig())
    def pipeline():  # type: ignore[no-untyped-def]
        one()

    assert _platform_spec(dagyard_dsl, pipeline, tmp_path / "dagyard.yaml") is None


@BOTH
def test_using_the_workspace_without_a_workspace_config_is_refused(dsl: ModuleType) -> None:
    """kfp's GraphComponent._validate_workspace_requirements: a task input holding
    WORKSPACE_PATH_PLACEHOLDER (or a path under /kfp-workspace) needs
    PipelineConfig.workspace, checked when the pipeline is defined."""
    expected = (ValueError, "PipelineConfig.workspace.size is not set")
    if dsl is dagyard_dsl:
        expected = (DslError, r"add pipeline_config=dsl\.PipelineConfig\(workspace=")
    for config in (None, dsl.PipelineConfig()):
        with pytest.raises(expected[0], match=expected[1]):
            _workspace_pipeline(dsl, config)


def test_the_refusal_names_the_task_and_its_argument() -> None:
    @dagyard_dsl.component(base_image="python:3.11")
    def read(path: str) -> str:
        return path

    with pytest.raises(DslError) as raised:

        @dagyard_dsl.pipeline(name="reader")
        def pipeline():  # type: ignore[no-untyped-def]
            read(path="/kfp-workspace/data.csv")

    assert str(raised.value) == (
        "Task 'read' of pipeline 'reader' is given the workspace's path (argument 'path'), "
        "but the pipeline has no workspace; add pipeline_config=dsl.PipelineConfig("
        "workspace=dsl.WorkspaceConfig(size='1Gi')) to its @dsl.pipeline."
    )


@BOTH
@pytest.mark.parametrize("size", ["", "  ", "ten", "1GB", "-1Gi", "01Gi"])
def test_a_workspace_size_that_is_not_a_quantity_is_refused(dsl: ModuleType, size: str) -> None:
    """kfp's pipeline_config._is_valid_workspace_size: a Kubernetes quantity."""
    error = ValueError if dsl is kfp_dsl else DslError
    with pytest.raises(error, match=r"(?i)workspace size"):
        dsl.WorkspaceConfig(size=size)


@BOTH
@pytest.mark.parametrize("seconds", [-1, 2**31, 1.5, True])
def test_seconds_that_are_not_a_whole_int32_are_refused(dsl: ModuleType, seconds: Any) -> None:
    """kfp's PipelineConfig.__init__: each number of seconds is an int from 0 to the
    int32 maximum."""
    error = (TypeError, ValueError) if dsl is kfp_dsl else DslError
    with pytest.raises(error, match="active_deadline_seconds"):
        dsl.PipelineConfig(active_deadline_seconds=seconds)


def test_pipeline_config_must_be_a_pipeline_config() -> None:
    with pytest.raises(DslError, match=r"pipeline_config=\{'workspace': '1Gi'\} is not"):
        dagyard_dsl.pipeline(pipeline_config={"workspace": "1Gi"})  # type: ignore[arg-type]
