"""kfp-kubernetes' module path `kfp.kubernetes.pod_metadata`, so that code importing from it
reads the same with `dagyard.kubernetes.pod_metadata`. Nothing is defined here."""

from dagyard.kubernetes import (
    add_pod_annotation,
    add_pod_label,
)

__all__ = [
    "add_pod_annotation",
    "add_pod_label",
]
