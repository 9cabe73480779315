"""Volumes of a task: claims (PVCs) made, mounted and deleted by the pipeline, scratch
folders (`empty_dir_mount`) and ephemeral volumes.

Belongs here: `CreatePVC`, `DeletePVC` (components, as in kfp-kubernetes: their images
are markers the engine recognises, never pulled), `mount_pvc`, `empty_dir_mount`,
`add_ephemeral_volume`. On one machine a claim is a named folder under the home and a
task sees it at its mount path; the engine does that (docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagyard import dsl
from dagyard.conventions import CREATE_PVC_IMAGE, DELETE_PVC_IMAGE
from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.errors import DslError
from dagyard.kubernetes import _config


@dsl.container_component
def CreatePVC(
    name: dsl.OutputPath(str),  # type: ignore[valid-type]
    access_modes: list[str],
    size: str,
    pvc_name: str | None = None,
    pvc_name_suffix: str | None = None,
    storage_class_name: str | None = "",
    volume_name: str | None = None,
    annotations: dict[str, str] | None = None,
    data_source: dict[str, str] | None = None,
) -> dsl.ContainerSpec:
    """Make a volume claim later tasks mount with `mount_pvc`; its output `name` is the
    claim's name: `pvc_name`, or a name made for the run ending in `pvc_name_suffix`.
    On one machine the claim is a folder; size, access modes, storage class, volume and
    data source are recorded."""
    return dsl.ContainerSpec(image=CREATE_PVC_IMAGE)


@dsl.container_component
def DeletePVC(pvc_name: str) -> dsl.ContainerSpec:
    """Delete the volume claim `pvc_name` and everything in it."""
    return dsl.ContainerSpec(image=DELETE_PVC_IMAGE)


def mount_pvc(
    task: PipelineTask,
    pvc_name: str | PipelineChannel,
    mount_path: str,
    sub_path: str = "",
) -> PipelineTask:
    """Give `task` the volume claim `pvc_name` (a name, or `CreatePVC(...).outputs['name']`)
    at `mount_path`; with `sub_path`, only that folder of it."""
    entry: dict[str, Any] = {
        **_config.legacy_name(pvc_name),
        "mountPath": mount_path,
        "pvcNameParameter": _config.parameter(pvc_name, what="pvc_name"),
    }
    if sub_path:
        entry["subPath"] = sub_path
    _config.config(task).setdefault("pvcMount", []).append(entry)
    return task


def empty_dir_mount(
    task: PipelineTask,
    volume_name: str,
    mount_path: str,
    medium: str | None = None,
    size_limit: str | None = None,
) -> PipelineTask:
    """Give `task` an empty folder at `mount_path`, made for each attempt and removed
    with it. `medium` ('Memory', 'HugePages') and `size_limit` are recorded."""
    entry: dict[str, Any] = {"volumeName": volume_name, "mountPath": mount_path}
    if medium is not None:
        entry["medium"] = medium
    if size_limit is not None:
        entry["sizeLimit"] = size_limit
    _config.config(task).setdefault("emptyDirMounts", []).append(entry)
    return task


def add_ephemeral_volume(
    task: PipelineTask,
    volume_name: str,
    mount_path: str,
    access_modes: Sequence[str],
    size: str,
    storage_class_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> PipelineTask:
    """Give `task` a volume of its own at `mount_path` that lives as long as the task:
    on one machine, an empty folder like `empty_dir_mount`'s."""
    if isinstance(access_modes, str):
        raise DslError(f"access_modes must be a list of modes; got the string {access_modes!r}.")
    entry: dict[str, Any] = {
        "volumeName": volume_name,
        "mountPath": mount_path,
        "accessModes": list(access_modes),
        "size": size,
    }
    if storage_class_name is None:
        entry["defaultStorageClass"] = True
    elif storage_class_name:
        entry["storageClassName"] = storage_class_name
    if labels or annotations:
        metadata: dict[str, Any] = {}
        if labels:
            metadata["labels"] = dict(labels)
        if annotations:
            metadata["annotations"] = dict(annotations)
        entry["metadata"] = metadata
    _config.config(task).setdefault("genericEphemeralVolume", []).append(entry)
    return task
