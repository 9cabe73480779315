"""kfp-kubernetes' module path `kfp.kubernetes.volume`, so that code importing from it
reads the same with `dagyard.kubernetes.volume`. Nothing is defined here."""

from dagyard.kubernetes import (
    CreatePVC,
    DeletePVC,
    add_ephemeral_volume,
    mount_pvc,
)

__all__ = [
    "CreatePVC",
    "DeletePVC",
    "add_ephemeral_volume",
    "mount_pvc",
]
