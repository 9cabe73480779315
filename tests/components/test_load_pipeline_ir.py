"""A whole pipeline's IR loaded as a component, as kfp 2.17 loads it: its inputs and
outputs are its root's (structures.ComponentSpec.from_ir_dicts gives it the PipelineSpec
as a graph implementation), and a task of it is compiled as kfp compiles it, a sub-DAG
whose components and executors join the caller's
(pipeline_spec_builder.merge_deployment_spec_and_component_spec). The corpus pair
sdk_loaded_pipeline runs such pipelines; these are the shapes around it.
"""

from pathlib import Path
from types import ModuleType
from typing import Any

import compat_ir  # tests/compat_ir.py: tests/ is on the import path
import pytest
import yaml
from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl

from dagyard import compiler as dagyard_compiler
from dagyard import components as dagyard_components
from dagyard import dsl as dagyard_dsl
from dagyard import kubernetes as dagyard_kubernetes
from dagyard.errors import CompileError, ComponentLoadError

pytestmark = pytest.mark.kfp


@kfp_dsl.container_component
def echo(text: str, times: int = 1):  # type: ignore[no-untyped-def]
    return kfp_dsl.ContainerSpec(image="alpine", command=["echo", text, times])


@kfp_dsl.component(base_image="python:3.11")
def length(text: str) -> int:
    return len(text)


@kfp_dsl.pipeline(name="two-steps", description="Echoes, then counts.")
def two_steps(text: str = "hi") -> int:
    echo(text=text)
    return length(text=text).output


@kfp_dsl.pipeline(name="one-constant")
def one_constant():  # type: ignore[no-untyped-def]
    echo(text="fixed")


@kfp_dsl.pipeline(name="around")
def around(text: str = "hi"):  # type: ignore[no-untyped-def]
    one_constant()
    with kfp_dsl.ParallelFor(["a", "b"]) as item:
        echo(text=item).set_retry(2)


SHAPES = {"one-constant": one_constant, "around": around}


def _outer(dsl: ModuleType, loaded: Any) -> Any:
    @dsl.pipeline(name="caller")
    def caller(word: str = "x"):  # type: ignore[no-untyped-def]
        loaded(text=word) if loaded.name == "around" else loaded()
        loaded(text="y") if loaded.name == "around" else loaded()

    return caller


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_loaded_pipeline_compiles_into_its_caller_as_kfp_compiles_it(
    shape: str, tmp_path: Path
) -> None:
    """A task's constant argument, a nested pipeline, a loop and a retry policy: each
    made the IR a pipeline rather than one component, and each loads and compiles."""
    source = tmp_path / "loaded.yaml"
    kfp_compiler.Compiler().compile(SHAPES[shape], str(source))
    kfp_loaded = kfp_components.load_component_from_file(str(source))
    ours = dagyard_components.load_component_from_file(source)
    kfp_compiler.Compiler().compile(_outer(kfp_dsl, kfp_loaded), str(tmp_path / "kfp.yaml"))
    dagyard_compiler.Compiler().compile(_outer(dagyard_dsl, ours), tmp_path / "dagyard.yaml")
    expected = compat_ir.describe(compat_ir.load(tmp_path / "kfp.yaml"))
    actual = compat_ir.describe(compat_ir.load(tmp_path / "dagyard.yaml"))
    assert expected == actual, compat_ir.explain(expected, actual)
    written = compat_ir.load(tmp_path / "dagyard.yaml")
    assert compat_ir.distinct_counts(written) == (
        len(written["components"]),
        len(written["deploymentSpec"]["executors"]),
    )


def test_a_loaded_pipeline_takes_its_roots_inputs_outputs_and_description(
    tmp_path: Path,
) -> None:
    source = tmp_path / "two.yaml"
    kfp_compiler.Compiler().compile(two_steps, str(source))
    loaded = dagyard_components.load_component_from_file(source)
    assert loaded.name == "two-steps"
    assert loaded.description == "Echoes, then counts."
    assert loaded.spec.inputs["text"].default == "hi"
    assert loaded.spec.outputs["Output"].parameter_type == "NUMBER_INTEGER"


