"""kfp-kubernetes' module path `kfp.kubernetes.field`, so that code importing from it
reads the same with `dagyard.kubernetes.field`. Nothing is defined here."""

from dagyard.kubernetes import (
    use_field_path_as_env,
)

__all__ = [
    "use_field_path_as_env",
]
