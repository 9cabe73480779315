"""Loading components from YAML, name-compatible with `kfp.components`.

`load_component_from_text/_file/_url` accept the formats kfp loads: the KFP v2 IR of a
single compiled component (`ir.py`), of a whole pipeline (`pipeline_ir.py`, run as a
sub-DAG), and a KFP v1 `component.yaml` (`v1.py`). They return a component to call
inside a `@dsl.pipeline`. This module only reads the text and picks
the format; what each format means lives in its own module.

    from dagyard import components
    train = components.load_component_from_file("train.yaml")
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request
from pathlib import Path

from dagyard.components.ir import NotOneComponent, load_ir
from dagyard.components.located import Located, parse_documents
from dagyard.components.pipeline_ir import load_pipeline_ir
from dagyard.components.v1 import load_v1
from dagyard.components.yaml_component import YamlComponent, make_component
from dagyard.dsl.component import BaseComponent
from dagyard.errors import ComponentLoadError

__all__ = [
    "YamlComponent",
    "load_component_from_file",
    "load_component_from_text",
    "load_component_from_url",
]

_IR_KEYS = ("pipelineInfo", "root", "components", "deploymentSpec")
_URL_TIMEOUT_SECONDS = 60


def load_component_from_text(text: str) -> BaseComponent:
    """Load a component from YAML text: KFP v2 IR of one component, or a v1
    `component.yaml`. Raises ComponentLoadError naming what is wrong and where."""
    return _load(text, "component text")


def load_component_from_file(file_path: str | os.PathLike[str]) -> BaseComponent:
    """Load a component from a YAML file (see `load_component_from_text`)."""
    path = Path(file_path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ComponentLoadError(f"Cannot read component file '{path}': {e}") from e
    return _load(text, f"file '{path}'")


def load_component_from_url(url: str, auth: tuple[str, str] | None = None) -> BaseComponent:
    """Load a component from a URL (http(s)://, file://, or gs:// for a public object).

    `auth` is a (user, password) pair sent as HTTP basic authentication.
    """
    if not isinstance(url, str) or not url:
        raise ComponentLoadError(f"load_component_from_url needs a URL string; got {url!r}.")
    if url.startswith("gs://"):
        # Public Cloud Storage objects are served over HTTPS, as kfp does.
        url = "https://storage.googleapis.com/" + url.removeprefix("gs://")
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=_URL_TIMEOUT_SECONDS) as response:
            data: bytes = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ComponentLoadError(f"Cannot download component from '{url}': {e}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ComponentLoadError(f"Component at '{url}' is not UTF-8 text: {e}") from e
    return _load(text, f"'{url}'")


def _load(text: str, source: str) -> BaseComponent:
    documents = parse_documents(text, source)
    if not documents:
        raise ComponentLoadError(f"Cannot load component from {source}: the text is empty.")
    if len(documents) > 2:
        raise ComponentLoadError(
            f"Cannot load component from {source}: it holds {len(documents)} YAML "
            "documents; expected one (plus an optional platform spec)."
        )
    doc = Located(documents[0], source=source)
    doc.mapping()
    platform = None
    if len(documents) == 2:
        platform = Located(documents[1], path="(second document)", source=source)
        platform.mapping()
    if "implementation" in doc:
        _refuse_platform(platform)
        loaded = load_v1(doc)
    elif any(key in doc for key in _IR_KEYS):
        try:
            loaded = load_ir(doc, text)
        except NotOneComponent:
            loaded = load_pipeline_ir(doc, platform, text)
        else:
            _refuse_platform(platform)
    elif "name" in doc or "inputs" in doc or "outputs" in doc:
        raise doc.error(
            "this v1 component.yaml has no implementation; add implementation.container "
            "with image, command and args."
        )
    else:
        raise doc.error(
            "this is neither KFP v2 IR (pipelineInfo, root, components, deploymentSpec) "
            "nor a v1 component.yaml (name, inputs, outputs, implementation)."
        )
    return make_component(loaded, text)


def _refuse_platform(platform: Located | None) -> None:
    if platform is not None and platform.mapping():
        # Silently dropping kfp-kubernetes settings (volumes, secrets...) would run
        # the component differently from how it was written.
        raise platform.error(
            "platform-specific settings (kfp-kubernetes) of a single component are not "
            "supported yet; remove the second YAML document to load the component "
            "without them."
        )
