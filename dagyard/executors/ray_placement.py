"""Where on a Ray cluster an attempt may run, from what its task asks of a node beyond
resources: a node selector (kfp-kubernetes' add_node_selector) and volumes (mounts whose
folders are on the engine's host). A pure function of its arguments, called by the
driver process (`ray_driver.py`); no `ray` import here.

The mapping, as built (docs/kubernetes.md):

- A node selector `key: value` is a Ray node label `key=value` (`ray start --labels
  key=value`; Ray's `label_selector` task option): Ray's labels are Kubernetes' own
  (KubeRay copies a pod's labels to its Ray node), so a selector means what it means on
  Kubernetes. When no alive node has all the labels, the selector is recorded with a
  warning and the task runs on any node, as it would on one machine; placing it nowhere
  would leave it queued for ever.
- A task with volumes (secrets and config maps as files, volume claims, empty dirs) runs
  on the node of the engine's own host, its *home node* (the node the driver process is
  attached to), where the volumes' folders are: the same folders the local executor
  would give it. If that node cannot run it (its resources, or a node selector it does
  not match), or the engine's host has no node, it fails before it runs, saying why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from dagyard.executors.ray_resources import unfit_reason


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where an attempt goes: `label_selector` (Ray's task option, None: any node),
    `node_id` (the one node it must run on, None: any), `warnings` for what is not
    honoured, or `refused`, why it cannot run at all."""

    label_selector: dict[str, str] | None = None
    node_id: str | None = None
    warnings: tuple[str, ...] = ()
    refused: str | None = None


@dataclasses.dataclass(frozen=True)
class NodeView:
    """An alive node as placement sees it: its total resources and its labels."""

    resources: Mapping[str, float]
    labels: Mapping[str, str]


def place(
    *,
    node_selector: Mapping[str, str],
    mount_paths: tuple[str, ...],
    needed: Mapping[str, float],
    nodes: Mapping[str, NodeView],
    home_node: str | None,
    address: str,
) -> Placement:
    """The placement of an attempt that asks for `node_selector` labels, mounts volumes
    at `mount_paths` and needs `needed` resources, on a cluster of alive `nodes` (by Ray
    node id) whose node on the engine's host is `home_node` (None: none)."""
    labels = _pairs(node_selector)
    if mount_paths:
        return _at_home(labels, node_selector, mount_paths, needed, nodes, home_node)
    if not node_selector:
        return Placement()
    if any(_matches(node, node_selector) for node in nodes.values()):
        return Placement(label_selector=dict(node_selector))
    return Placement(
        warnings=(
            f"The node selector {labels} (add_node_selector) matches no node of the Ray "
            f"cluster at {address} (Ray node labels, given with `ray start --labels "
            f"{labels.replace(', ', ',')}`): recorded, not applied; the task ran on any node.",
        )
    )


def _at_home(
    labels: str,
    node_selector: Mapping[str, str],
    mount_paths: tuple[str, ...],
    needed: Mapping[str, float],
    nodes: Mapping[str, NodeView],
    home_node: str | None,
) -> Placement:
    paths = ", ".join(mount_paths)
    why = (
        f"The task mounts volumes ({paths}) whose folders are on the engine's host, so it "
        "runs on that host's Ray node"
    )
    home = nodes.get(home_node) if home_node is not None else None
    if home is None:
        return Placement(
            refused=f"{why}, and the engine's host has no alive node in the cluster. Start "
            "a Ray node on this host (ray start --address ...), or run the pipeline with "
            "the local executor."
        )
    if node_selector and not _matches(home, node_selector):
        return Placement(
            refused=f"{why} ({home_node}), which lacks the labels of its node selector "
            f"{labels}. Give that node those labels (ray start --labels), or remove the "
            "node selector or the volumes."
        )
    short = unfit_reason(needed, [home.resources]) if needed else None
    if short is not None:
        return Placement(
            refused=f"{why} ({home_node}), which cannot run it: "
            + short.removeprefix("No node of the Ray cluster can run this task: ")
            + " Give that node the resource, or remove the volumes or the resource setting."
        )
    return Placement(node_id=home_node)


def _matches(node: NodeView, selector: Mapping[str, str]) -> bool:
    return all(node.labels.get(key) == value for key, value in selector.items())


def _pairs(selector: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
