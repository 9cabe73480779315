"""kfp-kubernetes' module path `kfp.kubernetes.secret`, so that code importing from it
reads the same with `dagyard.kubernetes.secret`. Nothing is defined here."""

from dagyard.kubernetes import (
    use_secret_as_env,
    use_secret_as_volume,
)

__all__ = [
    "use_secret_as_env",
    "use_secret_as_volume",
]
