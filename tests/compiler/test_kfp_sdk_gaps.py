"""What kfp's SDK refuses, Dagyard's refuses too, each with a message naming the place
and the fix; and the SDK features of issue 16 that a corpus pipeline cannot show.

Each case is written once against a `dsl` module and run with the real kfp 2.17 and with
`dagyard.dsl`. Pipelines that run are in tests/pipelines (kfp_sdk_*.py, compared with
kfp's IR by test_kfp_equivalence.py and run by tests/engine/test_kfp_corpus_runs.py).
"""

from types import ModuleType
from typing import Any

import compat_ir  # tests/compat_ir.py: tests/ is on the import path
import pytest
from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl
from kfp.dsl.types.type_utils import InconsistentTypeException

from dagyard import compiler as dagyard_compiler
from dagyard import dsl as dagyard_dsl
from dagyard.errors import CompileError, DslError

pytestmark = pytest.mark.kfp


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


# --- embedded_artifact_path and notebook components -------------------------------------


@BOTH
def test_an_embedded_path_that_does_not_exist_is_refused(dsl: ModuleType, tmp_path: Any) -> None:
    """kfp's component_factory._get_command_and_args_for_lightweight_component checks the
    path exists before packing it."""
    missing = tmp_path / "absent.csv"
    expected = (
        (ValueError, "embedded_artifact_path does not exist")
        if dsl is kfp_dsl
        else (DslError, rf"embedded_artifact_path '{missing}' of component 'read' does not exist")
    )
    with pytest.raises(expected[0], match=expected[1]):

        @dsl.component(base_image="python:3.11", embedded_artifact_path=str(missing))
        def read(data: dsl.EmbeddedInput[dsl.Dataset]) -> str:
            return data.path


def test_an_embedded_path_too_large_to_start_is_refused_where_kfp_only_warns(
    tmp_path: Any,
) -> None:
    """kfp packs the archive into the one argument that carries the component's source and
    warns only above 1 MB compressed (_get_command_and_args_for_lightweight_component), but
    Linux refuses to start a program with an argument over 128 KiB: kfp's component
    compiles and cannot start. Dagyard refuses it when it is defined, saying the limit."""
    import os
    import subprocess

    asset = tmp_path / "weights.bin"
    asset.write_bytes(os.urandom(150 * 1024))  # random: gzip cannot shrink it

    @kfp_dsl.component(base_image="python:3.11", embedded_artifact_path=str(asset))
    def kfp_load(weights: kfp_dsl.EmbeddedInput[kfp_dsl.Dataset]) -> int:
        return len(open(weights.path, "rb").read())

    source = kfp_load.component_spec.implementation.container.command[-1]
    with pytest.raises(OSError, match="Argument list too long"):
        subprocess.run(["true", source], check=False)

    with pytest.raises(DslError, match=r"packs to more than 90 KiB compressed.*at most 90 KiB"):

        @dagyard_dsl.component(base_image="python:3.11", embedded_artifact_path=str(asset))
        def load(weights: dagyard_dsl.EmbeddedInput[dagyard_dsl.Dataset]) -> int:
            return len(open(weights.path, "rb").read())


def test_an_embedded_input_without_an_embedded_path_is_refused_when_defined() -> None:
    """kfp compiles it and the task fails when it runs (its executor finds no
    __KFP_EMBEDDED_ASSET_DIR); Dagyard says so when the component is defined."""

    @kfp_dsl.component(base_image="python:3.11")
    def kfp_read(data: kfp_dsl.EmbeddedInput[kfp_dsl.Dataset]) -> str:
        return data.path

    assert "data" not in (kfp_read.component_spec.inputs or {})
    with pytest.raises(DslError, match=r"'data' of component 'read' is an EmbeddedInput, but"):

        @dagyard_dsl.component(base_image="python:3.11")
        def read(data: dagyard_dsl.EmbeddedInput[dagyard_dsl.Dataset]) -> str:
            return data.path


def _notebook_path_error(dsl: ModuleType, path: Any) -> None:
    @dsl.notebook_component(notebook_path=str(path), base_image="python:3.11")
    def run() -> None:
        dsl.run_notebook()


@BOTH
def test_a_notebook_path_must_be_one_ipynb_file_or_a_folder_holding_one(
    dsl: ModuleType, tmp_path: Any
) -> None:
    """kfp's component_factory.create_notebook_component_from_func: the path exists, a
    file ends in .ipynb, a folder holds exactly one (.ipynb_checkpoints left out)."""
    kfp = dsl is kfp_dsl
    with pytest.raises(ValueError if kfp else DslError, match="does not exist"):
        _notebook_path_error(dsl, tmp_path / "absent.ipynb")
    (tmp_path / "notes.txt").write_text("{}")
    with pytest.raises(
        ValueError if kfp else DslError, match=r"not an \.ipynb file|expected \.ipynb"
    ):
        _notebook_path_error(dsl, tmp_path / "notes.txt")
    folder = tmp_path / "two"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    (folder / "a.ipynb").write_text("{}")
    _notebook_path_error(dsl, folder)  # the checkpoint does not count
    (folder / "b.ipynb").write_text("{}")
    expected = (
        "Multiple .ipynb files" if kfp else r"exactly one .ipynb file.*holds a.ipynb, b.ipynb"
    )
    with pytest.raises(ValueError if kfp else DslError, match=expected):
        _notebook_path_error(dsl, folder)


