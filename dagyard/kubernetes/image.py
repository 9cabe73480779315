"""kfp-kubernetes' module path `kfp.kubernetes.image`, so that code importing from it
reads the same with `dagyard.kubernetes.image`. Nothing is defined here."""

from dagyard.kubernetes import (
    set_image_pull_policy,
    set_image_pull_secrets,
)

__all__ = [
    "set_image_pull_policy",
    "set_image_pull_secrets",
]
