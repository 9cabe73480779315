"""kfp-kubernetes' module path `kfp.kubernetes.node_selector`, so that code importing from it
reads the same with `dagyard.kubernetes.node_selector`. Nothing is defined here."""

from dagyard.kubernetes import (
    add_node_selector,
    add_node_selector_json,
)

__all__ = [
    "add_node_selector",
    "add_node_selector_json",
]
