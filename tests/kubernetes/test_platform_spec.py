"""dagyard.kubernetes writes the PlatformSpec kfp-kubernetes 2.17 writes: the same
pipeline (tests/pipelines/k8s_settings.py) compiled by kfp with kfp.kubernetes and by
Dagyard with dagyard.kubernetes gives the same `platforms` document, references to
pipeline values included (kfp's compiler routes them like task inputs:
`pipeline_spec_builder`, and kfp.kubernetes' `common.parse_k8s_parameter_input`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import dsl as kfp_dsl
from kfp import kubernetes as kfp_kubernetes

from dagyard import dsl, ir, kubernetes
from dagyard.compiler import Compiler, compile_to_dict
from dagyard.errors import DslError
from tests.pipelines import k8s_settings

pytestmark = pytest.mark.kfp


def _documents(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@pytest.mark.parametrize("name", sorted(k8s_settings.PIPELINES))
def test_platform_spec_is_the_one_kfp_kubernetes_writes(name: str, tmp_path: Path) -> None:
    build = k8s_settings.PIPELINES[name]
    kfp_compiler.Compiler().compile(build(kfp_dsl, kfp_kubernetes), str(tmp_path / "kfp.yaml"))
    Compiler().compile(build(dsl, kubernetes), tmp_path / "dy.yaml")
    kfp_spec, kfp_platform = _documents(tmp_path / "kfp.yaml")
    dy_spec, dy_platform = _documents(tmp_path / "dy.yaml")
    assert dy_platform == kfp_platform
    # The labels name the same tasks' executors, with the same dependencies.
    for task, spec in kfp_spec["root"]["dag"]["tasks"].items():
        mine = dy_spec["root"]["dag"]["tasks"][task]
        assert sorted(mine.get("dependentTasks", [])) == sorted(spec.get("dependentTasks", []))
    # Dagyard's own loader reads it back with the settings.
    assert ir.load(tmp_path / "dy.yaml").platform_spec == kfp_platform


def test_a_pipeline_without_settings_has_no_platform_spec() -> None:
    @dsl.container_component
    def hello() -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image="alpine", command=["true"])

    @dsl.pipeline
    def plain() -> None:
        hello()

    assert "pipeline_spec" not in compile_to_dict(plain)


def test_stored_form_keeps_the_platform_spec() -> None:
    document = ir.from_dict(compile_to_dict(k8s_settings.routed(dsl, kubernetes)))
    assert document.platform_spec is not None
    again = ir.from_dict(ir.stored_form(document))
    assert again.platform_spec == document.platform_spec
    assert again.raw == document.raw


def test_a_bad_setting_is_refused_where_it_is_written() -> None:
    @dsl.container_component
    def hello() -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image="alpine", command=["true"])

    def bad() -> None:
        kubernetes.set_timeout(hello(), -1)

    with pytest.raises(DslError, match=r"seconds must be a whole number >= 0; got -1"):
        dsl.pipeline(bad)
