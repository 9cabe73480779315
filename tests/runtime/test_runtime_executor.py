"""executor.main in this process: executor input in, function called, executor output out."""

from __future__ import annotations

import json
import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest

from dagyard.runtime import executor

# Component sources import from artifacts directly: inside a task the bootstrap's
# `dagyard.dsl` shim provides the same objects (covered by test_runtime_embed.py).
PRELUDE = """\
from typing import *
from dagyard.runtime.artifacts import *


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)

"""


class Task:
    """One executor.main call over a task root in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.parameters: dict[str, Any] = {}
        self.input_artifacts: dict[str, Any] = {}
        self.output_parameters: dict[str, Any] = {}
        self.output_artifacts: dict[str, Any] = {}
        self.output_file = root / "out" / "executor_output.json"

    def input_artifact(self, name: str, *contents: str, schema: str = "system.Dataset") -> None:
        runtime = []
        for i, content in enumerate(contents):
            path = self.root / "in" / f"{name}-{i}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            runtime.append(
                {"name": f"{name}-{i}", "type": {"schemaTitle": schema}, "uri": str(path)}
                | {"metadata": {"index": i}}
            )
        self.input_artifacts[name] = {"artifacts": runtime}

    def output_parameter(self, *names: str) -> None:
        for name in names:
            self.output_parameters[name] = {"outputFile": str(self.root / "out" / "p" / name)}

    def output_artifact(self, name: str, schema: str = "system.Artifact") -> Path:
        uri = self.root / "out" / "a" / name / "data"
        runtime = {"name": name, "type": {"schemaTitle": schema}, "uri": str(uri), "metadata": {}}
        self.output_artifacts[name] = {"artifacts": [runtime]}
        return uri

    def executor_input(self) -> dict[str, Any]:
        return {
            "inputs": {"parameterValues": self.parameters, "artifacts": self.input_artifacts},
            "outputs": {
                "parameters": self.output_parameters,
                "artifacts": self.output_artifacts,
                "outputFile": str(self.output_file),
            },
        }

    def run(self, source: str, name: str = "f", executor_input: Any = None) -> int:
        document = self.executor_input() if executor_input is None else executor_input
        argv = ["--executor_input", json.dumps(document), "--function_to_execute", name]
        return executor.main([*argv, "--function_source", PRELUDE + textwrap.dedent(source)])

    def output(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.output_file.read_text())
        return result

    def outputs(self) -> dict[str, Any]:
        values: dict[str, Any] = self.output()["parameterValues"]
        return values


def same(actual: Any, expected: Any) -> bool:
    """Equal including int versus float, which `==` ignores (1 == 1.0)."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.fixture
def task(tmp_path: Path) -> Task:
    return Task(tmp_path)


def test_parameters_arrive_with_their_json_types(task: Task) -> None:
    task.parameters = {
        "s": "text",
        "i": 3.0,  # protobuf's Value has no integers
        "fl": 2,
        "b": True,
        "raw": [1, 2.5, "x"],
        "ints": [1.0, 2.0, 3],
        "d": {"k": [1, 2]},
        "counts": {"a": 1.0, "b": 2},
    }
    source = """
    def f(s: str, i: int, fl: float, b: bool, raw: list, ints: List[int], d: dict,
          counts: dict[str, int]) -> dict:
        values = [s, i, fl, b, raw, ints, d, counts, *raw, *ints, *counts.values()]
        return {"types": [type(v).__name__ for v in values], "sum": sum(ints)}
    """
    assert task.run(source) == 0
    assert same(
        task.outputs()["Output"],
        {
            "types": [
                *("str", "int", "float", "bool", "list", "list", "dict", "dict"),
                *("int", "float", "str", "int", "int", "int", "int", "int"),
            ],
            "sum": 6,
        },
    )


def test_missing_parameters_take_the_python_defaults(task: Task) -> None:
    task.parameters = {"given": "yes"}
    source = """
    def f(given: str, opt: Optional[int] = None, n: int = 7, *, kw: str = "kw") -> list:
        return [given, opt, n, kw]
    """
    assert task.run(source) == 0
    assert task.outputs()["Output"] == ["yes", None, 7, "kw"]


