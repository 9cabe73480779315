"""A first pipeline: square some numbers in parallel, add them up, and report."""

from dagyard import dsl
from dagyard.dsl import Markdown, Output


@dsl.component
def square(x: int) -> int:
    """The square of x."""
    return x * x


@dsl.component
def add_up(values: list[int]) -> int:
    """The sum of a list of integers."""
    return sum(values)


@dsl.component
def report(total: int, page: Output[Markdown]) -> str:
    """Write a short Markdown report of the total."""
    with open(page.path, "w") as f:
        f.write(f"# Sum of squares\n\nThe total is **{total}**.\n")
    return f"total={total}"


@dsl.pipeline(name="hello-dagyard", description="Squares in parallel, then a sum and a report.")
def hello(numbers: list[int] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) -> int:  # noqa: B006
    with dsl.ParallelFor(numbers, parallelism=4) as n:
        squared = square(x=n)
    total = add_up(values=dsl.Collected(squared.output))
    with dsl.If(total.output > 100, name="big-total"):
        report(total=total.output)
    return total.output  # type: ignore[return-value]  # a channel stands for the int
