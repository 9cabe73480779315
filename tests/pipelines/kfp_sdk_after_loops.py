"""`.after()` on a task inside a `dsl.ParallelFor` from outside that loop, as kfp allows:
the dependency is on the loop, so the later task waits for every iteration.

Shards are prepared in a loop and merged after it; each shard's parts are scored in an
inner loop and summarised after them, inside the outer loop; a second loop publishes
after every preparation. kfp's compiler checks only the producer's outermost group
(compiler_utils.get_dependencies): a loop there is allowed for `.after()`, a condition
is not.
"""

from typing import List

from kfp import dsl


@dsl.component(base_image="python:3.11")
def step(name: str, index: int) -> str:
    return f"{name}-{index}"


@dsl.pipeline(name="sdk-after-loops")
def pipeline(shards: List[int] = [1, 2]):  # noqa: B006
    with dsl.ParallelFor(shards) as shard:
        prepared = step(name="prepare", index=shard)
    step(name="merge", index=0).after(prepared)
    with dsl.ParallelFor(shards) as shard:
        with dsl.ParallelFor([1, 2]) as part:
            scored = step(name="score", index=part)
        step(name="summarize", index=shard).after(scored)
    with dsl.ParallelFor(shards) as shard:
        step(name="publish", index=shard).after(prepared)


ARGUMENTS = {"shards": [3, 4]}
