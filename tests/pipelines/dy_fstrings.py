"""f-strings over task outputs and pipeline parameters passed as task inputs.

kfp compiles an f-string into a constant holding `{{$.inputs.parameters['...']}}`
references and injects each referenced channel as an extra task input. Covered at the
root, inside a condition and inside a loop.
"""

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def model_name(family: str) -> str:
    return f"{family}-v1"


@dsl.component(base_image="python:3.11")
def accuracy(model: str) -> float:
    return 0.9 if model else 0.0


@dsl.component(base_image="python:3.11")
def log_line(line: str):
    print(line)


@dsl.pipeline(name="fstrings-pipeline")
def pipeline(project: str = "iris", family: str = "forest"):
    name = model_name(family=family)
    score = accuracy(model=name.output)
    log_line(line=f"{project}/{name.output}: accuracy={score.output}")
    with dsl.If(score.output > 0.5):
        log_line(line=f"{name.output} is good enough for {project}")
    with dsl.ParallelFor(["train", "test"]) as split:
        log_line(line=f"{project}:{split}:{name.output}")
