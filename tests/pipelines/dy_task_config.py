"""PipelineTask settings: ordering, caching, retries, resources, env, names, images.

Covers .after, set_caching_options (with and without cache_key), set_retry,
set_cpu_request/limit, set_memory_request/limit, set_accelerator_type/limit,
set_env_variable, set_display_name, set_container_image (constant and from a pipeline
parameter) and ignore_upstream_failure.
"""

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def prepare(source: str) -> str:
    return source.upper()


@dsl.component(base_image="python:3.11")
def train(data: str, epochs: int = 1) -> str:
    import os

    return f"{data}:{epochs}:{os.environ.get('WANDB_MODE', 'online')}"


@dsl.component(base_image="python:3.11")
def flaky_eval(model: str) -> float:
    import random

    if random.random() < 0.3:
        raise RuntimeError("transient failure")
    return 0.7


@dsl.component(base_image="python:3.11")
def report(message: str = "done"):
    print(message)


@dsl.pipeline(name="task-config-pipeline")
def pipeline(source: str = "s3://bucket/data", eval_image: str = "python:3.12"):
    prepared = prepare(source=source)
    prepared.set_caching_options(False)
    prepared.set_display_name("Prepare data")

    trained = train(data=prepared.output, epochs=2)
    trained.set_caching_options(enable_caching=True, cache_key="train-v1")
    trained.set_cpu_request("500m").set_cpu_limit("2")
    trained.set_memory_request("256Mi").set_memory_limit("1G")
    trained.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    trained.set_env_variable("WANDB_MODE", "offline")
    trained.set_env_variable("OMP_NUM_THREADS", "1")
    trained.set_retry(num_retries=2)

    evaluated = flaky_eval(model=trained.output)
    evaluated.set_retry(
        num_retries=3,
        backoff_duration="1s",
        backoff_factor=1.5,
        backoff_max_duration="10s",
    )
    evaluated.set_container_image("python:3.11-slim")

    dynamic = flaky_eval(model="baseline")
    dynamic.set_container_image(eval_image)

    first = report(message="start")
    second = report().after(first, prepared)
    second.set_display_name("Report after start")

    final = report(message="always")
    final.after(evaluated)
    final.ignore_upstream_failure()


ARGUMENTS = {"source": "file:///tmp/data"}