def test_run_notebook_outside_a_notebook_task_says_where_it_works() -> None:
    """kfp's dsl.run_notebook is a stub until a notebook component's task binds it."""
    with pytest.raises(NotImplementedError):
        kfp_dsl.run_notebook(x=1)
    with pytest.raises(DslError, match=r"only inside the function of a @dsl\.notebook_component"):
        dagyard_dsl.run_notebook(x=1)


def _launcher(dsl: ModuleType, passthroughs: list[Any]) -> Any:
    @dsl.component(base_image="python:3.11", task_config_passthroughs=passthroughs)
    def launch(config: dsl.TaskConfig) -> str:
        return str(config.resources)

    return launch


def _kubernetes(dsl: ModuleType) -> ModuleType:
    if dsl is kfp_dsl:
        from kfp import kubernetes
    else:
        from dagyard import kubernetes  # type: ignore[no-redef]
    return kubernetes


def _set_resources(dsl: ModuleType, task: Any) -> None:
    task.set_memory_limit("1Gi")


def _set_env(dsl: ModuleType, task: Any) -> None:
    task.set_env_variable(name="MODE", value="x")


def _set_node_selector(dsl: ModuleType, task: Any) -> None:
    _kubernetes(dsl).add_node_selector(task, label_key="disktype", label_value="ssd")


def _set_toleration(dsl: ModuleType, task: Any) -> None:
    _kubernetes(dsl).add_toleration(task, key="gpu", operator="Exists")


@BOTH
@pytest.mark.parametrize(
    ("setting", "field"),
    [
        (_set_resources, "RESOURCES"),
        (_set_env, "ENV"),
        (_set_node_selector, "KUBERNETES_NODE_SELECTOR"),
        (_set_toleration, "KUBERNETES_TOLERATIONS"),
    ],
    ids=["resources", "env", "node-selector", "toleration"],
)
def test_a_task_setting_what_its_component_does_not_pass_through_is_refused(
    dsl: ModuleType, setting: Any, field: str, tmp_path: Any
) -> None:
    """kfp's pipeline_spec_builder.build_container_spec_for_task: once a component
    declares task config passthroughs, a task setting resources, variables or Kubernetes
    placement of a field it leaves out is refused (the setting would be a silent no-op)."""
    other = "ENV" if field == "RESOURCES" else "RESOURCES"
    launch = _launcher(dsl, [getattr(dsl.TaskConfigField, other)])
    # kfp builds the pipeline, and refuses it, when it is defined; Dagyard when compiled.
    with pytest.raises(ValueError if dsl is kfp_dsl else CompileError, match=f"'launch'.*{field}"):

        @dsl.pipeline(name="passthrough-refused")
        def pipeline() -> None:
            setting(dsl, launch())

        _compile(dsl, pipeline, tmp_path)


@BOTH
def test_a_task_setting_only_what_its_component_passes_through_compiles(
    dsl: ModuleType, tmp_path: Any
) -> None:
    """The same check passes a setting whose field is passed through, applied or not."""
    applied = dsl.TaskConfigPassthrough(field=dsl.TaskConfigField.ENV, apply_to_task=True)
    launch = _launcher(dsl, [dsl.TaskConfigField.RESOURCES, applied])

    @dsl.pipeline(name="passthrough-allowed")
    def pipeline() -> None:
        task = launch()
        _set_resources(dsl, task)
        _set_env(dsl, task)

    _compile(dsl, pipeline, tmp_path)


def test_a_notebook_component_passes_its_task_config_through_as_kfp_writes_it(
    tmp_path: Any,
) -> None:
    """kfp's notebook_component takes task_config_passthroughs as @dsl.component does
    (a bare field not applied to the task)."""
    notebook = tmp_path / "train.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')

    def make(dsl: ModuleType) -> Any:
        @dsl.notebook_component(
            notebook_path=str(notebook),
            base_image="python:3.11",
            task_config_passthroughs=[dsl.TaskConfigField.RESOURCES],
        )
        def train(config: dsl.TaskConfig) -> None:
            dsl.run_notebook(resources=str(config.resources))

        return train

    ours = _same_ir(tmp_path, make(kfp_dsl), make(dagyard_dsl))
    (component,) = ours["components"].values()
    assert component["taskConfigPassthroughs"] == [{"field": "RESOURCES"}]


def _config_given(dsl: ModuleType) -> Any:
    @dsl.component(base_image="python:3.11")
    def launch(config: dsl.TaskConfig) -> str:
        return str(config.resources)

    @dsl.component(base_image="python:3.11")
    def settings() -> dict:
        return {}

    @dsl.pipeline(name="config-given")
    def pipeline(given: dict = {"resources": {}}) -> None:  # noqa: B006
        launch(config={"env": []})
        launch(config=given)
        launch(config=settings().output)

    return pipeline


def test_a_task_config_input_takes_a_struct_as_kfp_does(tmp_path: Any) -> None:
    """kfp's type_utils.verify_type_compatibility treats a TaskConfig input as a dict:
    a constant, a pipeline input or a task output of that type compiles (KFP's driver,
    container.go, replaces its value with the task's own when it runs)."""
    _same_ir(tmp_path, _config_given(kfp_dsl), _config_given(dagyard_dsl))


@BOTH
def test_a_task_config_input_refuses_a_string(dsl: ModuleType) -> None:
    """The same check refuses a value of another type, naming the input."""
    kfp = dsl is kfp_dsl

    @dsl.component(base_image="python:3.11")
    def launch(config: dsl.TaskConfig) -> str:
        return str(config.resources)

    refused = InconsistentTypeException if kfp else DslError
    with pytest.raises(refused, match="'config'"):

        @dsl.pipeline(name="config-refused")
        def pipeline(given: str = "x") -> None:
            launch(config=given)
