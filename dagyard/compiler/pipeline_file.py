"""Finding pipelines in a user's Python file, for `dagyard compile` and `dagyard run`.

Loading the file runs the user's code: this is the one boundary where an exception of
theirs becomes a `UserCodeError`, with a traceback that shows only their frames.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

from dagyard.dsl.component import BaseComponent, GraphComponent
from dagyard.errors import DagyardError, UsageError, UserCodeError

# Frames of these files are ours, not the user's: a traceback shown to them leaves them out.
_OUR_FOLDER = str(Path(__file__).resolve().parents[1])


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
    except Exception as e:
        raise UserCodeError(
            f"'{path}' raised {type(e).__name__} while it was loaded; the traceback above "
            "shows where. Fix the file and run the command again.",
            traceback=user_traceback(e),
        ) from e
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


def user_traceback(error: BaseException) -> str:
    """`error`'s traceback (with its causes) without the frames of Dagyard and of Python's
    import machinery: what is left is the user's code and the libraries it called."""
    shown = traceback.TracebackException.from_exception(error)
    seen: set[int] = set()
    pending = [shown]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = traceback.StackSummary.from_list(
            [frame for frame in current.stack if _is_users(frame.filename)]
        )
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return "".join(shown.format())


def _is_users(filename: str) -> bool:
    if filename.startswith("<frozen importlib"):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return True
    return not resolved.startswith(_OUR_FOLDER + "/")


def _pipelines(module: object) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, GraphComponent) and not name.startswith("_")
    )
