"""Dagyard: a Kubeflow-Pipelines-compatible ML pipeline platform that runs anywhere.

The public surface is small: the authoring SDK lives in `dagyard.dsl`, the IR writer in
`dagyard.compiler`, component loading in `dagyard.components`, `dagyard.local` runs
components and pipelines at once from Python (kfp.local's interface), and
`dagyard.Client` talks to a Dagyard server. Everything else is internal.

The subpackages load on first use, not here: task processes import `dagyard.runtime`,
which must stay cheap, and would otherwise pay for the SDK and the compiler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dagyard.errors import DagyardError
from dagyard.version import __version__

if TYPE_CHECKING:
    from dagyard import compiler, components, dsl, local
    from dagyard.client import Client

__all__ = ["Client", "DagyardError", "__version__", "compiler", "components", "dsl", "local"]

_LAZY = ("compiler", "components", "dsl", "local")


def __getattr__(name: str) -> Any:
    if name == "Client":
        return importlib.import_module("dagyard.client").Client
    if name in _LAZY:
        return importlib.import_module(f"dagyard.{name}")
    raise AttributeError(f"module 'dagyard' has no attribute {name!r}")
