"""What the engine does with a task's Kubernetes settings (kfp-kubernetes') on a
machine that is not a Kubernetes cluster.

Belongs here: `kubernetes_launch`, a decision with no I/O of its own (the values of
secrets and config maps come through a callable): from a task's `KubernetesSettings`
(typed in `dagyard.ir.kubernetes`), what its attempt gets (extra environment variables,
mounts, a time limit, the node labels it asks for) and the warnings its task record and
log are given (one sentence per setting only recorded), or a TaskFailure before it runs
when a setting would change its results and cannot be honoured here. Not here: running
the attempt or enforcing its time limit (the driver's), making the mounts' folders
(`volumes.py`), reading the run's records.

As built (docs/kubernetes.md): `set_timeout` (`activeDeadlineSeconds`) is enforced, as
KFP's pod deadline is; `use_field_path_as_env` gives `metadata.name` (the task's id),
`spec.nodeName` (this host's name) and `metadata.labels['KEY']` /
`metadata.annotations['KEY']` (the task's pod labels and annotations, empty when unset);
secrets and config maps (Dagyard's store) become variables or read-only folders of one
file per key; volume claims and empty dirs become folders; a node selector goes to the
executor, which places by it where it can (the Ray executor, on nodes with those Ray
labels) and warns where it cannot; the image pull policy goes to the executor, which
applies it to a task run in its image and warns of it otherwise; pod labels,
annotations, affinity, tolerations, image pull secrets, security context, and an empty
dir's medium and size are recorded, each with a warning. A missing secret, config map or key
fails the task before it runs, unless the setting is optional, as on Kubernetes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any

from dagyard.conventions import CREATE_PVC_IMAGE, DELETE_PVC_IMAGE, PULL_POLICIES
from dagyard.engine.failures import TaskFailure
from dagyard.engine.volumes import MountPlan
from dagyard.ir.kubernetes import KubernetesSettings, ValuesKind
from dagyard.ir.sources import ParameterSource


@dataclasses.dataclass(frozen=True)
class KubernetesLaunch:
    """What an attempt gets from its task's Kubernetes settings: `env` on top of its
    own, `mounts` (folders to show at paths of its own), at most `timeout_seconds` to run
    (None: no limit), `node_selector` (the node labels it asks for, for the executor),
    and `warnings`, a sentence per setting recorded but not honoured."""

    env: dict[str, str] = dataclasses.field(default_factory=dict)
    mounts: tuple[MountPlan, ...] = ()
    timeout_seconds: int | None = None
    node_selector: dict[str, str] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # set_image_pull_policy's Always, IfNotPresent or Never (None: unset), for an
    # executor that runs the task in its image (one that does not warns of it).
    pull_policy: str | None = None
    # The variables from secrets, config maps and pod fields as Kubernetes references
    # (never their values), for a TaskConfig passing them through.
    env_sources: tuple[dict[str, Any], ...] = ()
    # Its claims, secrets and config maps as Kubernetes volumes and their mounts, for a
    # TaskConfig passing them through.
    volume_sources: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = ()


Values = Callable[[ValuesKind, str], "dict[str, str] | None"]


def kubernetes_launch(
    settings: KubernetesSettings | None,
    *,
    task_id: str,
    value: Callable[[ParameterSource], Any],
    values: Values,
    withheld: frozenset[str] = frozenset(),
    apply_env: bool = True,
    apply_volumes: bool = True,
) -> KubernetesLaunch:
    """The attempt's share of `settings` (None: the task has none). `value` gives the
    value of a name that comes from the pipeline; `values` the values of a secret or
    config map (None: there is none by that name). TaskFailure, before the task runs,
    for a setting that would change its results and cannot be honoured here.
    `withheld`: the recorded settings (by IR name) the task hands on in its TaskConfig
    without applying them to itself, which are then no warning; `apply_env` false: the
    variables from secrets, config maps and pod fields are handed on, not set;
    `apply_volumes` false: so are its claims, secrets and config maps as volumes (its
    empty dirs are mounted still, as KFP's driver mounts them)."""
    if settings is None:
        return KubernetesLaunch()
    env = _values_env(settings, value, values) if apply_env else {}
    for entry in settings.field_paths if apply_env else ():
        field_value = _field(entry.field_path, task_id, settings)
        if field_value is None:
            raise TaskFailure(
                f"use_field_path_as_env: the pod field {entry.field_path!r} (for "
                f"{entry.env}) has no value on this host; Dagyard gives metadata.name, "
                "spec.nodeName, metadata.labels['KEY'] and metadata.annotations['KEY']. "
                "Remove the setting or use one of those."
            )
        env[entry.env] = field_value
    return KubernetesLaunch(
        env=env,
        mounts=_mounts(settings, value, values, apply_volumes),
        timeout_seconds=settings.timeout_seconds,
        node_selector=_node_selector(settings, value),
        warnings=recorded_warnings(settings, withheld),
        pull_policy=None if "imagePullPolicy" in withheld else _pull_policy(settings),
        env_sources=_env_sources(settings, value),
        volume_sources=_volume_sources(settings, value),
    )


def recorded_warnings(
    settings: KubernetesSettings, withheld: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """A sentence for each setting of `settings` that is recorded, not honoured, naming
    the kfp-kubernetes function that wrote it and what it asked for (no secret is among
    them: an image pull secret is named, never read)."""
    found: list[str] = []
    recorded = settings.recorded
    metadata = recorded.get("podMetadata")
    if isinstance(metadata, Mapping):
        for key, what, function in (
            ("labels", "Pod labels", "add_pod_label"),
            ("annotations", "Pod annotations", "add_pod_annotation"),
        ):
            pairs = metadata.get(key)
            if isinstance(pairs, Mapping) and pairs:
                found.append(
                    f"{what} {_pairs(pairs)} ({function}) are recorded, not applied: a task "
                    "here runs as a process, not in a pod."
                )
    for key, sentence in _RECORDED_SENTENCES.items():
        if key in recorded and key not in withheld:
            shown = recorded[key]
            if key == "imagePullSecret" and isinstance(shown, list):
                shown = [_mapping(e).get("secretName") or "(a pipeline value)" for e in shown]
            found.append(sentence.format(value=_short(shown)))
    for scratch in settings.scratch:
        if scratch.medium or scratch.size:
            asked = ", ".join(
                part
                for part in (
                    f"medium {scratch.medium}" if scratch.medium else "",
                    f"size {scratch.size}" if scratch.size else "",
                )
                if part
            )
            found.append(
                f"The empty dir at {scratch.mount_path} ({asked}) is a folder on disk, with "
                "no size limit: its medium and size are recorded, not applied."
            )
    return tuple(found)


# The settings recorded as they are, each with the sentence of its warning.
_RECORDED_SENTENCES = {
    "nodeAffinity": (
        "Node affinity (add_node_affinity) {value} is recorded, not applied: the task is "
        "placed without it."
    ),
    "podAffinity": (
        "Pod affinity {value} is recorded, not applied: the task is placed without it."
    ),
    "tolerations": (
        "Tolerations (add_toleration) {value} are recorded, not applied: no node here is "
        "tainted, so the task may run on any node, as a tolerating pod may."
    ),
    "imagePullSecret": (
        "Image pull secrets (set_image_pull_secrets) {value} are recorded, not used: "
        "Dagyard pulls no image with them."
    ),
    "securityContext": (
        "The security context (set_security_context) {value} is recorded, not applied: the "
        "task runs as the user that runs Dagyard."
    ),
    "enabledSharedMemory": (
        "Shared memory (enabledSharedMemory) {value} is recorded, not applied: the task "
        "has the host's /dev/shm."
    ),
}


def _pull_policy(settings: KubernetesSettings) -> str | None:
    """set_image_pull_policy's value; TaskFailure for one Kubernetes would refuse."""
    policy = settings.recorded.get("imagePullPolicy")
    if policy is None:
        return None
    if policy not in PULL_POLICIES:
        raise TaskFailure(
            f"set_image_pull_policy: {policy!r} is not a pull policy; give Always, "
            "IfNotPresent or Never."
        )
    return str(policy)


def _node_selector(
    settings: KubernetesSettings, value: Callable[[ParameterSource], Any]
) -> dict[str, str]:
    """The labels the task's node must have: `add_node_selector_json`'s object when set
    (a null pipeline value: none), else `add_node_selector`'s labels, as KFP's driver
    chooses. TaskFailure when the JSON is not an object of strings."""
    if settings.node_selector_json is None:
        return dict(settings.node_selector)
    given = value(settings.node_selector_json)
    if isinstance(given, str):
        with contextlib.suppress(ValueError):  # not JSON: refused below
            given = json.loads(given)
    if given is None:
        return {}
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise TaskFailure(
            f"add_node_selector_json: the node selector {given!r} is not a JSON object of "
            'label names to text values; give one like {"disktype": "ssd"}.'
        )
    return {str(k): v for k, v in given.items()}


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pairs(pairs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(pairs.items()))


def _short(value: Any, limit: int = 200) -> str:
    """A recorded setting as compact JSON, cut at `limit` characters."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def claim_task(image: str) -> str | None:
    """ "CreatePVC" or "DeletePVC" for kfp-kubernetes' volume claim tasks (marker images,
    no command: KFP's driver does their work, and so does the engine), else None."""
    if image == CREATE_PVC_IMAGE:
        return "CreatePVC"
    if image == DELETE_PVC_IMAGE:
        return "DeletePVC"
    return None


def timed_out(seconds: int) -> str:
    """The error of an attempt stopped by its time limit."""
    return (
        f"Timed out: the task ran longer than its limit of {seconds} s (set_timeout) and "
        "was stopped; raise the limit with kubernetes.set_timeout if it needs longer."
    )


def _env_sources(
    settings: KubernetesSettings, value: Callable[[ParameterSource], Any]
) -> tuple[dict[str, Any], ...]:
    """The variables as KFP's driver writes them into a TaskConfig (extendPodSpecPatch):
    secrets' keys, then config maps', then pod fields, each a `valueFrom` reference; a
    name from a null pipeline value is skipped."""
    found: list[dict[str, Any]] = []
    for kind, selector in (
        (ValuesKind.SECRET, "secretKeyRef"),
        (ValuesKind.CONFIG_MAP, "configMapKeyRef"),
    ):
        for entry in (e for e in settings.env if e.kind == kind):
            name = value(entry.name)
            if name is None:
                continue
            for key, variable in entry.keys:
                reference = {"name": str(name), "key": key, "optional": entry.optional}
                found.append({"name": variable, "valueFrom": {selector: reference}})
    for field_env in settings.field_paths:
        reference = {"fieldRef": {"fieldPath": field_env.field_path}}
        found.append({"name": field_env.env, "valueFrom": reference})
    return tuple(found)


def _volume_sources(
    settings: KubernetesSettings, value: Callable[[ParameterSource], Any]
) -> tuple[tuple[dict[str, Any], dict[str, Any]], ...]:
    """Claims, then secrets, then config maps as KFP's driver writes them into a
    TaskConfig (extendPodSpecPatch), each a volume named as what it holds and its
    mount; a name from a null pipeline value is skipped."""
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for claim in settings.claims:
        name = value(claim.name)
        if name is None:
            continue
        mount = {"name": str(name), "mountPath": claim.mount_path}
        if claim.sub_path:
            mount["subPath"] = claim.sub_path
        volume = {"name": str(name), "persistentVolumeClaim": {"claimName": str(name)}}
        found.append((volume, mount))
    kinds = (
        (ValuesKind.SECRET, "secret", "secretName"),
        (ValuesKind.CONFIG_MAP, "configMap", "name"),
    )
    for kind, source, key in kinds:
        for entry in (v for v in settings.volumes if v.kind == kind):
            name = value(entry.name)
            if name is None:
                continue
            volume = {"name": str(name), source: {key: str(name), "optional": entry.optional}}
            found.append((volume, {"name": str(name), "mountPath": entry.mount_path}))
    return tuple(found)


def _values_env(
    settings: KubernetesSettings, value: Callable[[ParameterSource], Any], values: Values
) -> dict[str, str]:
    """The variables from secrets and config maps. As on Kubernetes, `optional` lets a
    missing secret or key set nothing; a required one fails the task, naming it (never
    a value)."""
    env: dict[str, str] = {}
    for entry in settings.env:
        name = str(value(entry.name))
        found = values(entry.kind, name)
        if found is None:
            if entry.optional:
                continue
            raise TaskFailure(_missing(entry.kind, name, "use_*_as_env"))
        for key, variable in entry.keys:
            if key in found:
                env[variable] = found[key]
            elif not entry.optional:
                raise TaskFailure(
                    f"The {entry.kind} {name!r} has no key {key!r} (for {variable}); its "
                    f"keys: {', '.join(sorted(found)) or 'none'}. Add it with "
                    f"`dagyard {_command(entry.kind)} set {name} ...` (which replaces all "
                    "its values), or mark the setting optional=True."
                )
    return env


def _mounts(
    settings: KubernetesSettings,
    value: Callable[[ParameterSource], Any],
    values: Values,
    apply_volumes: bool = True,
) -> tuple[MountPlan, ...]:
    plans: list[MountPlan] = []
    for volume in settings.volumes if apply_volumes else ():
        name = str(value(volume.name))
        found = values(volume.kind, name)
        if found is None and not volume.optional:
            raise TaskFailure(_missing(volume.kind, name, "use_*_as_volume"))
        # A secret's files are read-only, as Kubernetes mounts them.
        plans.append(MountPlan(_rooted(volume.mount_path), data=found or {}, read_only=True))
    for claim in settings.claims if apply_volumes else ():
        plans.append(
            MountPlan(
                _rooted(claim.mount_path), claim=str(value(claim.name)), sub_path=claim.sub_path
            )
        )
    plans.extend(MountPlan(_rooted(scratch.mount_path)) for scratch in settings.scratch)
    return tuple(plans)


def _rooted(mount_path: str) -> str:
    """A mount path as the kubelet takes it: one that is not absolute is under the root
    (kubelet_pods.go, makeAbsolutePath; the API server accepts it as given)."""
    return mount_path if mount_path.startswith("/") else "/" + mount_path


def _missing(kind: ValuesKind, name: str, setting: str) -> str:
    return (
        f"The task reads the {kind} {name!r} (kfp-kubernetes' "
        f"{setting.replace('*', kind.replace(' ', '_'))}), and there is none by that name "
        f"in the run's namespace; create it with `dagyard {_command(kind)} set {name} "
        "KEY=VALUE`, or mark the setting optional=True to run without it."
    )


def _command(kind: ValuesKind) -> str:
    return "secrets" if kind is ValuesKind.SECRET else "configmaps"


# A downward API path to one pod label or annotation: metadata.labels['KEY'].
_METADATA_KEY = re.compile(r"""metadata\.(labels|annotations)\[(['"])(.+)\2\]""")


def _field(path: str, task_id: str, settings: KubernetesSettings) -> str | None:
    if path == "metadata.name":
        return task_id
    if path == "spec.nodeName":
        return socket.gethostname()
    keyed = _METADATA_KEY.fullmatch(path)
    if keyed is None:
        return None
    # The pod's labels and annotations are those the task's settings give it; one it
    # lacks is an empty value, as the downward API gives for a key the pod has not.
    kind, _, key = keyed.groups()
    pairs = _mapping(settings.recorded.get("podMetadata")).get(kind)
    return str(_mapping(pairs).get(key, ""))
