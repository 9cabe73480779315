"""kfp-kubernetes' module path `kfp.kubernetes.timeout`, so that code importing from it
reads the same with `dagyard.kubernetes.timeout`. Nothing is defined here."""

from dagyard.kubernetes import (
    set_timeout,
)

__all__ = [
    "set_timeout",
]
