"""Reading a parsed YAML component document with the location of every value.

`Located` wraps one value of a `yaml.safe_load` result together with its path inside the
document (`inputs[2].type`, `deploymentSpec.executors.exec-train.container.image`), so
every complaint the loaders raise names the place to fix. Parsing the text and checking
shapes (mapping, list, string, boolean, allowed keys) belong here; what a v1
`component.yaml` or an IR document means belongs in `v1.py` and `ir.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from dagyard.errors import ComponentLoadError

_MISSING = object()


def parse_documents(text: str, source: str) -> list[Any]:
    """The YAML documents in `text`; a syntax error becomes a ComponentLoadError."""
    if not isinstance(text, str):
        raise ComponentLoadError(
            f"Cannot load component from {source}: expected YAML text (str), got "
            f"{type(text).__name__}. Decode bytes first, e.g. `data.decode('utf-8')`."
        )
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as e:
        raise ComponentLoadError(
            f"Cannot load component from {source}: the text is not valid YAML ({e})."
        ) from e


class Located:
    """One value of a loaded document and the path that leads to it."""

    def __init__(self, value: Any, *, path: str = "", source: str) -> None:
        self.value = value
        self.path = path
        self.source = source

    # -- errors ------------------------------------------------------------------------
    def error(self, message: str) -> ComponentLoadError:
        where = f" at {self.path}" if self.path else ""
        return ComponentLoadError(f"Cannot load component from {self.source}{where}: {message}")

    def _child(self, value: Any, step: str) -> Located:
        if step.startswith("["):
            path = self.path + step
        else:
            path = f"{self.path}.{step}" if self.path else step
        return Located(value, path=path, source=self.source)

    # -- mappings ----------------------------------------------------------------------
    def mapping(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_describe(self.value)}.")
        for key in self.value:
            if not isinstance(key, str):
                raise self.error(f"mapping key {key!r} is not a string; quote it.")
        return self.value

    def __contains__(self, key: str) -> bool:
        return key in self.mapping()

    def get(self, key: str) -> Located | None:
        """The child `key`, or None when it is absent or null."""
        value = self.mapping().get(key)
        return None if value is None else self._child(value, key)

    def require(self, key: str, hint: str = "") -> Located:
        value = self.mapping().get(key, _MISSING)
        if value is _MISSING or value is None:
            raise self.error(f"'{key}' is missing.{' ' + hint if hint else ''}")
        return self._child(value, key)

    def items(self) -> Iterator[tuple[str, Located]]:
        for key, value in self.mapping().items():
            yield key, self._child(value, key)

    def check_keys(self, allowed: Iterable[str], what: str) -> None:
        """Reject keys outside `allowed`, which are most often typos."""
        known = set(allowed)
        unknown = sorted(set(self.mapping()) - known)
        if unknown:
            raise self.error(
                f"{what} has unknown key(s) {', '.join(repr(k) for k in unknown)}; "
                f"allowed: {', '.join(sorted(known))}."
            )

    # -- lists and scalars -------------------------------------------------------------
    def elements(self) -> Iterator[Located]:
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {_describe(self.value)}.")
        for index, value in enumerate(self.value):
            yield self._child(value, f"[{index}]")

    def string(self) -> str:
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, got {_describe(self.value)}; quote it.")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {_describe(self.value)}.")
        return self.value

    def optional_string(self, key: str) -> str | None:
        child = self.get(key)
        return None if child is None else child.string()

    def optional_boolean(self, key: str) -> bool:
        child = self.get(key)
        return False if child is None else child.boolean()


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
