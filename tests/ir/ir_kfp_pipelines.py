"""Pipelines written with the real kfp SDK, to check that dagyard.ir accepts kfp's IR.

Each entry of `PIPELINES` is something `kfp.compiler.Compiler().compile` accepts: a
pipeline, or a component compiled on its own. Together they cover the features of
kfp 2.17 that shape the IR: parameters and artifacts, conditions and OneOf, loops of
every kind, fan-in, exit handlers, nested pipelines, importers, container components,
compiler-injected inputs, caching, retries and platform config.

Every `@dsl.component` names its base image: kfp warns otherwise, and tests turn
warnings into errors. kfp reads the annotations at definition time and understands only
the `typing` spellings (`Optional[int]`, `List[int]`) and functional NamedTuples, and
nested `with` blocks mirror the nesting of kfp's task groups: hence the ruff exemptions.
"""
# ruff: noqa: UP006, UP014, UP035, UP045, SIM117

from typing import Any, Dict, List, NamedTuple, Optional

from kfp import compiler, components, dsl
from kfp.dsl import (
    Artifact,
    Dataset,
    Input,
    InputPath,
    Metrics,
    Model,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
)

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE)
def add(a: int, b: int = 2) -> int:
    return a + b


@dsl.component(base_image=IMAGE)
def echo(msg: str, n: Optional[int] = None) -> str:
    return msg


@dsl.component(base_image=IMAGE)
def make_dataset(n: int, out: Output[Dataset]) -> str:
    return str(n)


@dsl.component(base_image=IMAGE)
def read_dataset(ds: Input[Dataset], model: Optional[Input[Model]] = None) -> float:
    return 1.0


@dsl.component(base_image=IMAGE)
def train(ds: InputPath("Dataset"), model: OutputPath("Model"), metrics: Output[Metrics]):
    pass


@dsl.component(base_image=IMAGE)
def sum_all(xs: List[int]) -> int:
    return sum(xs)


@dsl.component(base_image=IMAGE)
def count_all(datasets: Input[List[Dataset]]) -> int:
    return len(datasets)


@dsl.component(base_image=IMAGE)
def rows() -> List[Dict[str, str]]:
    return [{"a": "1", "b": "x"}]


@dsl.component(base_image=IMAGE)
def flip() -> str:
    return "heads"


@dsl.component(base_image=IMAGE)
def fail(msg: str = "boom"):
    raise RuntimeError(msg)


@dsl.component(base_image=IMAGE)
def report(status: PipelineTaskFinalStatus, note: str = "done"):
    print(status.state, note)


@dsl.component(base_image=IMAGE)
def typed(
    i: int = 1,
    f: float = 2.5,
    s: str = "s",
    b: bool = True,
    xs: list = [1, 2],  # noqa: B006 - kfp reads the default from the signature
    d: dict = {"k": 1},  # noqa: B006
    opt: Optional[str] = None,
) -> NamedTuple("Outputs", [("total", float), ("label", str)]):
    outputs = NamedTuple("Outputs", [("total", float), ("label", str)])
    return outputs(i + f, s)


@dsl.container_component
def shell(name: str, out: dsl.OutputPath(str), maybe: Optional[str] = None):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'echo "$0" > "$1"'],
        args=[
            dsl.ConcatPlaceholder(["hello ", name]),
            out,
            dsl.IfPresentPlaceholder(input_name="maybe", then=["--maybe", maybe]),
        ],
    )


YAML_COMPONENT = components.load_component_from_text(
    """
name: upper
inputs:
- {name: text, type: String}
outputs:
- {name: result, type: String}
implementation:
  container:
    image: alpine:3
    command: [sh, -c, 'echo "$0" | tr a-z A-Z > "$1"', {inputValue: text}, {outputPath: result}]
"""
)


@dsl.pipeline(name="params-and-artifacts", description="Typed parameters, artifacts.")
def params_and_artifacts(
    x: int = 1, y: float = 2.5, s: str = "hi", flag: bool = True, opt: Optional[str] = None
) -> int:
    first = add(a=x)
    data = make_dataset(n=first.output)
    trained = train(ds=data.outputs["out"])
    read_dataset(ds=data.outputs["out"], model=trained.outputs["model"])
    typed(i=x, f=y, s=s, b=flag, opt=opt)
    return first.output


@dsl.pipeline
def conditions() -> str:
    coin = flip()
    number = add(a=3)
    with dsl.If(coin.output == "heads"):
        heads = echo(msg="heads")
        with dsl.If(number.output > 2, name="nested-if"):
            echo(msg="nested")
    with dsl.Elif(coin.output == "tails"):
        tails = echo(msg="tails")
    with dsl.Else():
        other = echo(msg="edge")
    chosen = dsl.OneOf(heads.output, tails.output, other.output)
    echo(msg=chosen)
    return chosen


@dsl.pipeline
def oneof_artifacts() -> Dataset:
    coin = flip()
    with dsl.If(coin.output == "heads"):
        a = make_dataset(n=1)
    with dsl.Else():
        b = make_dataset(n=2)
    chosen = dsl.OneOf(a.outputs["out"], b.outputs["out"])
    read_dataset(ds=chosen)
    return chosen


