"""What kfp's SDK refuses, Dagyard's refuses too, each with a message naming the place
and the fix; and the SDK features of issue 16 that a corpus pipeline cannot show.

Each case is written once against a `dsl` module and run with the real kfp 2.17 and with
`dagyard.dsl`. Pipelines that run are in tests/pipelines (kfp_sdk_*.py, compared with
kfp's IR by test_kfp_equivalence.py and run by tests/engine/test_kfp_corpus_runs.py).
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl

from dagyard import compiler as dagyard_compiler
from dagyard import dsl as dagyard_dsl
from dagyard.errors import CompileError, DslError

pytestmark = pytest.mark.kfp


def _compat_ir() -> ModuleType:
    """tests/compat_ir.py, the IR normaliser (tests/ has no packages), once a session."""
    if "compat_ir" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "compat_ir.py"
        spec = importlib.util.spec_from_file_location("compat_ir", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["compat_ir"] = module
    return sys.modules["compat_ir"]


BOTH = pytest.mark.parametrize("dsl", [kfp_dsl, dagyard_dsl], ids=["kfp", "dagyard"])


def _compile(dsl: ModuleType, pipeline: Any, tmp_path: Any) -> None:
    if dsl is kfp_dsl:
        kfp_compiler.Compiler().compile(pipeline, str(tmp_path / "kfp.yaml"))
    else:
        dagyard_compiler.Compiler().compile(pipeline, tmp_path / "dagyard.yaml")


@BOTH
def test_a_container_component_refuses_a_bare_artifact_class(dsl: ModuleType) -> None:
    """kfp's component_factory.get_name_to_specs(containerized=True): container
    components must say Input[...] or Output[...]."""
    expected = (TypeError, r"Input/Output") if dsl is kfp_dsl else (DslError, r"`data: Input")
    with pytest.raises(expected[0], match=expected[1]):

        @dsl.container_component
        def show(data: dsl.Dataset):  # type: ignore[no-untyped-def]
            return dsl.ContainerSpec(image="alpine", command=["cat"], args=[data.path])


@BOTH
def test_after_a_task_inside_a_condition_from_outside_it_is_refused(
    dsl: ModuleType, tmp_path: Any
) -> None:
    """kfp's compiler_utils.get_dependencies: the producer's outermost group that the
    consumer is not in may be a loop, never a condition (it may not run)."""

    @dsl.component(base_image="python:3.11")
    def step(x: int) -> int:
        return x

    expected = (Exception, r"Illegal task dependency") if dsl is kfp_dsl else (CompileError, "")
    # kfp checks when the pipeline is defined, Dagyard when it is compiled.
    with pytest.raises(expected[0], match=expected[1] or None) as raised:

        @dsl.pipeline
        def pipeline(flag: bool = True):  # type: ignore[no-untyped-def]
            with dsl.If(flag == True), dsl.ParallelFor([1, 2]) as item:  # noqa: E712
                inner = step(x=item)
            step(x=0).after(inner)

        _compile(dsl, pipeline, tmp_path)
    if dsl is dagyard_dsl:
        assert str(raised.value) == (
            "Task 'step-2' runs after 'step', which is inside a condition branch "
            "('condition-1') that does not contain 'step-2' and may not run. Move the task "
            "into the same block, or make it run after a task outside the branch."
        )


def _same_ir(tmp_path: Any, kfp_object: Any, dagyard_object: Any) -> dict[str, Any]:
    """Compile the two, assert that their IR means the same and that kfp loads
    Dagyard's; returns Dagyard's IR."""
    compat_ir = _compat_ir()
    kfp_compiler.Compiler().compile(kfp_object, str(tmp_path / "kfp.yaml"))
    dagyard_compiler.Compiler().compile(dagyard_object, tmp_path / "dagyard.yaml")
    expected = compat_ir.describe(compat_ir.load(tmp_path / "kfp.yaml"))
    ours = compat_ir.load(tmp_path / "dagyard.yaml")
    actual = compat_ir.describe(ours)
    assert expected == actual, compat_ir.explain(expected, actual)
    kfp_components.load_component_from_file(str(tmp_path / "dagyard.yaml"))
    return ours


def _final_status_component(dsl: ModuleType) -> Any:
    @dsl.component(base_image="python:3.11")
    def report(status: dsl.PipelineTaskFinalStatus) -> str:
        return status.state

    return report


def test_a_lone_component_taking_a_final_status_compiles_as_kfp_writes_it(
    tmp_path: Any,
) -> None:
    """kfp compiles it as a one-task pipeline whose own input the status is."""
    ours = _same_ir(
        tmp_path, _final_status_component(kfp_dsl), _final_status_component(dagyard_dsl)
    )
    assert ours["root"]["inputDefinitions"]["parameters"]["status"] == {
        "isOptional": True,
        "parameterType": "TASK_FINAL_STATUS",
    }


@BOTH
def test_a_task_collecting_a_task_in_no_loop_is_refused(dsl: ModuleType, tmp_path: Any) -> None:
    """kfp's compiler_utils.validate_parallel_for_fan_in_consumption_legal: Collected
    fans in a loop's values; a task in a condition alone has none to collect."""

    @dsl.component(base_image="python:3.11")
    def double(num: int) -> int:
        return 2 * num

    @dsl.component(base_image="python:3.11")
    def add(nums: list[int]) -> int:
        return sum(nums)

    expected = (Exception, "can only be used to fan-in") if dsl is kfp_dsl else (CompileError, "")
    with pytest.raises(expected[0], match=expected[1] or None) as raised:

        @dsl.pipeline
        def pipeline(flag: bool = True):  # type: ignore[no-untyped-def]
            with dsl.If(flag == True):  # noqa: E712
                doubled = double(num=1)
            add(nums=dsl.Collected(doubled.output))

        _compile(dsl, pipeline, tmp_path)
    if dsl is dagyard_dsl:
        assert str(raised.value) == (
            "dsl.Collected(double-Output) is used by 'add', but 'double' is in no "
            "dsl.ParallelFor: there is nothing to collect. Pass its output directly."
        )


def test_a_task_collecting_inside_the_producing_loop_is_told_so(tmp_path: Any) -> None:
    @dagyard_dsl.component(base_image="python:3.11")
    def double(num: int) -> int:
        return 2 * num

    @dagyard_dsl.component(base_image="python:3.11")
    def add(nums: list[int]) -> int:
        return sum(nums)

    @dagyard_dsl.pipeline
    def pipeline():  # type: ignore[no-untyped-def]
        with dagyard_dsl.ParallelFor([1, 2]) as item:
            doubled = double(num=item)
            add(nums=dagyard_dsl.Collected(doubled.output))

    with pytest.raises(CompileError) as raised:
        _compile(dagyard_dsl, pipeline, tmp_path)
    assert str(raised.value) == (
        "dsl.Collected(double-Output) is used by 'add' inside the loop that produces it "
        "('for-loop-2'); use it after the loop, or pass 'double's output directly."
    )


_LIMIT = 3


def _clip(value: int) -> int:
    return min(value, _LIMIT)


def test_a_helper_in_additional_funcs_must_be_self_contained_too() -> None:
    """Its source goes into the component without the module around it."""
    with pytest.raises(DslError, match=r"'clipped' is not self-contained: it uses _LIMIT"):

        @dagyard_dsl.component(base_image="python:3.11", additional_funcs=[_clip])
        def clipped(value: int) -> int:
            return _clip(value)
