"""IR documents as text: YAML (what kfp 2.x writes) or JSON in, YAML out.

Belongs here: reading YAML/JSON text and files into validated `PipelineDocument`s, and
writing documents back as YAML. A file holds the PipelineSpec, optionally followed by a
second YAML document, the PlatformSpec (`{platforms: {...}}`), as kfp writes it.
Must not hold validation rules (`structure.py`, `semantics.py`) or anything beyond
text and files.

Reading keeps what YAML means for IR: unquoted dates stay strings (protobuf has no date),
and a key given twice is an error instead of silently keeping the last one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dagyard.errors import IRError
from dagyard.ir.document import PipelineDocument, build
from dagyard.ir.schema import JsonDict

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Wide enough that long commands and conditions stay on one line instead of being folded.
_LINE_WIDTH = 1 << 16


def loads(text: str) -> PipelineDocument:
    """Validate and wrap a PipelineSpec given as YAML or JSON text."""
    spec, platform_spec = _parse(text)
    return build(spec, platform_spec)


def load(path: str | os.PathLike[str]) -> PipelineDocument:
    """Validate and wrap the PipelineSpec in the YAML or JSON file at `path`.

    OSError (missing file, no permission) propagates unchanged: it is not an IR problem.
    """
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise IRError(f"'{path}' is not UTF-8 text ({e.reason} at byte {e.start})") from e
    return loads(text)


def dumps(
    document: PipelineDocument | Mapping[str, Any],
    *,
    platform_spec: Mapping[str, Any] | None = None,
) -> str:
    """YAML text for a document or PipelineSpec dict, keys in the order given.

    A platform spec (the argument, else the document's own) becomes a second YAML
    document. Integers stay integers; multi-line strings become block scalars. Does not
    validate: pass the result to `loads` for that.
    """
    if isinstance(document, PipelineDocument):
        spec: Mapping[str, Any] = document.raw
        platform_spec = platform_spec if platform_spec is not None else document.platform_spec
    else:
        spec = document
    documents = [spec] if platform_spec is None else [spec, platform_spec]
    text: str = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_LINE_WIDTH,
    )
    return text


def dump(
    document: PipelineDocument | Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    platform_spec: Mapping[str, Any] | None = None,
) -> None:
    """Write `dumps(document, platform_spec=...)` to the file at `path` (UTF-8)."""
    Path(path).write_text(dumps(document, platform_spec=platform_spec), encoding="utf-8")


def _parse(text: str) -> tuple[object, JsonDict | None]:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_json_object), None
        except json.JSONDecodeError as e:
            json_error = e
        # A YAML flow mapping also starts with "{"; only if YAML fails too is it bad JSON.
        try:
            documents = _yaml_documents(text)
        except IRError:
            raise IRError(
                f"invalid JSON at line {json_error.lineno}, column {json_error.colno}: "
                f"{json_error.msg}"
            ) from json_error
    else:
        documents = _yaml_documents(text)
    if not documents:
        raise IRError("the text holds no document; expected a PipelineSpec")
    if len(documents) > 2:
        raise IRError(
            f"the text holds {len(documents)} YAML documents; expected a PipelineSpec, "
            "optionally followed by a PlatformSpec"
        )
    platform_spec = documents[1] if len(documents) == 2 else None
    if platform_spec is not None and not (
        isinstance(platform_spec, dict) and "platforms" in platform_spec
    ):
        raise IRError(
            "the second YAML document must be a PlatformSpec (a mapping with 'platforms')"
        )
    return documents[0], platform_spec


def _yaml_documents(text: str) -> list[Any]:
    try:
        # An empty document (a trailing "---") is nothing, not a second spec.
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise IRError(f"invalid YAML{where}: {e.problem or e}") from e
    except yaml.YAMLError as e:
        raise IRError(f"invalid YAML: {e}") from e


def _json_object(pairs: list[tuple[str, Any]]) -> JsonDict:
    result: JsonDict = {}
    for key, value in pairs:
        if key in result:
            raise IRError(f"invalid JSON: key '{key}' is given twice; keep one")
        result[key] = value
    return result


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe YAML loading, minus timestamps, refusing duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | None):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' is given twice; keep one", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe YAML dumping with block scalars for multi-line strings and no anchors."""

    def ignore_aliases(self, data: object) -> bool:
        # A dict shared by two places must be written twice, not as &id001 / *id001.
        return True


def _represent_str(dumper: Any, data: str) -> yaml.ScalarNode:
    # The emitter falls back to a quoted style when a block scalar cannot hold the text.
    style = "|" if "\n" in data else None
    node: yaml.ScalarNode = dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)
    return node


_Dumper.add_representer(str, _represent_str)
