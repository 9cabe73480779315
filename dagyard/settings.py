"""Settings, read in this one place: `DAGYARD_*` environment variables (command-line
flags override them in `dagyard.cli`). Everything else receives a `Settings`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Settings:
    home: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = env.get("DAGYARD_HOME") or str(Path.home() / ".dagyard")
        return cls(home=Path(home).expanduser())
