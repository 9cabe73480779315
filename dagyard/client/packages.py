"""Pipeline packages as the client sends them: a compiled YAML file read (with its
PlatformSpec, if any), a pipeline function compiled, and kfp's client-side caching
switch applied to a spec.

Only reading and preparing what is sent belongs here; sending it is `client.py`'s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from dagyard.errors import ApiError


def read_package(package: str | os.PathLike[str]) -> tuple[str, bytes]:
    file = Path(package)
    try:
        return file.name, file.read_bytes()
    except OSError as error:
        raise ApiError(
            f"Cannot read the pipeline package {str(file)!r}: {error.strerror}.", status=0
        ) from error


def compiled_package(pipeline_func: Any) -> tuple[str, bytes]:
    from dagyard.compiler.compiler import compile_to_dict, dumps

    spec = compile_to_dict(pipeline_func)
    return f"{pipeline_name(spec)}.yaml", dumps(spec).encode()


def read_spec(path: Path) -> dict[str, Any]:
    """The IR in a compiled pipeline YAML; with a second document (the PlatformSpec),
    the `{pipeline_spec, platform_spec}` pair kfp sends."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except OSError as error:
        raise ApiError(
            f"Cannot read the pipeline file {str(path)!r}: {error.strerror}.", status=0
        ) from error
    except yaml.YAMLError as error:
        raise ApiError(f"The pipeline file {str(path)!r} is not YAML: {error}", status=0) from error
    if not documents or not isinstance(documents[0], dict):
        raise ApiError(f"The pipeline file {str(path)!r} holds no pipeline spec.", status=0)
    if len(documents) > 1:
        return {"pipeline_spec": documents[0], "platform_spec": documents[1]}
    spec: dict[str, Any] = documents[0]
    return spec


def pipeline_name(spec: Any) -> str:
    inner = spec.get("pipeline_spec", spec) if isinstance(spec, dict) else {}
    return str(inner.get("pipelineInfo", {}).get("name", "run"))


def set_caching(spec: dict[str, Any], enabled: bool, cache_key: str | None = None) -> None:
    # As kfp's client does: root-level tasks only, on the client side.
    inner = spec.get("pipeline_spec", spec)
    for task in inner.get("root", {}).get("dag", {}).get("tasks", {}).values():
        options = task.setdefault("cachingOptions", {})
        options["enableCache"] = enabled
        if cache_key:
            options["cacheKey"] = cache_key
