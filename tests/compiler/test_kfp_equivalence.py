"""dagyard compiles every pipeline of tests/pipelines/ to the same DAG as kfp does.

Each `tests/pipelines/kfp_<name>.py` has a twin `dy_<name>.py` that differs only in its
imports. For every pair: kfp compiles kfp_<name>, dagyard compiles dy_<name>, and the two
IR documents must have equal descriptions (`tests/compat_ir.py` says what is compared
and what is ignored by design); kfp must load dagyard's IR, dagyard must load kfp's, and
dagyard must emit each distinct component once.

The first half of this module uses only kfp: it checks the corpus itself and that the
normaliser is neither blind (it sees changed pipelines) nor too strict (renaming and
de-duplicating components changes nothing). Pipeline modules are imported inside the
tests, never at collection, so an unfinished dagyard.dsl only fails the dagyard tests.
"""

import copy
import importlib.util
import json
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kfp import compiler as kfp_compiler
from kfp import components as kfp_components
from kfp import dsl as kfp_dsl

pytestmark = pytest.mark.kfp

TESTS = Path(__file__).resolve().parents[1]
PIPELINES = TESTS / "pipelines"
NAMES = sorted(path.stem.removeprefix("kfp_") for path in PIPELINES.glob("kfp_*.py"))


def _load_module(path: Path, module_name: str) -> ModuleType:
    """Import a file by path (tests/ has no packages), once per session."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with warnings.catch_warnings():
            # dsl.Condition is deprecated in kfp and warns when the pipeline is defined.
            warnings.simplefilter("ignore", DeprecationWarning)
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


compat_ir = _load_module(TESTS / "compat_ir.py", "compat_ir")


def _pipeline_module(stem: str) -> ModuleType:
    return _load_module(PIPELINES / f"{stem}.py", f"dagyard_corpus_{stem}")


def _kfp_compile(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"kfp_{name}.yaml"
    kfp_compiler.Compiler().compile(_pipeline_module(f"kfp_{name}").pipeline, str(path))
    return path


def _dagyard_compile(name: str, tmp_path: Path) -> Path:
    from dagyard import compiler as dagyard_compiler

    path = tmp_path / f"dy_{name}.yaml"
    dagyard_compiler.Compiler().compile(_pipeline_module(f"dy_{name}").pipeline, str(path))
    return path


def _assert_same(expected: Any, actual: Any) -> None:
    if expected != actual:
        pytest.fail(compat_ir.explain(expected, actual), pytrace=False)


def _to_dagyard_imports(source: str) -> str:
    # `from kfp import`, `from kfp.dsl import`, `from kfp.dsl.types.artifact_types import`;
    # a helper module of the corpus written for kfp, `from custom_types_kfp import`, has
    # its own twin (`from custom_types_dy import`).
    source = re.sub(r"^from (\w+)_kfp import", r"from \1_dy import", source, flags=re.M)
    return re.sub(r"^from kfp((?:\.\w+)*) import", r"from dagyard\1 import", source, flags=re.M)


# --- The corpus ------------------------------------------------------------------------


def test_corpus_has_at_least_sixteen_pipelines() -> None:
    assert len(NAMES) >= 16, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_dy_twin_differs_from_kfp_module_only_in_imports(name: str) -> None:
    kfp_source = (PIPELINES / f"kfp_{name}.py").read_text()
    twin = PIPELINES / f"dy_{name}.py"
    assert twin.exists(), f"{twin} is missing: copy kfp_{name}.py and change its imports"
    assert twin.read_text() == _to_dagyard_imports(kfp_source)


@pytest.mark.parametrize("stem", sorted(p.stem for p in PIPELINES.glob("*_kfp.py")))
def test_a_helper_module_for_kfp_has_a_twin_differing_only_in_imports(stem: str) -> None:
    twin = PIPELINES / f"{stem.removesuffix('_kfp')}_dy.py"
    assert twin.exists(), f"{twin} is missing: copy {stem}.py and change its imports"
    assert twin.read_text() == _to_dagyard_imports((PIPELINES / f"{stem}.py").read_text())


def test_readme_table_lists_every_pipeline() -> None:
    readme = (PIPELINES / "README.md").read_text()
    missing = [name for name in NAMES if f"kfp_{name}.py" not in readme]
    assert not missing, f"add these to tests/pipelines/README.md: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_kfp_module_compiles_and_its_arguments_are_pipeline_inputs(
    name: str, tmp_path: Path
) -> None:
    ir = compat_ir.load(_kfp_compile(name, tmp_path))
    arguments = getattr(_pipeline_module(f"kfp_{name}"), "ARGUMENTS", {})
    inputs = ir["root"].get("inputDefinitions", {}).get("parameters", {})
    assert set(arguments) <= set(inputs)
    kfp_components.load_component_from_file(str(tmp_path / f"kfp_{name}.yaml"))


# --- The normaliser, checked with kfp alone -------------------------------------------


def _as_dagyard_would_write(ir: dict[str, Any]) -> dict[str, Any]:
    """Rewrite kfp's IR the ways dagyard may legitimately differ.

    Identical components and executors are merged and everything is renamed; Python
    commands are replaced; integral doubles become ints; raw loop items are re-spaced;
    dependentTasks are reordered.
    """
    ir = compat_ir.canonical(copy.deepcopy(ir))
    components = ir.get("components", {})
    executors = ir.get("deploymentSpec", {}).get("executors", {})
    component_names: dict[str, str] = {}
    by_signature: dict[str, str] = {}
    for old in sorted(components, reverse=True):
        key = compat_ir.component_signature(ir, old)
        component_names[old] = by_signature.setdefault(key, f"comp-{len(by_signature)}")
    executor_names: dict[str, str] = {}
    by_signature = {}
    for old in sorted(executors, reverse=True):
        key = compat_ir.executor_signature(ir, old)
        executor_names[old] = by_signature.setdefault(key, f"exec-{len(by_signature)}")

    def rewrite_dag(spec: dict[str, Any]) -> None:
        for task in spec.get("dag", {}).get("tasks", {}).values():
            task["componentRef"]["name"] = component_names[task["componentRef"]["name"]]
            task.get("dependentTasks", []).reverse()
            items = task.get("parameterIterator", {}).get("items", {})
            if "raw" in items:
                items["raw"] = json.dumps(json.loads(items["raw"]), separators=(",", ":"))

    rewrite_dag(ir["root"])
    new_components = {}
    for old, spec in components.items():
        rewrite_dag(spec)
        if "executorLabel" in spec:
            spec["executorLabel"] = executor_names[spec["executorLabel"]]
        new_components.setdefault(component_names[old], spec)
    new_executors = {}
    for old, spec in executors.items():
        container = spec.get("container", {})
        if "kfp.dsl.executor_main" in json.dumps(container.get("command", [])):
            function = container["args"][-1]
            container["command"] = ["python3", "-m", "dagyard.runtime", "--inline-source"]
            container["args"] = ["--executor-input", "{{$}}", "--function", function]
        new_executors.setdefault(executor_names[old], spec)
    ir["components"] = new_components
    ir["deploymentSpec"]["executors"] = new_executors
    ir["sdkVersion"] = "dagyard-0.1.0"
    return ir


@pytest.mark.parametrize("name", NAMES)
def test_normaliser_ignores_naming_deduplication_and_python_commands(
    name: str, tmp_path: Path
) -> None:
    kfp_ir = compat_ir.load(_kfp_compile(name, tmp_path))
    rewritten = _as_dagyard_would_write(kfp_ir)
    _assert_same(compat_ir.describe(kfp_ir), compat_ir.describe(rewritten))
    assert compat_ir.distinct_counts(rewritten) == (
        len(rewritten["components"]),
        len(rewritten["deploymentSpec"]["executors"]),
    )


def _node(ir: Any, *path: str | int) -> Any:
    for key in path:
        ir = ir[key]
    return ir


def _set(value: Any, *path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(ir: dict[str, Any]) -> None:
        parent = _node(ir, *path[:-1])
        _node(parent, path[-1])  # the change must replace something, never add it
        parent[path[-1]] = value

    return mutate


def _delete(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(ir: dict[str, Any]) -> None:
        del _node(ir, *path[:-1])[path[-1]]

    return mutate


def _rename_task(dag_owner: tuple[str, ...], old: str, new: str) -> Callable[[dict], None]:
    def mutate(ir: dict[str, Any]) -> None:
        tasks = _node(ir, *dag_owner, "dag", "tasks")
        tasks[new] = tasks.pop(old)

    return mutate


ROOT_TASKS = ("root", "dag", "tasks")
EXECUTORS = ("deploymentSpec", "executors")
CHANGES: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "constant": (
        "params",
        _set(
            [1, 2, 4],
            *ROOT_TASKS,
            "scale-features",
            "inputs",
            "parameters",
            "values",
            "runtimeValue",
            "constant",
        ),
    ),
    "number-becomes-string": (
        "dedup",
        _set("2", *ROOT_TASKS, "add-2", "inputs", "parameters", "b", "runtimeValue", "constant"),
    ),
    "default": (
        "params",
        _set(4.0, "root", "inputDefinitions", "parameters", "epochs", "defaultValue"),
    ),
    "optional": (
        "params",
        _delete("root", "inputDefinitions", "parameters", "notes", "isOptional"),
    ),
    "pipeline-name": ("params", _set("other", "pipelineInfo", "name")),
    "pipeline-root": ("params", _set("file:///elsewhere", "defaultPipelineRoot")),
    "task-name": ("params", _rename_task(("root",), "make-config", "make-config-9")),
    "dependency": ("task_config", _set(["report"], *ROOT_TASKS, "report-2", "dependentTasks")),
    "display-name": ("task_config", _set("prepare", *ROOT_TASKS, "prepare", "taskInfo", "name")),
    "retry": ("task_config", _set(5, *ROOT_TASKS, "train", "retryPolicy", "maxRetryCount")),
    "cache-key": ("task_config", _set("v2", *ROOT_TASKS, "train", "cachingOptions", "cacheKey")),
    "caching-off": ("task_config", _set({}, *ROOT_TASKS, "report", "cachingOptions")),
    "python-image": (
        "task_config",
        _set("python:3.13", *EXECUTORS, "exec-report", "container", "image"),
    ),
    "env": (
        "task_config",
        _set("online", *EXECUTORS, "exec-train", "container", "env", 0, "value"),
    ),
    "resources": (
        "task_config",
        _set("4", *EXECUTORS, "exec-train", "container", "resources", "resourceCpuLimit"),
    ),
    "container-args": (
        "containers",
        _set("--rows-file", *EXECUTORS, "exec-fit", "container", "args", 4),
    ),
    "container-command": (
        "containers",
        _set("bash", *EXECUTORS, "exec-download", "container", "command", 0),
    ),
    "condition": (
        "conditions",
        _set(
            "inputs.parameter_values['pipelinechannel--use_gpu'] == false",
            *ROOT_TASKS,
            "condition-8",
            "triggerPolicy",
            "condition",
        ),
    ),
    "trigger-strategy": ("exit_handler", _delete(*ROOT_TASKS, "notify", "triggerPolicy")),
    "parallelism": (
        "loops_static",
        _set(3, *ROOT_TASKS, "for-loop-4", "iteratorPolicy", "parallelismLimit"),
    ),
    "raw-items": (
        "loops_static",
        _set("[1, 2]", *ROOT_TASKS, "for-loop-2", "parameterIterator", "items", "raw"),
    ),
    "selector": (
        "loops_static",
        _set(
            'parseJson(string_value)["momentum"]',
            "components",
            "comp-for-loop-4",
            "dag",
            "tasks",
            "train-trial",
            "inputs",
            "parameters",
            "lr",
            "parameterExpressionSelector",
        ),
    ),
    "artifact-list": (
        "collected",
        _delete(
            "components", "comp-merge", "inputDefinitions", "artifacts", "parts", "isArtifactList"
        ),
    ),
    "oneof-order": (
        "oneof",
        lambda ir: _node(
            ir,
            "components",
            "comp-condition-branches-1",
            "dag",
            "outputs",
            "parameters",
            "pipelinechannel--condition-branches-1-oneof-1",
            "valueFromOneof",
            "parameterSelectors",
        ).reverse(),
    ),
    "subdag-output": (
        "subdag",
        _set(
            "load-rows",
            "components",
            "comp-preprocess",
            "dag",
            "outputs",
            "artifacts",
            "Output",
            "artifactSelectors",
            0,
            "producerSubtask",
        ),
    ),
    "importer-uri": (
        "importer",
        _set("file:///other", *EXECUTORS, "exec-importer", "importer", "artifactUri", "constant"),
    ),
    "placeholder": (
        "placeholders",
        _set(
            "{{$.pipeline_job_name}}",
            *ROOT_TASKS,
            "tag-model",
            "inputs",
            "parameters",
            "job_id",
            "runtimeValue",
            "constant",
        ),
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_normaliser_sees_a_changed_ir(change: str, tmp_path: Path) -> None:
    name, mutate = CHANGES[change]
    original = compat_ir.load(_kfp_compile(name, tmp_path))
    changed = copy.deepcopy(original)
    mutate(changed)
    assert compat_ir.describe(original) != compat_ir.describe(changed)


@kfp_dsl.component(base_image="python:3.11")
def _scale(x: float, factor: float = 2.0) -> float:
    return x * factor


@kfp_dsl.container_component
def _shout(text: str):
    return kfp_dsl.ContainerSpec(image="alpine:3.20", command=["echo"], args=[text])


@kfp_dsl.pipeline(name="reference")
def _reference(x: float = 1.0):
    _scale(x=_scale(x=x).output)
    _shout(text="hi")


@kfp_dsl.pipeline(name="reference")
def _other_constant(x: float = 1.0):
    _scale(x=_scale(x=x, factor=3.0).output)
    _shout(text="hi")


@kfp_dsl.pipeline(name="reference")
def _other_wiring(x: float = 1.0):
    _scale(x=x)
    _scale(x=x)
    _shout(text="hi")


@kfp_dsl.pipeline(name="reference")
def _other_command(x: float = 1.0):
    _scale(x=_scale(x=x).output)
    _shout(text="hello")


@pytest.mark.parametrize("changed", [_other_constant, _other_wiring, _other_command])
def test_normaliser_distinguishes_a_changed_pipeline(changed: Any, tmp_path: Path) -> None:
    kfp_compiler.Compiler().compile(_reference, str(tmp_path / "a.yaml"))
    kfp_compiler.Compiler().compile(_reference, str(tmp_path / "b.yaml"))
    kfp_compiler.Compiler().compile(changed, str(tmp_path / "c.yaml"))
    a, b, c = (compat_ir.describe(compat_ir.load(tmp_path / f"{x}.yaml")) for x in "abc")
    _assert_same(a, b)
    assert a != c


def test_numbers_compare_numerically_but_never_equal_strings() -> None:
    assert compat_ir.canonical({"a": [1.0, 2.5, True]}) == {"a": [1, 2.5, True]}
    assert compat_ir.canonical(1.0) == compat_ir.canonical(1)
    assert compat_ir.canonical("1") != compat_ir.canonical(1.0)


def test_distinct_counts_see_one_component_used_by_many_tasks(tmp_path: Path) -> None:
    ir = compat_ir.load(_kfp_compile("dedup", tmp_path))
    # add (4 plain tasks), add with a memory limit, add with another image, echo (2 tasks)
    assert len(ir["components"]) == 8
    assert compat_ir.distinct_counts(ir) == (4, 4)


# --- dagyard against kfp ---------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_dagyard_compiles_the_same_dag_as_kfp(name: str, tmp_path: Path) -> None:
    expected = compat_ir.describe(compat_ir.load(_kfp_compile(name, tmp_path)))
    actual = compat_ir.describe(compat_ir.load(_dagyard_compile(name, tmp_path)))
    _assert_same(expected, actual)


@pytest.mark.parametrize("name", NAMES)
def test_kfp_loads_dagyard_ir(name: str, tmp_path: Path) -> None:
    kfp_components.load_component_from_file(str(_dagyard_compile(name, tmp_path)))


@pytest.mark.parametrize("name", NAMES)
def test_dagyard_ir_loads_kfp_ir(name: str, tmp_path: Path) -> None:
    from dagyard import ir

    ir.load(_kfp_compile(name, tmp_path))


@pytest.mark.parametrize("name", NAMES)
def test_dagyard_emits_each_distinct_component_once(name: str, tmp_path: Path) -> None:
    kfp_ir = compat_ir.load(_kfp_compile(name, tmp_path))
    ours = compat_ir.load(_dagyard_compile(name, tmp_path))
    components = ours.get("components", {})
    executors = ours.get("deploymentSpec", {}).get("executors", {})
    assert compat_ir.distinct_counts(ours) == (len(components), len(executors)), (
        "dagyard wrote structurally identical components or executors more than once"
    )
    assert compat_ir.referenced_names(ours) == (set(components), set(executors)), (
        "dagyard wrote components or executors that nothing refers to"
    )
    assert (len(components), len(executors)) == compat_ir.distinct_counts(kfp_ir)
