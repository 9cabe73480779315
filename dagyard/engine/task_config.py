"""A task's `dsl.TaskConfig`: which of its settings go to its TASK_CONFIG inputs and
which it applies to itself, decided as KFP's driver decides them.

KFP's driver (backend/src/v2/driver/driver.go, getTaskConfigOptions and initPodSpecPatch;
container.go fills the inputs): a component that declares no passthrough applies every
setting to its own pod and its TaskConfig inputs get an empty TaskConfig; one that
declares some applies a passed-through field to itself only when `applyToTask` is set,
and still applies the fields it does not pass through. The TaskConfig is Go's JSON of
its struct: every key present, null where unset, `resources` an object (empty when
unset) of `limits` and `requests`, quantities as Go writes them; `env` a list of
`{name, value}`.

Belongs here: that decision over typed data (no I/O). As built, the fields filled are
RESOURCES (the container's resources), ENV (the container's own variables),
KUBERNETES_NODE_SELECTOR (the labels the executor is asked for), ENV's variables from
secrets, config maps and pod fields (as references, never values), KUBERNETES_VOLUMES
(claims, secrets and config maps as volumes, by name), and
KUBERNETES_TOLERATIONS and KUBERNETES_AFFINITY (kfp-kubernetes' constant tolerations
and node affinity terms, as k8s.go turns them into a pod's; those given as JSON by a
pipeline value are left out), and the workspace's claim when the task is given the
workspace's path (as KFP's driver's needsWorkspaceMount finds it). Not here: the
Kubernetes settings themselves (`platform_settings.py`), launching the attempt.
"""

from __future__ import annotations

import dataclasses
import decimal
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dagyard.ir.pipeline import Container, ContainerComponent, ParameterType, Resources

RESOURCES = "RESOURCES"
ENV = "ENV"
NODE_SELECTOR = "KUBERNETES_NODE_SELECTOR"
TOLERATIONS = "KUBERNETES_TOLERATIONS"
AFFINITY = "KUBERNETES_AFFINITY"
VOLUMES = "KUBERNETES_VOLUMES"
# The workspace's volume and where a KFP task finds it (kfp's WORKSPACE_MOUNT_PATH).
WORKSPACE_VOLUME = "kfp-workspace"
WORKSPACE_MOUNT_PATH = "/kfp-workspace"

# The recorded Kubernetes settings (IR names) each field covers.
_RECORDED = {TOLERATIONS: ("tolerations",), AFFINITY: ("nodeAffinity", "podAffinity")}


def applies(component: ContainerComponent, field: str) -> bool:
    """Whether a task of `component` applies `field`'s settings to itself."""
    return component.task_config_passthroughs.get(field, True)


def withheld(passthroughs: Mapping[str, bool]) -> frozenset[str]:
    """The recorded Kubernetes settings (IR names) a component hands on in its
    TaskConfig without applying them to its task."""
    return frozenset(
        key
        for field, keys in _RECORDED.items()
        if passthroughs.get(field, True) is False
        for key in keys
    )


@dataclasses.dataclass(frozen=True)
class TaskConfigDecision:
    """`inputs`: the value of each TASK_CONFIG input of the task; `applies(field)`:
    whether the task itself gets that field's settings."""

    inputs: dict[str, dict[str, Any]]
    passthroughs: Mapping[str, bool]

    def applies(self, field: str) -> bool:
        return self.passthroughs.get(field, True)


def decide(
    component: ContainerComponent,
    container: Container,
    node_selector: Mapping[str, str],
    recorded: Mapping[str, Any] | None = None,
    env_sources: Sequence[Mapping[str, Any]] = (),
    volume_sources: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]] = (),
    workspace_claim: str = "",
) -> TaskConfigDecision:
    """The TaskConfig of an attempt of `component`, whose resolved executor is
    `container`, whose Kubernetes settings ask for `node_selector`, record `recorded`
    (KubernetesSettings.recorded, by IR name) and set the variables `env_sources`
    (Kubernetes references to secrets, config maps and pod fields) and mount
    `volume_sources` (Kubernetes volumes and their mounts); `workspace_claim` names the
    run's workspace claim when the attempt is given the workspace's path ('' if not)."""
    passthroughs = component.task_config_passthroughs
    names = [
        name
        for name, definition in component.inputs.parameters.items()
        if definition.type == ParameterType.TASK_CONFIG
    ]
    if not names:
        return TaskConfigDecision({}, passthroughs)
    config: dict[str, Any] = {
        "affinity": None,
        "tolerations": None,
        "nodeSelector": None,
        "env": None,
        "volumes": None,
        "volumeMounts": None,
        "resources": {},
    }
    if RESOURCES in passthroughs:
        config["resources"] = resource_requirements(container.resources)
    if ENV in passthroughs:
        config["env"] = [{"name": e.name, "value": e.value} for e in container.env]
        config["env"] += [dict(source) for source in env_sources]
    if NODE_SELECTOR in passthroughs and node_selector:
        config["nodeSelector"] = dict(node_selector)
    # The workspace's volume comes before the kfp-kubernetes ones, as KFP's driver adds
    # it to the pod (initPodSpecPatch) before their settings (extendPodSpecPatch).
    sources = [*_workspace_source(workspace_claim), *volume_sources]
    if VOLUMES in passthroughs and sources:
        config["volumes"] = [dict(volume) for volume, _ in sources]
        config["volumeMounts"] = [dict(mount) for _, mount in sources]
    recorded = recorded or {}
    if TOLERATIONS in passthroughs:
        config["tolerations"] = _tolerations(recorded.get("tolerations"))
    if AFFINITY in passthroughs:
        affinity = _node_affinity(recorded.get("nodeAffinity"))
        config["affinity"] = {"nodeAffinity": affinity} if affinity else None
    return TaskConfigDecision({name: config for name in names}, passthroughs)


