"""The artifact classes under the name kfp gives their module, so that
`from kfp.dsl.types.artifact_types import Dataset` reads `from
dagyard.dsl.types.artifact_types import Dataset` once the imports are changed. They are
`dagyard.dsl`'s own (defined in `dagyard.runtime.artifacts`); nothing else belongs here.
"""

from dagyard.runtime.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Markdown,
    Metrics,
    Model,
    SlicedClassificationMetrics,
)

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "Markdown",
    "Metrics",
    "Model",
    "SlicedClassificationMetrics",
]