def test_optional_parameters_given_values_are_coerced(task: Task) -> None:
    task.parameters = {"opt": 4.0, "union": 2.0}
    source = "def f(opt: Optional[int], union: int | None) -> list:\n    return [opt, union]\n"
    assert task.run(source) == 0
    assert same(task.outputs()["Output"], [4, 2])


def test_input_and_output_artifacts(task: Task) -> None:
    task.input_artifact("data", "rows")
    task.input_artifact("generic", "weights", schema="system.Model")
    model_file = task.output_artifact("model", "system.Model")
    source = """
    def f(data: Input[Dataset], generic: Input[Artifact], model: Output[Model]) -> str:
        write(model.path, read(data.path) + "+" + read(generic.path))
        model.metadata["epochs"] = 3
        model.framework = "torch"
        return " ".join(type(a).__name__ for a in (data, generic, model))
    """
    assert task.run(source) == 0
    assert model_file.read_text() == "rows+weights"
    assert task.outputs()["Output"] == "Dataset Model Model"
    assert task.output()["artifacts"] == {
        "model": {
            "artifacts": [
                {
                    "name": "model",
                    "uri": str(model_file),
                    "metadata": {"epochs": 3, "framework": "torch"},
                }
            ]
        }
    }


def test_a_list_of_input_artifacts_arrives_whole(task: Task) -> None:
    task.input_artifact("parts", "a", "b", "c")
    source = """
    def f(parts: Input[List[Dataset]]) -> str:
        return ",".join(f"{type(p).__name__}:{read(p.path)}:{p.metadata['index']}"
                        for p in parts)
    """
    assert task.run(source) == 0
    assert task.outputs()["Output"] == "Dataset:a:0,Dataset:b:1,Dataset:c:2"


def test_input_path_and_output_path_for_parameters(task: Task) -> None:
    task.parameters = {"text": "plain", "config": {"k": 1}}
    task.output_parameter("count", "label", "ratios")
    source = """
    import json

    def f(text: InputPath(str), config: InputPath(dict), count: OutputPath(int),
          label: OutputPath(str), ratios: OutputPath(List[float])):
        write(count, json.dumps(len(read(text))))
        write(label, read(config))
        write(ratios, "[1, 0.5]")
    """
    assert task.run(source) == 0
    # str is read back as-is, everything else as JSON; ints stay ints.
    assert same(task.outputs(), {"count": 5, "label": '{"k": 1}', "ratios": [1.0, 0.5]})


def test_input_path_and_output_path_for_artifacts(task: Task) -> None:
    task.input_artifact("data", "rows")
    out_file = task.output_artifact("copy", "system.Dataset")
    source = """
    def f(data: InputPath(Dataset), copy: OutputPath(Dataset)):
        write(copy, read(data) * 2)
    """
    assert task.run(source) == 0
    assert out_file.read_text() == "rowsrows"
    assert task.output()["artifacts"]["copy"]["artifacts"][0]["uri"] == str(out_file)


def test_named_tuple_fields_become_named_outputs(task: Task) -> None:
    task.parameters = {"xs": [1.0, 2.0]}
    model_file = task.output_artifact("model", "system.Model")
    source = """
    Outputs = NamedTuple("Outputs", [("total", int), ("name", str), ("model", Model)])

    def f(xs: List[int]) -> Outputs:
        return Outputs(sum(xs), "m", "model bytes")
    """
    assert task.run(source) == 0
    assert same(task.outputs(), {"total": 3, "name": "m"})
    assert model_file.read_text() == "model bytes"  # kfp: a returned value is the content


