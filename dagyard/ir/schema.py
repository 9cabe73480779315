"""The official KFP protobuf schema (`pipeline_spec_pb2`), and the aliases for JSON data.

Belongs here: finding and loading the generated module shipped by the
`kfp-pipeline-spec` distribution, and the type aliases the rest of `dagyard.ir` shares.
Must not hold validation or I/O of documents.

Why not simply `from kfp.pipeline_spec import pipeline_spec_pb2`: the module belongs to
`kfp-pipeline-spec`, but `kfp` is a pkgutil namespace package whose `__init__.py`
(shipped by the full `kfp` SDK) imports `kfp.dsl`, `kfp.client` and the REST client,
about 1.5 s and the whole SDK, whenever the SDK happens to be installed. So we execute
the generated file directly from the `kfp-pipeline-spec` distribution. Protobuf keeps
one descriptor pool per process, so if kfp later imports the same file too, both module
objects share the same message classes (`isinstance` works across them).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias

JsonDict: TypeAlias = dict[str, Any]
"""A JSON object as loaded from YAML or JSON: the shape of every IR document."""

Message: TypeAlias = Any
"""A `pipeline_spec_pb2` message. The generated module ships no type stubs."""

SCHEMA_VERSION = "2.1.0"
"""The schemaVersion Dagyard writes; kfp 2.x writes the same."""

_MODULE = "kfp.pipeline_spec.pipeline_spec_pb2"
_DISTRIBUTION = "kfp-pipeline-spec"
_FILE = "kfp/pipeline_spec/pipeline_spec_pb2.py"


def _load_pipeline_spec_pb2() -> ModuleType:
    already = sys.modules.get(_MODULE)
    if already is not None:
        return already
    try:
        location = Path(str(importlib.metadata.distribution(_DISTRIBUTION).locate_file(_FILE)))
    except importlib.metadata.PackageNotFoundError:
        location = None
    spec = (
        importlib.util.spec_from_file_location("dagyard.ir._pipeline_spec_pb2", location)
        if location is not None and location.is_file()
        else None
    )
    if spec is None or spec.loader is None:
        # Installed some other way (vendored, zipapp): the plain import still works,
        # at the price of kfp's __init__ when the SDK is present.
        return importlib.import_module(_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pipeline_spec_pb2: Any = _load_pipeline_spec_pb2()
"""The generated module: `PipelineSpec`, `PlatformSpec`, `PipelineDeploymentConfig`, ..."""