def test_a_broken_pipeline_is_refused_when_loaded_naming_the_place(tmp_path: Path) -> None:
    source = tmp_path / "broken.yaml"
    kfp_compiler.Compiler().compile(around, str(source))
    document = yaml.safe_load(source.read_text())
    document["root"]["dag"]["tasks"]["one-constant"]["componentRef"]["name"] = "comp-gone"
    with pytest.raises(ComponentLoadError) as raised:
        dagyard_components.load_component_from_text(yaml.safe_dump(document))
    message = str(raised.value)
    assert message.startswith(
        "Cannot load component from component text: this pipeline is not valid pipeline IR:"
    )
    assert "comp-gone" in message


def test_kubernetes_settings_on_a_loaded_pipeline_task_are_refused(tmp_path: Path) -> None:
    """kfp's build_spec_by_group: platform-specific features only on primitive
    components."""
    source = tmp_path / "around.yaml"
    kfp_compiler.Compiler().compile(around, str(source))
    loaded = dagyard_components.load_component_from_file(source)

    @dagyard_dsl.pipeline(name="caller")
    def caller():  # type: ignore[no-untyped-def]
        dagyard_kubernetes.set_timeout(loaded(text="z"), 10)

    with pytest.raises(CompileError, match="Task 'around' runs a loaded pipeline"):
        dagyard_compiler.Compiler().compile(caller, tmp_path / "caller.yaml")


def test_the_kubernetes_settings_inside_a_loaded_pipeline_follow_its_executors(
    tmp_path: Path,
) -> None:
    """kfp's _merge_deployment_spec renames the executor's settings with the executor."""

    @dagyard_dsl.container_component
    def nap(seconds: int):  # type: ignore[no-untyped-def]
        return dagyard_dsl.ContainerSpec(image="alpine", command=["sleep", seconds])

    @dagyard_dsl.pipeline(name="napping")
    def napping():  # type: ignore[no-untyped-def]
        dagyard_kubernetes.set_timeout(nap(seconds=1), 30)
        nap(seconds=2)

    source = tmp_path / "napping.yaml"
    dagyard_compiler.Compiler().compile(napping, source)
    loaded = dagyard_components.load_component_from_file(source)

    @dagyard_dsl.pipeline(name="caller")
    def caller():  # type: ignore[no-untyped-def]
        nap(seconds=3)
        loaded()

    dagyard_compiler.Compiler().compile(caller, tmp_path / "caller.yaml")
    spec, platform = yaml.safe_load_all((tmp_path / "caller.yaml").read_text())
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    ((label, settings),) = executors.items()
    assert settings == {"activeDeadlineSeconds": "30"}  # an int64, as JSON writes it
    dag = spec["components"]["comp-napping"]["dag"]["tasks"]
    component = spec["components"][dag["nap"]["componentRef"]["name"]]
    assert component["executorLabel"] == label


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_loaded_pipeline_compiled_alone_is_written_as_it_was_loaded(
    shape: str, tmp_path: Path
) -> None:
    """kfp's compiler writes a loaded pipeline's IR back unchanged (its pipeline_spec is
    the graph it was loaded with), not wrapped in a one-task pipeline as a lone component
    is; a new name and new defaults apply to it as to any pipeline."""
    source = tmp_path / "loaded.yaml"
    kfp_compiler.Compiler().compile(SHAPES[shape], str(source))
    kfp_loaded = kfp_components.load_component_from_file(str(source))
    ours = dagyard_components.load_component_from_file(source)

    dagyard_compiler.Compiler().compile(ours, tmp_path / "dagyard.yaml")
    assert yaml.safe_load((tmp_path / "dagyard.yaml").read_text()) == yaml.safe_load(
        source.read_text()
    )

    options: dict[str, Any] = {"pipeline_name": "renamed"}
    if shape == "around":
        options["pipeline_parameters"] = {"text": "z"}
    kfp_compiler.Compiler().compile(kfp_loaded, str(tmp_path / "kfp-renamed.yaml"), **options)
    dagyard_compiler.Compiler().compile(ours, tmp_path / "dagyard-renamed.yaml", **options)
    expected = yaml.safe_load((tmp_path / "kfp-renamed.yaml").read_text())
    actual = yaml.safe_load((tmp_path / "dagyard-renamed.yaml").read_text())
    assert actual["pipelineInfo"] == expected["pipelineInfo"]
    assert actual["root"] == expected["root"]
