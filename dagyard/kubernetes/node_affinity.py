"""kfp-kubernetes' module path `kfp.kubernetes.node_affinity`, so that code importing from it
reads the same with `dagyard.kubernetes.node_affinity`. Nothing is defined here."""

from dagyard.kubernetes import (
    add_node_affinity,
    add_node_affinity_json,
)

__all__ = [
    "add_node_affinity",
    "add_node_affinity_json",
]
