"""A task's Kubernetes settings (kfp-kubernetes' KubernetesExecutorConfig, in the
PlatformSpec at `platforms.kubernetes.deploymentSpec.executors.<executor label>`), as
frozen, typed views, and their reading.

Belongs here: the views (`KubernetesSettings` and its parts) and `read_kubernetes`, which
reads a PlatformSpec once into them, by executor label. Where a name (of a secret, a
config map, a volume claim) may come from the pipeline, it is a `ParameterSource`, as a
task input's is; the engine resolves it. Settings one machine cannot honour and only
records (pod metadata, affinity, tolerations, image pulling, security context) are kept as
written, by their IR name, in `recorded`, so that the engine can name them in a warning.
A node selector is read apart (`node_selector`), since an executor may place by it.

Must not decide what is honoured, resolve a name or touch a volume: that is the
engine's. The PlatformSpec was checked for shape only (a Struct per executor), so a
section of the wrong type reads as not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from dagyard.ir import sources

_PLATFORM = "kubernetes"
# Settings one machine records and shows but cannot enforce, by their IR names.
_RECORDED = (
    "podMetadata",
    "nodeAffinity",
    "podAffinity",
    "tolerations",
    "imagePullSecret",
    "imagePullPolicy",
    "securityContext",
    "enabledSharedMemory",
)


class ValuesKind(StrEnum):
    """Where a task's values come from: a secret or a config map."""

    SECRET = "secret"
    CONFIG_MAP = "config map"


