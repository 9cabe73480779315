"""Dagyard: a Kubeflow-Pipelines-compatible ML pipeline platform that runs anywhere.

The public surface is small: the authoring SDK lives in `dagyard.dsl`, the IR writer in
`dagyard.compiler`, component loading in `dagyard.components`. Everything else is
internal.
"""

from dagyard import compiler, components, dsl
from dagyard.errors import DagyardError

__version__ = "0.1.0"

__all__ = ["DagyardError", "__version__", "compiler", "components", "dsl"]
