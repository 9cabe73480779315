"""kfp-kubernetes' module path `kfp.kubernetes.security_context`, so that code importing from it
reads the same with `dagyard.kubernetes.security_context`. Nothing is defined here."""

from dagyard.kubernetes import (
    set_security_context,
)

__all__ = [
    "set_security_context",
]
