"""The compatibility corpus (tests/pipelines/) compiled to validated documents.

`kfp_<name>.py` is compiled with the real kfp compiler and `dy_<name>.py` with Dagyard's;
both are loaded with `dagyard.ir.loads`. Modules are imported by path, once per session,
under the names the compiler equivalence tests use.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import dagyard.ir as ir

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
STEMS = sorted(
    path.stem for path in PIPELINES.glob("*.py") if path.stem.startswith(("kfp_", "dy_"))
)


def _module(stem: str) -> ModuleType:
    name = f"dagyard_corpus_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings():
            # dsl.Condition is deprecated in kfp and warns when the pipeline is defined.
            warnings.simplefilter("ignore", DeprecationWarning)
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def compile_stem(stem: str, directory: Path) -> ir.PipelineDocument:
    """The validated document of corpus module `stem`, compiled by its own SDK."""
    path = directory / f"{stem}.yaml"
    pipeline = _module(stem).pipeline
    if stem.startswith("kfp_"):
        from kfp import compiler

        compiler.Compiler().compile(pipeline, str(path))
    else:
        from dagyard import compiler as dagyard_compiler

        dagyard_compiler.Compiler().compile(pipeline, str(path))
    return ir.load(path)
