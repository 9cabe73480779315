"""Secrets and config maps given to a task: as environment variables or as files in a
folder, and the secrets its image is pulled with.

Belongs here: `use_secret_as_env`, `use_secret_as_volume`, `use_config_map_as_env`,
`use_config_map_as_volume`, `set_image_pull_secrets`, with kfp-kubernetes' names and
parameters. Where the values come from when the task runs is the engine's
(`dagyard secrets set`, `dagyard configmaps set`; docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.kubernetes import _config


def use_secret_as_env(
    task: PipelineTask,
    secret_name: str | PipelineChannel,
    secret_key_to_env: Mapping[str, str],
    optional: bool = False,
) -> PipelineTask:
    """Set environment variables of `task` from keys of the secret `secret_name`:
    `{'password': 'PASSWORD'}` sets PASSWORD to the secret's `password`. A secret that
    does not exist fails the task unless `optional`."""
    keys = _key_to_env(secret_key_to_env, "secretKey")
    return _use(task, "secretAsEnv", "secretName", secret_name, optional, keyToEnv=keys)


def use_secret_as_volume(
    task: PipelineTask,
    secret_name: str | PipelineChannel,
    mount_path: str,
    optional: bool = False,
) -> PipelineTask:
    """Give `task` the secret `secret_name` as a folder at `mount_path`: one file per key,
    holding its value. A secret that does not exist fails the task unless `optional`."""
    return _use(task, "secretAsVolume", "secretName", secret_name, optional, mountPath=mount_path)


def use_config_map_as_env(
    task: PipelineTask,
    config_map_name: str | PipelineChannel,
    config_map_key_to_env: Mapping[str, str],
    optional: bool = False,
) -> PipelineTask:
    """Set environment variables of `task` from keys of the config map
    `config_map_name`, as `use_secret_as_env` does from a secret."""
    keys = _key_to_env(config_map_key_to_env, "configMapKey")
    return _use(task, "configMapAsEnv", "configMapName", config_map_name, optional, keyToEnv=keys)


def use_config_map_as_volume(
    task: PipelineTask,
    config_map_name: str | PipelineChannel,
    mount_path: str,
    optional: bool = False,
) -> PipelineTask:
    """Give `task` the config map `config_map_name` as a folder at `mount_path`, one file
    per key, as `use_secret_as_volume` does for a secret."""
    return _use(
        task, "configMapAsVolume", "configMapName", config_map_name, optional, mountPath=mount_path
    )


def set_image_pull_secrets(
    task: PipelineTask, secret_names: Sequence[str | PipelineChannel]
) -> PipelineTask:
    """Name the secrets `task`'s image is pulled with (recorded; one machine pulls
    images with its own credentials)."""
    settings = _config.config(task)
    for name in secret_names:
        entry: dict[str, Any] = {
            "secretNameParameter": _config.parameter(name, what="an image pull secret's name")
        }
        if isinstance(name, str):
            entry["secretName"] = name
        settings.setdefault("imagePullSecret", []).append(entry)
    return task


def _use(
    task: PipelineTask,
    section: str,
    legacy: str,
    name: object,
    optional: bool,
    **fields: Any,
) -> PipelineTask:
    """Add to `section` the entry for the secret or config map called `name`, with
    `fields`; a constant name is also written in the older field `legacy`, as
    kfp-kubernetes writes it."""
    entry: dict[str, Any] = {
        "optional": _config.optional_bool(optional, what="optional"),
        f"{legacy}Parameter": _config.parameter(name, what=f"the {legacy} argument"),
        **fields,
    }
    if isinstance(name, str):
        entry[legacy] = name
    _config.config(task).setdefault(section, []).append(entry)
    return task


def _key_to_env(mapping: Mapping[str, str], key_field: str) -> list[dict[str, str]]:
    return [{key_field: key, "envVar": env} for key, env in mapping.items()]
