"""kfp-kubernetes' module path `kfp.kubernetes.empty_dir`, so that code importing from it
reads the same with `dagyard.kubernetes.empty_dir`. Nothing is defined here."""

from dagyard.kubernetes import (
    empty_dir_mount,
)

__all__ = [
    "empty_dir_mount",
]
