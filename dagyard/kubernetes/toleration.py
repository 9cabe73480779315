"""kfp-kubernetes' module path `kfp.kubernetes.toleration`, so that code importing from it
reads the same with `dagyard.kubernetes.toleration`. Nothing is defined here."""

from dagyard.kubernetes import (
    add_toleration,
    add_toleration_json,
)

__all__ = [
    "add_toleration",
    "add_toleration_json",
]
