"""dsl.ParallelFor over task outputs, nested loops and loops over dict outputs.

A shard planner emits a list of shard ids and a list of dict specs; each shard is
processed for several augmentations (a nested loop), and each spec's sub-fields feed a
task inside a loop over a task output. (A sub-field called `name` would not work in
kfp: `item.name` is the channel's own name attribute.)
"""

from typing import Dict, List

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def plan_shards(n: int) -> List[int]:
    return list(range(n))


@dsl.component(base_image="python:3.11")
def plan_specs() -> List[Dict[str, str]]:
    return [{"label": "small", "size": "10"}, {"label": "large", "size": "1000"}]


@dsl.component(base_image="python:3.11")
def process_shard(shard: int, augmentation: str) -> str:
    return f"shard-{shard}-{augmentation}"


@dsl.component(base_image="python:3.11")
def build_spec(label: str, size: str, repeat: int) -> str:
    return f"{label}:{size}x{repeat}"


@dsl.pipeline(name="loops-dynamic-pipeline")
def pipeline(n: int = 3):
    shards = plan_shards(n=n)
    with dsl.ParallelFor(shards.output, parallelism=2) as shard:  # noqa: SIM117
        with dsl.ParallelFor(["flip", "crop"]) as augmentation:
            process_shard(shard=shard, augmentation=augmentation)

    specs = plan_specs()
    with dsl.ParallelFor(specs.output) as spec, dsl.ParallelFor([1, 2]) as repeat:
        build_spec(label=spec.label, size=spec.size, repeat=repeat)


ARGUMENTS = {"n": 2}