def test_returned_artifact_replaces_the_declared_one(task: Task) -> None:
    task.output_artifact("Output", "system.Dataset")
    source = """
    def f() -> Dataset:
        return Dataset(uri="/elsewhere/data", metadata={"rows": 10})
    """
    assert task.run(source) == 0
    entry = task.output()["artifacts"]["Output"]["artifacts"][0]
    assert entry == {"name": "Output", "uri": "/elsewhere/data", "metadata": {"rows": 10}}


def test_metrics_and_classification_metrics_keep_their_metadata(task: Task) -> None:
    task.output_artifact("metrics", "system.Metrics")
    task.output_artifact("cm", "system.ClassificationMetrics")
    source = """
    def f(metrics: Output[Metrics], cm: Output[ClassificationMetrics]):
        metrics.log_metric("accuracy", 0.9)
        metrics.log_metric("epochs", 4)
        cm.log_confusion_matrix(["cat", "dog"], [[8, 2], [1, 9]])
        cm.log_roc_data_point(fpr=0.1, tpr=0.8, threshold=0.5)
    """
    assert task.run(source) == 0
    artifacts = task.output()["artifacts"]
    assert same(artifacts["metrics"]["artifacts"][0]["metadata"], {"accuracy": 0.9, "epochs": 4})
    assert same(
        artifacts["cm"]["artifacts"][0]["metadata"],
        {
            "confusionMatrix": {
                "annotationSpecs": [{"displayName": "cat"}, {"displayName": "dog"}],
                "rows": [{"row": [8, 2]}, {"row": [1, 9]}],
            },
            "confidenceMetrics": [
                {"confidenceThreshold": 0.5, "recall": 0.8, "falsePositiveRate": 0.1}
            ],
        },
    )


def test_pipeline_task_final_status_is_built_from_its_struct(task: Task) -> None:
    task.parameters = {
        "status": {
            "state": "FAILED",
            "pipelineJobResourceName": "projects/p/pipelineJobs/run-1",
            "pipelineTaskName": "exit-handler-1",
            "error": {"code": 9.0, "message": "boom"},
        }
    }
    source = """
    def f(status: PipelineTaskFinalStatus) -> list:
        return [status.state, status.pipeline_job_resource_name, status.pipeline_task_name,
                status.error_code, status.error_message]
    """
    assert task.run(source) == 0
    assert same(
        task.outputs()["Output"],
        ["FAILED", "projects/p/pipelineJobs/run-1", "exit-handler-1", 9, "boom"],
    )


def test_string_annotations_are_resolved(task: Task) -> None:
    task.parameters = {"n": 2.0}
    task.input_artifact("data", "rows")
    out_file = task.output_artifact("out", "system.Dataset")
    source = """
    def f(n: "int", data: "InputPath('Dataset')", out: "Output[Dataset]") -> "Optional[int]":
        write(out.path, read(data))
        return n * 2
    """
    assert task.run(source) == 0
    assert same(task.outputs(), {"Output": 4})
    assert out_file.read_text() == "rows"


def test_a_wrong_return_type_fails_naming_function_and_output(
    task: Task, capsys: pytest.CaptureFixture[str]
) -> None:
    source = """
    def make_count() -> NamedTuple("Outputs", [("count", int)]):
        return ("three",)
    """
    assert task.run(source, "make_count") == 1
    err = capsys.readouterr().err
    assert "function 'make_count'" in err and "output 'count'" in err and "int" in err
    assert not task.output_file.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f():\n    return 1\n", "function 'f' returned int but its return annotation"),
        ("def f() -> str:\n    return None\n", "returned None for output 'Output'"),
        ("def f() -> Any:\n    return {1, 2}\n", "left output 'Output' not JSON-serialisable"),
        (
            "def f(m: Output[Metrics]):\n    m.metadata['s'] = {1}\n",
            "left the metadata of output artifact 'm' not JSON-serialisable",
        ),
    ],
)
def test_outputs_the_annotations_do_not_allow_fail_with_a_message(
    task: Task, capsys: pytest.CaptureFixture[str], source: str, message: str
) -> None:
    task.output_artifact("m", "system.Metrics")
    assert task.run(source) == 1
    assert message in capsys.readouterr().err
    assert not task.output_file.exists()


