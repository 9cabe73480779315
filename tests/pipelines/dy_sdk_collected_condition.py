"""`dsl.Collected` through conditions: values collected from a loop whose iterations
each run a task only if a condition holds, passed into a condition outside the loop,
and a pipeline output that "collects" a task inside a condition but in no loop.

kfp compiles the last one (it types the output a list) and KFP gives the task's own
value, if the condition let it run; Dagyard does the same. A task consuming such a
Collected is refused by both (see tests/compiler/test_kfp_sdk_gaps.py).
"""

from typing import List

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def double(num: int) -> int:
    return 2 * num


@dsl.component(base_image="python:3.11")
def add(nums: List[int]) -> int:
    return sum(nums)


@dsl.pipeline(name="sdk-collected-condition")
def pipeline(threshold: int = 2) -> List[int]:
    with dsl.ParallelFor([1, 2, 3]) as x:  # noqa: SIM117
        with dsl.If(x >= threshold):
            doubled = double(num=x)
    with dsl.If(threshold < 3):
        total = add(nums=dsl.Collected(doubled.output))
    return dsl.Collected(total.output)


ARGUMENTS = {"threshold": 2}