def _workspace_source(claim: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The workspace's volume and mount as KFP's driver writes them (getWorkspaceMount)."""
    if not claim:
        return []
    volume = {"name": WORKSPACE_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
    return [(volume, {"name": WORKSPACE_VOLUME, "mountPath": WORKSPACE_MOUNT_PATH})]


def workspace_claim(run_id: str) -> str:
    """The name of the run's workspace claim: KFP's is its workflow's name followed by
    `-kfp-workspace` (driver/k8s.go, GetWorkspacePVCName); here the run's id is."""
    return f"{run_id}-{WORKSPACE_VOLUME}"


def resource_requirements(resources: Resources | None) -> dict[str, Any]:
    """`resources` as a Kubernetes ResourceRequirements object, as KFP's driver builds it
    (the newer text settings, else the older numbers: CPUs, and GB with a `G`)."""
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if resources is not None:
        pairs = (
            (limits, "memory", resources.resource_memory_limit, resources.memory_limit, "G"),
            (requests, "memory", resources.resource_memory_request, resources.memory_request, "G"),
            (limits, "cpu", resources.resource_cpu_limit, resources.cpu_limit, ""),
            (requests, "cpu", resources.resource_cpu_request, resources.cpu_request, ""),
        )
        for target, key, text, number, unit in pairs:
            if text:
                target[key] = canonical_quantity(text)
            elif number:
                target[key] = canonical_quantity(f"{number!r}{unit}")
        accelerator = resources.accelerator
        if accelerator is not None:
            kind = accelerator.resource_type or accelerator.type
            count = accelerator.resource_count or (
                str(accelerator.count) if accelerator.count > 0 else ""
            )
            if kind and count:
                limits[kind] = canonical_quantity(count)
    result: dict[str, Any] = {}
    if limits:
        result["limits"] = limits
    if requests:
        result["requests"] = requests
    return result


_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))([a-zA-Z]*)")


def canonical_quantity(text: str) -> str:
    """A Kubernetes quantity as Go writes it once parsed (resource.Quantity.String):
    a whole number of bytes of 1024 or more given in binary units in the largest one
    that divides it (`1.5Gi` is `1536Mi`), anything else in the largest decimal unit
    that keeps the number whole (`0.5` is `500m`, `2000` is `2k`), at least nano.
    Text that is no such quantity (an exponent form) is left as it is."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None or (match[2] not in _BINARY and match[2] not in _DECIMAL):
        return text
    number, suffix = decimal.Decimal(match[1]), match[2]
    if suffix in _BINARY:
        value = number * 1024 ** _BINARY[suffix]
        if value == value.to_integral_value() and abs(value) >= 1024:
            whole = int(value)
            for name, power in sorted(_BINARY.items(), key=lambda item: -item[1]):
                if whole % 1024**power == 0:
                    return f"{whole // 1024**power}{name}"
    else:
        value = number.scaleb(_DECIMAL[suffix])
    nanos = (value * 10**9).to_integral_value(rounding=decimal.ROUND_CEILING)
    if nanos == 0:
        return "0"
    for name, exponent in sorted(_DECIMAL.items(), key=lambda item: -item[1]):
        if nanos % 10 ** (exponent + 9) == 0:
            return f"{int(nanos) // 10 ** (exponent + 9)}{name}"
    return text


def _tolerations(entries: Any) -> list[dict[str, Any]] | None:
    """add_toleration's entries as Kubernetes Tolerations (empty fields left out, the
    seconds a number); None when there are none, as Go writes an empty list."""
    found: list[dict[str, Any]] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or "tolerationJson" in entry:
            continue
        toleration = {k: entry[k] for k in ("key", "operator", "value", "effect") if entry.get(k)}
        if entry.get("tolerationSeconds") is not None:
            toleration["tolerationSeconds"] = int(entry["tolerationSeconds"])
        found.append(toleration)
    return found or None


def _node_affinity(terms: Any) -> dict[str, Any] | None:
    """add_node_affinity's terms as a Kubernetes NodeAffinity: a term with a weight is
    preferred, one without required; empty terms are skipped."""
    required: list[dict[str, Any]] = []
    preferred: list[dict[str, Any]] = []
    for term in terms if isinstance(terms, list) else []:
        if not isinstance(term, Mapping) or "nodeAffinityJson" in term:
            continue
        selector = {
            key: [_requirement(r) for r in term[key]]
            for key in ("matchExpressions", "matchFields")
            if isinstance(term.get(key), list) and term[key]
        }
        if not selector:
            continue
        if term.get("weight") is not None:
            preferred.append({"weight": int(term["weight"]), "preference": selector})
        else:
            required.append(selector)
    affinity: dict[str, Any] = {}
    if required:
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred:
        affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return affinity or None


def _requirement(given: Any) -> dict[str, Any]:
    given = given if isinstance(given, Mapping) else {}
    requirement = {"key": given.get("key", ""), "operator": given.get("operator", "")}
    if given.get("values"):
        requirement["values"] = list(given["values"])
    return requirement
