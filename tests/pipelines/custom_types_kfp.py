"""A user's own artifact class, in a module of its own, for kfp_sdk_custom_artifacts.py.

custom_types_dy.py is its twin with dagyard's `dsl`. kfp takes only the `system` and
`google` namespaces for a schema title (type_utils.validate_schema_title).
"""

from kfp import dsl


class Checkpoint(dsl.Artifact):
    """Weights saved during training, with the step they were saved at."""

    schema_title = "google.Checkpoint"
    schema_version = "0.0.2"

    @property
    def step(self) -> int:
        return int(self.metadata.get("step", 0))
