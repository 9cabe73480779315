"""The workspace a pipeline asks for: `dsl.PipelineConfig(workspace=WorkspaceConfig(size=...))`,
which kfp and Dagyard write to the PlatformSpec at
`platforms.kubernetes.pipelineConfig.workspace` (kfp's
pipeline_spec_builder._merge_pipeline_config).

Belongs here: `read_workspace_size`, the size as written. Not here: what a size means
in bytes or how it is held to (the engine's `workspace.py`). The PlatformSpec was
checked for shape only, so a section of the wrong type reads as not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def read_workspace_size(platform_spec: Mapping[str, Any] | None) -> str | None:
    """The workspace size of a PlatformSpec ("10Gi"), or None when it sets none."""
    config: Any = platform_spec or {}
    for key in ("platforms", "kubernetes", "pipelineConfig", "workspace"):
        config = config.get(key) if isinstance(config, Mapping) else None
    size = config.get("size") if isinstance(config, Mapping) else None
    return size.strip() if isinstance(size, str) and size.strip() else None
