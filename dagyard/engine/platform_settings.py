"""What the engine does with a task's Kubernetes settings (kfp-kubernetes') on a
machine that is not a Kubernetes cluster.

Belongs here: `kubernetes_launch`, a decision with no I/O: from a task's
`KubernetesSettings` (typed in `dagyard.ir.kubernetes`), what its attempt gets (extra
environment variables, a time limit) and what its log is told (the settings only
recorded), or a TaskFailure before it runs when a setting would change its results and
cannot be honoured here. Not here: running the attempt or enforcing its time limit (the
driver's), reading the run's records.

As built (docs/kubernetes.md): `set_timeout` (`activeDeadlineSeconds`) is enforced, as
KFP's pod deadline is; `use_field_path_as_env` gives `metadata.name` (the task's id) and
`spec.nodeName` (this host's name); pod labels, annotations, node selectors, affinity,
tolerations, image pulling and security context are recorded and named in the task's
log. What is not honoured yet fails the task before it runs, saying why: secrets and
config maps (no secret store yet), and every mount (volume claims, secret or config map
volumes, empty dirs): a task that expects a folder at a path must never find the host's
own folder there instead.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from typing import Any

from dagyard.conventions import CREATE_PVC_IMAGE, DELETE_PVC_IMAGE
from dagyard.engine.failures import TaskFailure
from dagyard.ir.kubernetes import KubernetesSettings
from dagyard.ir.sources import ParameterSource


@dataclasses.dataclass(frozen=True)
class KubernetesLaunch:
    """What an attempt gets from its task's Kubernetes settings: `env` on top of its
    own, at most `timeout_seconds` to run (None: no limit), and `notes`, lines for its
    log about the settings only recorded."""

    env: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout_seconds: int | None = None
    notes: tuple[str, ...] = ()


def kubernetes_launch(
    settings: KubernetesSettings | None,
    *,
    task_id: str,
    value: Callable[[ParameterSource], Any],
) -> KubernetesLaunch:
    """The attempt's share of `settings` (None: the task has none). `value` gives the
    value of a name that comes from the pipeline. TaskFailure, before the task runs,
    for a setting that would change its results and cannot be honoured here."""
    if settings is None:
        return KubernetesLaunch()
    if settings.env:
        _refuse_values(settings, value)
    mounts = settings.mount_paths
    if mounts:
        raise TaskFailure(
            f"The task expects volumes mounted at {', '.join(map(repr, mounts))} "
            "(kfp-kubernetes: mount_pvc, use_secret_as_volume, use_config_map_as_volume, "
            "empty_dir_mount or add_ephemeral_volume), which Dagyard cannot provide on "
            "this host yet; it is not run, so that it never reads or writes the host's own "
            "folders at those paths. Run it on Kubeflow Pipelines, or give the task its "
            "files through artifacts instead."
        )
    env = {}
    for entry in settings.field_paths:
        field_value = _field(entry.field_path, task_id)
        if field_value is None:
            raise TaskFailure(
                f"use_field_path_as_env: the pod field {entry.field_path!r} (for "
                f"{entry.env}) has no value on this host; Dagyard gives metadata.name "
                "and spec.nodeName. Remove the setting or use one of those."
            )
        env[entry.env] = field_value
    notes: tuple[str, ...] = ()
    if settings.recorded:
        names = ", ".join(sorted(settings.recorded))
        notes = (f"dagyard: Kubernetes settings recorded but not enforced on this host: {names}\n",)
    return KubernetesLaunch(env=env, timeout_seconds=settings.timeout_seconds, notes=notes)


def refuse_claim_task(image: str) -> None:
    """TaskFailure for kfp-kubernetes' CreatePVC and DeletePVC tasks (marker images, no
    command: KFP's driver does their work), which this host cannot do yet."""
    if image in (CREATE_PVC_IMAGE, DELETE_PVC_IMAGE):
        what = "CreatePVC" if image == CREATE_PVC_IMAGE else "DeletePVC"
        raise TaskFailure(
            f"{what} (kfp-kubernetes) makes or deletes a volume claim, which Dagyard cannot "
            "do on this host yet; the task is not run. Run the pipeline on Kubeflow "
            "Pipelines, or pass files between tasks as artifacts."
        )


def timed_out(seconds: int) -> str:
    """The error of an attempt stopped by its time limit."""
    return (
        f"Timed out: the task ran longer than its limit of {seconds} s (set_timeout) and "
        "was stopped; raise the limit with kubernetes.set_timeout if it needs longer."
    )


def _refuse_values(settings: KubernetesSettings, value: Callable[[ParameterSource], Any]) -> None:
    required = [e for e in settings.env if not e.optional]
    if not required:
        return  # an optional secret that is not there sets nothing, as on Kubernetes
    entry = required[0]
    raise TaskFailure(
        f"The task takes environment variables from the {entry.kind} "
        f"{value(entry.name)!r} (kfp-kubernetes' use_{entry.kind.replace(' ', '_')}_as_env), "
        f"and Dagyard has no {entry.kind} store yet; it is not run. Pass the values as "
        "pipeline parameters, or mark the setting optional=True to run without them."
    )


def _field(path: str, task_id: str) -> str | None:
    if path == "metadata.name":
        return task_id
    if path == "spec.nodeName":
        return socket.gethostname()
    return None