def test_an_output_path_parameter_left_unwritten_fails(
    task: Task, capsys: pytest.CaptureFixture[str]
) -> None:
    task.output_parameter("result")
    assert task.run("def f(result: OutputPath(int)):\n    pass\n") == 1
    assert "did not write output parameter 'result'" in capsys.readouterr().err


def test_user_exception_exits_1_with_its_traceback(
    task: Task, capsys: pytest.CaptureFixture[str]
) -> None:
    source = """
    def f(x: int = 1):
        raise ValueError(f"boom {x}")
    """
    assert task.run(source) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert 'raise ValueError(f"boom {x}")' in err  # the line of the user's source
    assert "ValueError: boom 1" in err
    assert "_Task" not in err  # the executor's own frames are left out
    assert not task.output_file.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ei: ei["outputs"].pop("outputFile"), "no 'outputs.outputFile'"),
        (lambda ei: ei.pop("outputs"), "no 'outputs'"),
        (lambda ei: ei["inputs"]["parameterValues"].pop("x"), "no 'inputs.parameterValues.x'"),
        (lambda ei: ei["inputs"]["artifacts"].pop("data"), "no 'inputs.artifacts.data'"),
        (lambda ei: ei["outputs"]["artifacts"].pop("model"), "no 'outputs.artifacts.model'"),
    ],
)
def test_a_missing_executor_input_key_exits_2_naming_it(
    task: Task, capsys: pytest.CaptureFixture[str], change: Any, message: str
) -> None:
    task.parameters = {"x": 1}
    task.input_artifact("data", "rows")
    task.output_artifact("model")
    executor_input = task.executor_input()
    change(executor_input)
    source = "def f(x: int, data: Input[Dataset], model: Output[Model]):\n    pass\n"
    assert task.run(source, executor_input=executor_input) == 2
    assert message in capsys.readouterr().err


def test_an_unsubstituted_placeholder_or_unknown_function_exits_2(
    task: Task, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--executor_input", "{{$}}", "--function_to_execute", "f", "--function_source", ""]
    assert executor.main(argv) == 2
    assert "--executor_input is not JSON" in capsys.readouterr().err
    assert task.run("def g():\n    pass\n", "f") == 2
    assert "defines no function named 'f'" in capsys.readouterr().err


def test_annotations_naming_classes_resolve_as_get_type_hints_resolves_them() -> None:
    # The runtime looks such names up itself rather than through typing.get_type_hints;
    # whatever it looks up, or leaves to get_type_hints, must come out the same.
    source = PRELUDE + textwrap.dedent(
        """
        import collections

        class Local: ...
        Alias = list[int]

        def plain(a: int, b: "str", c: Local, d: Dataset, *, e: Any = 1) -> float: ...
        def typed(a: List[int], b: Alias, c: collections.OrderedDict) -> Optional[int]: ...
        def none_default(a: int = None, b: Local = None) -> None: ...
        """
    )
    namespace: dict[str, Any] = {}
    # Compiled with this module's `from __future__ import annotations`, as a task's source
    # is with the runtime's: the annotations are strings.
    exec(compile(source, "<test>", "exec"), namespace)
    for name in ("plain", "typed", "none_default"):
        func = namespace[name]
        expected = typing.get_type_hints(func, namespace, include_extras=True)
        assert executor._type_hints(func, namespace) == expected, name


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_while_the_task_writes_exits_4_saying_so(
    task: Task, capsys: pytest.CaptureFixture[str]
) -> None:
    source = """
    def f():
        with open("/dev/full", "wb") as f:
            f.write(b"x" * (1 << 20))
    """
    assert task.run(source) == executor.EXIT_NO_SPACE == 4
    err = capsys.readouterr().err
    assert "OSError: [Errno 28] No space left on device" in err  # the user's traceback
    assert err.endswith(
        "dagyard executor: no space left on device: free space on the disk, then retry the run\n"
    )
    assert not task.output_file.exists()
