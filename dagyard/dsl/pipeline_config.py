"""`PipelineConfig`: a pipeline's own settings, name-compatible with kfp 2.17's
`dsl.PipelineConfig`, `dsl.WorkspaceConfig` and `dsl.KubernetesWorkspaceConfig`.

Belongs here: the three classes, checked as kfp checks them when they are made, and
`platform_config`, what the compiler writes for them: the PlatformSpec's
`platforms.kubernetes.pipelineConfig` (kfp's pipeline_spec_builder._merge_pipeline_config).
Not here: where a run's workspace lives or how its size is held to (the engine's,
docs/running.md).

    @dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
    def train(): ...
"""

from __future__ import annotations

import re
from typing import Any

from dagyard.dsl.placeholders import WORKSPACE_PATH_PLACEHOLDER
from dagyard.errors import DslError

# Where KFP mounts the workspace in a task's pod; a path under it names the workspace too.
WORKSPACE_MOUNT_PATH = "/kfp-workspace"

# A Kubernetes quantity as kfp accepts one for a workspace size: a plain or decimal
# number with an optional binary or decimal suffix.
_SIZE = re.compile(r"^(?:0|[1-9]\d*)(?:\.\d+)?(?:Ki|Mi|Gi|Ti|Pi|Ei|K|M|G|T|P|E)?$")
_INT32_MAX = 2**31 - 1
# PipelineConfig's numbers, by argument name, with the IR key each is written as.
_SECONDS = {
    "ttl_seconds_after_finished": "resourceTtlOnCompletion",
    "ttl_seconds_after_success": "resourceTtlOnSuccess",
    "ttl_seconds_after_failure": "resourceTtlOnFailure",
    "active_deadline_seconds": "activeDeadlineSeconds",
}


class KubernetesWorkspaceConfig:
    """Fields to patch onto the workspace's PersistentVolumeClaim on Kubernetes
    (`storageClassName`, `accessModes`, ...). Written to the IR; one machine has no
    volume claim to patch."""

    def __init__(self, pvcSpecPatch: dict[str, Any] | None = None) -> None:
        self.pvcSpecPatch = pvcSpecPatch or {}

    def set_pvcSpecPatch(self, patch: dict[str, Any]) -> None:
        self.pvcSpecPatch = patch


class WorkspaceConfig:
    """A folder shared by the tasks of a run (`dsl.WORKSPACE_PATH_PLACEHOLDER`), of
    `size`, a Kubernetes quantity such as '10Gi' or '500Mi'."""

    def __init__(self, size: str, kubernetes: KubernetesWorkspaceConfig | None = None) -> None:
        self.size = size
        self.kubernetes = kubernetes or KubernetesWorkspaceConfig()

    @property
    def size(self) -> str:
        return self._size

    @size.setter
    def size(self, size: str) -> None:
        text = str(size).strip() if size is not None else ""
        if not text:
            raise DslError(
                "Workspace size is missing; give one, e.g. WorkspaceConfig(size='10Gi')."
            )
        if not _SIZE.match(text):
            raise DslError(
                f"Workspace size {size!r} is not a Kubernetes quantity; write a number with "
                "an optional unit, e.g. '10Gi', '500Mi' or '1Ti'."
            )
        self._size = text

    def set_size(self, size: str) -> None:
        self.size = size

    def set_kubernetes_config(self, kubernetes_config: KubernetesWorkspaceConfig) -> None:
        self.kubernetes = kubernetes_config

    def get_workspace(self) -> dict[str, Any]:
        """The workspace as the IR holds it."""
        return {"size": self.size, "kubernetes": {"pvcSpecPatch": self.kubernetes.pvcSpecPatch}}


class PipelineConfig:
    """A pipeline's own settings: its `workspace`, and the Kubernetes-only retention
    and deadline of the run's resources (written to the IR as kfp writes them)."""

    def __init__(
        self,
        workspace: WorkspaceConfig | None = None,
        ttl_seconds_after_finished: int | None = None,
        ttl_seconds_after_success: int | None = None,
        ttl_seconds_after_failure: int | None = None,
        active_deadline_seconds: int | None = None,
    ) -> None:
        given = {
            "ttl_seconds_after_finished": ttl_seconds_after_finished,
            "ttl_seconds_after_success": ttl_seconds_after_success,
            "ttl_seconds_after_failure": ttl_seconds_after_failure,
            "active_deadline_seconds": active_deadline_seconds,
        }
        for name, value in given.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise DslError(f"PipelineConfig {name}={value!r}: give a whole number of seconds.")
            if not 0 <= value <= _INT32_MAX:
                raise DslError(
                    f"PipelineConfig {name}={value}: give a number of seconds from 0 to "
                    f"{_INT32_MAX}."
                )
        self.workspace = workspace
        self.ttl_seconds_after_finished = ttl_seconds_after_finished
        self.ttl_seconds_after_success = ttl_seconds_after_success
        self.ttl_seconds_after_failure = ttl_seconds_after_failure
        self.active_deadline_seconds = active_deadline_seconds


def platform_config(config: PipelineConfig | None) -> dict[str, Any]:
    """`platforms.kubernetes.pipelineConfig` for `config` ({} when it sets nothing); a
    zero number of seconds is not written, as kfp leaves it out."""
    if config is None:
        return {}
    written: dict[str, Any] = {}
    if config.workspace is not None:
        written["workspace"] = config.workspace.get_workspace()
    for name, key in _SECONDS.items():
        value = getattr(config, name)
        if value:
            written[key] = value
    return written


def check_workspace_use(pipeline: str, arguments: dict[str, Any], config: Any) -> None:
    """DslError when a task of `pipeline` is given the workspace's path (`arguments`:
    each task's name and its constant arguments) but `config` sets no workspace, as
    kfp's GraphComponent refuses it: the run would have no workspace to give."""
    if isinstance(config, PipelineConfig) and config.workspace is not None:
        return
    for task, given in arguments.items():
        for name, value in given.items():
            if isinstance(value, str) and (
                WORKSPACE_PATH_PLACEHOLDER in value or value.startswith(WORKSPACE_MOUNT_PATH)
            ):
                raise DslError(
                    f"Task '{task}' of pipeline '{pipeline}' is given the workspace's path "
                    f"(argument '{name}'), but the pipeline has no workspace; add "
                    "pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig("
                    "size='1Gi')) to its @dsl.pipeline."
                )
