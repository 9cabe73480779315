"""kfp-kubernetes' module path `kfp.kubernetes.config_map`, so that code importing from it
reads the same with `dagyard.kubernetes.config_map`. Nothing is defined here."""

from dagyard.kubernetes import (
    use_config_map_as_env,
    use_config_map_as_volume,
)

__all__ = [
    "use_config_map_as_env",
    "use_config_map_as_volume",
]