@dataclass(frozen=True, slots=True)
class ValuesAsEnv:
    """`secretAsEnv` / `configMapAsEnv`: environment variables from keys of one secret
    or config map. `keys`: (key, variable) pairs in the order written. `optional`: a
    missing secret or config map is no error (its variables are not set)."""

    kind: ValuesKind
    name: sources.ParameterSource
    keys: tuple[tuple[str, str], ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ValuesAsVolume:
    """`secretAsVolume` / `configMapAsVolume`: a folder at `mount_path` with one file per
    key of the secret or config map."""

    kind: ValuesKind
    name: sources.ParameterSource
    mount_path: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ClaimMount:
    """`pvcMount`: the volume claim `name` (its folder `sub_path`, "" for all of it) at
    `mount_path`."""

    name: sources.ParameterSource
    mount_path: str
    sub_path: str = ""


@dataclass(frozen=True, slots=True)
class ScratchMount:
    """`emptyDirMounts` and `genericEphemeralVolume`: an empty folder at `mount_path`
    that lives as long as the attempt. `medium`, `size`: as written ("" if not)."""

    volume_name: str
    mount_path: str
    medium: str = ""
    size: str = ""


@dataclass(frozen=True, slots=True)
class FieldPathEnv:
    """`fieldPathAsEnv`: the variable `env` set to the pod's field `field_path`."""

    env: str
    field_path: str


@dataclass(frozen=True, slots=True)
class KubernetesSettings:
    """One executor's Kubernetes settings. `timeout_seconds`: `activeDeadlineSeconds`,
    None when not set (or 0). `recorded`: the settings only recorded, by IR name, as
    written."""

    env: tuple[ValuesAsEnv, ...] = ()
    volumes: tuple[ValuesAsVolume, ...] = ()
    claims: tuple[ClaimMount, ...] = ()
    scratch: tuple[ScratchMount, ...] = ()
    field_paths: tuple[FieldPathEnv, ...] = ()
    timeout_seconds: int | None = None
    recorded: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # `nodeSelector`: its `labels` as written, and `nodeSelectorJson` (a JSON object of
    # labels, which may come from the pipeline), None when not set.
    node_selector: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    node_selector_json: sources.ParameterSource | None = None

    @property
    def mount_paths(self) -> tuple[str, ...]:
        """Every path the task expects something mounted at."""
        return (
            *(v.mount_path for v in self.volumes),
            *(c.mount_path for c in self.claims),
            *(s.mount_path for s in self.scratch),
        )


def read_kubernetes(platform_spec: Mapping[str, Any] | None) -> Mapping[str, KubernetesSettings]:
    """The Kubernetes settings of a PlatformSpec, by executor label (empty without one)."""
    platforms = _mapping((platform_spec or {}).get("platforms"))
    deployment = _mapping(_mapping(platforms.get(_PLATFORM)).get("deploymentSpec"))
    executors = _mapping(deployment.get("executors"))
    return MappingProxyType(
        {label: _settings(_mapping(config)) for label, config in executors.items()}
    )


def _settings(config: Mapping[str, Any]) -> KubernetesSettings:
    secret, config_map = ValuesKind.SECRET, ValuesKind.CONFIG_MAP
    env = [
        *(_as_env(e, secret, "secretName", "secretKey") for e in _list(config, "secretAsEnv")),
        *(
            _as_env(e, config_map, "configMapName", "configMapKey")
            for e in _list(config, "configMapAsEnv")
        ),
    ]
    volumes = [
        *(_as_volume(e, secret, "secretName") for e in _list(config, "secretAsVolume")),
        *(_as_volume(e, config_map, "configMapName") for e in _list(config, "configMapAsVolume")),
    ]
    claims = [
        ClaimMount(
            name=_name(e, "pvcName"),
            mount_path=str(e.get("mountPath", "")),
            sub_path=str(e.get("subPath", "")),
        )
        for e in _list(config, "pvcMount")
    ]
    scratch = [
        ScratchMount(
            volume_name=str(e.get("volumeName", "")),
            mount_path=str(e.get("mountPath", "")),
            medium=str(e.get("medium", "")),
            size=str(e.get("sizeLimit", "")),
        )
        for e in _list(config, "emptyDirMounts")
    ] + [
        ScratchMount(
            volume_name=str(e.get("volumeName", "")),
            mount_path=str(e.get("mountPath", "")),
            size=str(e.get("size", "")),
        )
        for e in _list(config, "genericEphemeralVolume")
    ]
    field_paths = [
        FieldPathEnv(env=str(e.get("name", "")), field_path=str(e.get("fieldPath", "")))
        for e in _list(config, "fieldPathAsEnv")
    ]
    try:  # int64 in protobuf's JSON: a string; a Struct may also hold a number
        timeout = int(config.get("activeDeadlineSeconds") or 0) or None
    except (TypeError, ValueError):
        timeout = None
    recorded = {key: config[key] for key in _RECORDED if config.get(key)}
    selector = _mapping(config.get("nodeSelector"))
    labels = {str(k): str(v) for k, v in _mapping(selector.get("labels")).items()}
    selector_json = None
    if _mapping(selector.get("nodeSelectorJson")):  # an InputParameterSpec
        selector_json = _name(_mapping(selector["nodeSelectorJson"]), "constant")
    return KubernetesSettings(
        env=tuple(env),
        volumes=tuple(volumes),
        claims=tuple(claims),
        scratch=tuple(scratch),
        field_paths=tuple(field_paths),
        timeout_seconds=timeout,
        recorded=MappingProxyType(recorded),
        node_selector=MappingProxyType(labels),
        node_selector_json=selector_json,
    )


def _as_env(entry: Mapping[str, Any], kind: ValuesKind, name: str, key: str) -> ValuesAsEnv:
    pairs = tuple(
        (str(m.get(key, "")), str(m.get("envVar", "")))
        for m in (_mapping(p) for p in entry.get("keyToEnv") or ())
    )
    return ValuesAsEnv(kind, _name(entry, name), pairs, bool(entry.get("optional", False)))


def _as_volume(entry: Mapping[str, Any], kind: ValuesKind, name: str) -> ValuesAsVolume:
    return ValuesAsVolume(
        kind, _name(entry, name), str(entry.get("mountPath", "")), bool(entry.get("optional"))
    )


def _name(entry: Mapping[str, Any], field_name: str) -> sources.ParameterSource:
    """Where a name comes from: `<field>Parameter` (an InputParameterSpec), else the
    older forms (`<field>` or `constant` as a constant, `componentInputParameter`,
    `taskOutputParameter`) kfp-kubernetes still writes."""
    spec = _mapping(entry.get(f"{field_name}Parameter")) or entry
    if "componentInputParameter" in spec:
        return sources.ComponentInputParameter(str(spec["componentInputParameter"]))
    if "taskOutputParameter" in spec:
        output = _mapping(spec["taskOutputParameter"])
        return sources.TaskOutputParameter(
            str(output.get("producerTask", "")), str(output.get("outputParameterKey", ""))
        )
    runtime = _mapping(spec.get("runtimeValue"))
    if "constant" in runtime:
        return sources.Constant(runtime["constant"])
    return sources.Constant(spec.get(field_name, spec.get("constant", "")))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(config: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = config.get(key)
    return [_mapping(v) for v in value] if isinstance(value, list) else []
