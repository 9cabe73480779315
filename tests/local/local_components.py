"""Components and pipelines that the `dagyard.local` tests call directly."""

from __future__ import annotations

from typing import NamedTuple

from containers.images import TOOL_IMAGE

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Model, Output


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def halve(x: float) -> float:
    return x / 2


@dsl.component
def make_rows(n: int, rows: Output[Dataset]) -> None:
    with open(rows.path, "w") as f:
        f.write("".join(f"row {i}\n" for i in range(n)))
    rows.metadata["count"] = n


@dsl.component
def count_rows(rows: Input[Dataset]) -> int:
    with open(rows.path) as f:
        return len(f.read().splitlines())


@dsl.component
def train(rows: Input[Dataset], model: Output[Model]) -> NamedTuple(  # type: ignore[valid-type]
    "Trained", [("rows", int), ("loss", float)]
):
    from typing import NamedTuple

    with open(rows.path) as f:
        n = len(f.read().splitlines())
    with open(model.path, "w") as f:
        f.write(f"weights for {n} rows")
    model.metadata["framework"] = "counting"
    return NamedTuple("Trained", [("rows", int), ("loss", float)])(n, 1.0 / n)


@dsl.component
def explode(x: int) -> int:
    print(f"working on x={x}")
    print("about to fail")
    raise ValueError(f"x={x} is not allowed")


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def total(xs: list) -> int:  # type: ignore[type-arg]
    return sum(xs)


@dsl.component
def label(value: int, kind: str) -> str:
    return f"{kind}:{value}"


@dsl.component
def flaky(marker: str) -> str:
    """Fails while the file `marker` is missing, leaving it behind: so only the first
    attempt fails."""
    import pathlib

    path = pathlib.Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("the first attempt fails")
    return "ok"


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}:{status.pipeline_task_name}"


@dsl.pipeline
def sum_of_squares(xs: list[int]) -> int:
    with dsl.ParallelFor(xs, parallelism=2) as x:
        squared = square(x=x)
    return total(xs=dsl.Collected(squared.output)).output


@dsl.pipeline
def everything(xs: list[int], big: int, marker: str) -> str:
    """Every kind of control flow: an exit handler around a nested pipeline (a loop and its
    fan-in), a retried task, and an If/Elif/Else on the nested pipeline's output."""
    final = report()
    with dsl.ExitHandler(final):
        summed = sum_of_squares(xs=xs)
        flaky(marker=marker).set_retry(num_retries=2, backoff_duration="0s")
        with dsl.If(summed.output > big):
            large = label(value=summed.output, kind="large")
        with dsl.Elif(summed.output == big):
            equal = label(value=summed.output, kind="equal")
        with dsl.Else():
            small = label(value=summed.output, kind="small")
    return dsl.OneOf(large.output, equal.output, small.output)  # type: ignore[return-value]


@dsl.pipeline
def rows_then_count(n: int) -> int:
    return count_rows(rows=make_rows(n=n).outputs["rows"]).output


@dsl.pipeline
def fails_inside(x: int) -> None:
    add(a=x, b=1)
    explode(x=x)


@dsl.container_component
def echo_to(word: str, out: Output[Dataset]):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(
        image="alpine:3.20", command=["sh", "-c", 'printf "%s" "$0" > "$1"'], args=[word, out.path]
    )


@dsl.container_component
def copy_from_image(source: str, out: Output[Dataset]):  # type: ignore[no-untyped-def]
    """Copies a file of its image (the tests' tool image) out: succeeds only inside it."""
    return dsl.ContainerSpec(image=TOOL_IMAGE, command=["cp", source], args=[out.path])


@dsl.pipeline
def count_plus(rows: Input[Dataset], extra: int = 1) -> int:
    return add(a=count_rows(rows=rows).output, b=extra).output
