"""Finding pipelines in a user's Python file, for `dagyard compile` (and later `run`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from dagyard.dsl.component import BaseComponent, GraphComponent
from dagyard.errors import DagyardError, UsageError


def load_pipeline(path: Path, function: str | None = None) -> BaseComponent:
    """The pipeline (or component) named `function` in the file, or its only pipeline."""
    if not path.is_file():
        raise UsageError(f"No such file: '{path}'. Give the path of a .py file with a pipeline.")
    module_name = f"_dagyard_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"'{path}' cannot be imported as Python; it should end in .py.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except DagyardError:
        raise
    finally:
        sys.path.pop(0)
    if function is not None:
        found = getattr(module, function, None)
        if not isinstance(found, BaseComponent):
            raise UsageError(
                f"'{path}' has no pipeline or component named '{function}'. "
                f"Pipelines in it: {', '.join(_pipelines(module)) or 'none'}."
            )
        return found
    names = _pipelines(module)
    if len(names) != 1:
        listing = ", ".join(names) or "none"
        raise UsageError(
            f"'{path}' defines {len(names)} pipelines ({listing}); pick one with --function."
        )
    found = getattr(module, names[0])
    assert isinstance(found, BaseComponent)
    return found


def _pipelines(module: object) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, GraphComponent) and not name.startswith("_")
    )
