"""Container components: shell steps wired with path, artifact and value placeholders.

Covers @dsl.container_component returning dsl.ContainerSpec with OutputPath parameters
(read back as values downstream), Input[...]/Output[...] artifact placeholders (.path,
.uri, .metadata), value placeholders, dsl.IfPresentPlaceholder (with and without else)
and dsl.ConcatPlaceholder. kfp rejects InputPath in container components ("not a
parameter type"), so InputPath is covered by kfp_artifacts.py and kfp_loaded.py.
"""

from typing import Optional

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Model, Output, OutputPath


@dsl.container_component
def download(url: str, rows: OutputPath(int), data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c"],
        args=[
            'mkdir -p "$(dirname "$2")" && printf "a,b\\n1,2\\n" > "$2" && '
            'echo "$0" > /dev/null && mkdir -p "$(dirname "$1")" && echo 1 > "$1"',
            url,
            rows,
            data.path,
        ],
    )


@dsl.container_component
def fit(
    data: Input[Dataset],
    rows: int,
    model: Output[Model],
    log_path: OutputPath(str),
    learning_rate: float = 0.1,
    optimizer: Optional[str] = None,
):
    return dsl.ContainerSpec(
        image="python:3.11-slim",
        command=["python", "-c", "import sys; print(sys.argv)"],
        args=[
            "--data",
            data.path,
            "--data-uri",
            data.uri,
            "--rows",
            rows,
            "--model",
            model.path,
            "--log",
            log_path,
            dsl.ConcatPlaceholder(["--lr=", learning_rate]),
            dsl.IfPresentPlaceholder(
                input_name="optimizer",
                then=["--optimizer", optimizer],
                else_=["--optimizer", "sgd"],
            ),
        ],
    )


@dsl.container_component
def publish(model: Input[Model], log_text: str, tag: Optional[str] = None):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'echo "$0" && ls -l "$1"'],
        args=[
            log_text,
            model.path,
            dsl.ConcatPlaceholder(["model-", model.metadata["framework"], ".tar"]),
            dsl.IfPresentPlaceholder(
                input_name="tag", then=[dsl.ConcatPlaceholder(["--tag=", tag])]
            ),
        ],
    )


@dsl.pipeline(name="containers-pipeline")
def pipeline(url: str = "https://example.com/iris.csv", optimizer: Optional[str] = None):
    fetched = download(url=url)
    fitted = fit(
        data=fetched.outputs["data"],
        rows=fetched.outputs["rows"],
        learning_rate=0.05,
        optimizer=optimizer,
    )
    publish(model=fitted.outputs["model"], log_text=fitted.outputs["log_path"], tag="v1")
    publish(model=fitted.outputs["model"], log_text=fitted.outputs["log_path"])


ARGUMENTS = {"optimizer": "adam"}