@dsl.pipeline
def loops(items: list = [1, 2, 3]) -> List[int]:  # noqa: B006
    with dsl.ParallelFor([1, 2, 3], parallelism=2) as raw_item:
        added = add(a=raw_item)
        made = make_dataset(n=raw_item)
    sum_all(xs=dsl.Collected(added.output))
    count_all(datasets=dsl.Collected(made.outputs["out"]))
    table = rows()
    with dsl.ParallelFor(table.output) as row:
        echo(msg=row.b)
        echo(msg=row.a)
    with dsl.ParallelFor(items) as item:
        with dsl.ParallelFor([{"a": 1, "b": 2}, {"a": 3, "b": 4}]) as pair:
            add(a=pair.a, b=pair.b)
            with dsl.If(item != "skip"):
                echo(msg=item)
    with dsl.ParallelFor([10, 20]) as outer_item:
        with dsl.ParallelFor([1, 2]) as inner_item:
            nested = add(a=outer_item, b=inner_item)
    return dsl.Collected(nested.output)


@dsl.pipeline
def each_dataset(datasets: Input[List[Dataset]]) -> List[float]:
    with dsl.ParallelFor(datasets) as dataset:
        size = read_dataset(ds=dataset)
    return dsl.Collected(size.output)


@dsl.pipeline
def artifact_loop():
    with dsl.ParallelFor([1, 2]) as i:
        made = make_dataset(n=i)
    each_dataset(datasets=dsl.Collected(made.outputs["out"]))


@dsl.pipeline
def exit_handlers(text: str = "x"):
    first_report = report(note="first")
    with dsl.ExitHandler(first_report, name="outer-handler"):
        echo(msg=text)
        fail()
    second_report = report()
    with dsl.ExitHandler(second_report):
        echo(msg="second")
    failing = fail(msg="upstream")
    cleanup = report(note="cleanup").after(failing)
    cleanup.ignore_upstream_failure()


@dsl.pipeline
def inner(n: int, label: str = "inner") -> NamedTuple("Out", [("total", int), ("data", Dataset)]):
    total = add(a=n)
    data = make_dataset(n=total.output)
    echo(msg=label)
    out = NamedTuple("Out", [("total", int), ("data", Dataset)])
    return out(total=total.output, data=data.outputs["out"])


@dsl.pipeline
def middle(n: int = 4) -> Dataset:
    nested = inner(n=n)
    add(a=nested.outputs["total"])
    return nested.outputs["data"]


@dsl.pipeline
def nested_pipelines(n: int = 5):
    data = middle(n=n)
    read_dataset(ds=data.output)
    with dsl.ParallelFor([1, 2]) as i:
        inner(n=i)


@dsl.pipeline
def importers(uri: str = "file:///tmp/data.csv"):
    constant = dsl.importer(
        artifact_uri="file:///tmp/model", artifact_class=Model, metadata={"version": 3}
    )
    from_param = dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=True)
    read_dataset(ds=from_param.output, model=constant.output)
    dsl.importer(artifact_uri=uri, artifact_class=Artifact, metadata={"source": uri})


@dsl.pipeline
def containers_and_injected_inputs(name: str = "w", image: str = "alpine:3", cpu: str = "1") -> str:
    shell(name=name)
    shell(name="x", maybe=name).set_display_name("with optional")
    upper = YAML_COMPONENT(text=f"hello {name} from {dsl.PIPELINE_JOB_NAME_PLACEHOLDER}")
    tagged = echo(msg=f"prefix-{upper.outputs['result']}-{dsl.PIPELINE_TASK_ID_PLACEHOLDER}")
    tagged.set_container_image(image).set_cpu_limit(cpu).set_memory_request("1G")
    tagged.set_env_variable("MODE", "test").set_accelerator_type("nvidia.com/gpu")
    with dsl.ParallelFor([1, 2]) as i:
        echo(msg="loop", n=i).set_container_image(image)
    return tagged.output


@dsl.pipeline(pipeline_root="file:///tmp/dagyard-root")
def task_options(x: int = 1):
    cached = add(a=x).set_caching_options(enable_caching=True, cache_key="my-key")
    uncached = add(a=cached.output).set_caching_options(False)
    retried = fail().set_retry(
        num_retries=3, backoff_duration="5s", backoff_factor=2.0, backoff_max_duration="60s"
    )
    echo(msg="after").after(uncached, retried)


@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Gi")))
def with_platform_config(x: int = 1):
    add(a=x)


PIPELINES: dict[str, Any] = {
    "params_and_artifacts": params_and_artifacts,
    "conditions": conditions,
    "oneof_artifacts": oneof_artifacts,
    "loops": loops,
    "artifact_loop": artifact_loop,
    "exit_handlers": exit_handlers,
    "nested_pipelines": nested_pipelines,
    "importers": importers,
    "containers_and_injected_inputs": containers_and_injected_inputs,
    "task_options": task_options,
    "with_platform_config": with_platform_config,
    "component_python": add,
    "component_artifacts": train,
    "component_container": shell,
    "component_yaml": YAML_COMPONENT,
    "pipeline_as_component": inner,
}


def compile_to_text(name: str, directory: str) -> str:
    """Compile `PIPELINES[name]` with kfp into `directory` and return the YAML text."""
    path = f"{directory}/{name}.yaml"
    compiler.Compiler().compile(PIPELINES[name], package_path=path)
    with open(path, encoding="utf-8") as f:
        return f.read()
