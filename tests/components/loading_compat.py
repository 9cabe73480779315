"""Helpers for the component-loading tests: use a loaded component in a small pipeline
with kfp and with dagyard, compile both, and pick the loaded component out of the IR.

The pipeline passes each argument given; `ARTIFACT` stands for an artifact made by
`dsl.importer` (a generic Artifact, which both SDKs accept for any artifact input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl

from dagyard import compiler, components, dsl

ARTIFACT = object()


def _pipeline_using(sdk: Any, component: Any, arguments: dict[str, Any]) -> Any:
    @sdk.pipeline(name="uses-loaded-component")
    def uses():  # no annotation: kfp reads `-> None` as an output type
        kwargs = {
            name: (
                sdk.importer(artifact_uri=f"gs://bucket/{name}", artifact_class=sdk.Artifact).output
                if value is ARTIFACT
                else value
            )
            for name, value in arguments.items()
        }
        component(**kwargs)

    return uses


def compile_with_kfp(text: str, arguments: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """kfp loads `text`, uses it in a pipeline and compiles; returns the IR."""
    component = kfp_components.load_component_from_text(text)
    path = tmp_path / "kfp_pipeline.yaml"
    kfp_compiler.Compiler().compile(_pipeline_using(kfp_dsl, component, arguments), str(path))
    return read_ir(path)


def compile_with_dagyard(text: str, arguments: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """dagyard loads `text`, uses it in a pipeline and compiles; returns the IR."""
    component = components.load_component_from_text(text)
    path = tmp_path / "dagyard_pipeline.yaml"
    compiler.Compiler().compile(_pipeline_using(dsl, component, arguments), path)
    return read_ir(path)


def read_ir(path: Path) -> dict[str, Any]:
    documents = list(yaml.safe_load_all(path.read_text()))
    return documents[0]


def component_in(ir: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The interface (input/output definitions) and executor of `comp-<name>`."""
    component = ir["components"][f"comp-{name}"]
    interface = {
        key: component[key] for key in ("inputDefinitions", "outputDefinitions") if key in component
    }
    executor = ir["deploymentSpec"]["executors"][component["executorLabel"]]
    return interface, executor


def canonical(value: Any) -> Any:
    """`value` with whole floats as ints: kfp writes every number as a double."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def without_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [without_descriptions(v) for v in value]
    return value


def assert_same_component(
    kfp_ir: dict[str, Any], dagyard_ir: dict[str, Any], name: str, *, descriptions: bool
) -> None:
    """Interfaces equal (numbers numerically), container image/command/args equal as
    exact strings. `descriptions=False` ignores descriptions, which kfp drops in places."""
    kfp_interface, kfp_executor = component_in(kfp_ir, name)
    dy_interface, dy_executor = component_in(dagyard_ir, name)
    if not descriptions:
        kfp_interface = without_descriptions(kfp_interface)
        dy_interface = without_descriptions(dy_interface)
    assert canonical(dy_interface) == canonical(kfp_interface)
    kfp_container, dy_container = kfp_executor["container"], dy_executor["container"]
    for key in ("image", "command", "args"):
        assert dy_container.get(key) == kfp_container.get(key), key
