"""One component used by many tasks, to exercise component de-duplication.

kfp emits comp-add, comp-add-2, comp-add-3 ... with identical bodies; dagyard emits one
component and one executor per distinct component. Tasks that override the image or
resources make a distinct executor on purpose.
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def add(a: int, b: int = 1) -> int:
    return a + b


@dsl.container_component
def echo(message: str):
    return dsl.ContainerSpec(image="alpine:3.20", command=["echo"], args=[message])


@dsl.pipeline(name="dedup-pipeline")
def pipeline(start: int = 1) -> int:
    first = add(a=start)
    second = add(a=first.output, b=2)
    third = add(a=second.output, b=3)
    echo(message="first")
    echo(message="second").after(third)
    bigger = add(a=third.output)
    bigger.set_memory_limit("2G")
    slim = add(a=bigger.output)
    slim.set_container_image("python:3.11-slim")
    return add(a=slim.output).output


ARGUMENTS = {"start": 10}
