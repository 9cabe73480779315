"""Dagyard's version, in one place: the package metadata (pyproject.toml reads it from
here), `dagyard --version` and the SDK version the compiler writes into the IR. Imports
nothing, so any layer may read it."""

__version__ = "0.1.0"
