"""Values as KFP's driver and launcher hand them over (issue 16, the run defects).

Output parameter files are read by their declared type as KFP's launcher reads them: a
BOOLEAN file holding `True` (what `str(True)` writes), an integer with a line break after
it, a whole number for a float. A loop item's int, dict and float fields reach STRING
inputs as their JSON text. The exit task reads the group's end as KFP's driver names it:
`COMPLETE`.
"""

from kfp import dsl
from kfp.dsl import OutputPath, PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def write_flags(ok: OutputPath(bool), no: OutputPath(bool), count: OutputPath(int)):
    with open(ok, "w") as f:
        f.write(str(True))
    with open(no, "w") as f:
        f.write("F")
    with open(count, "w") as f:
        f.write("3\n")


@dsl.container_component
def shell_flags(ok: OutputPath(bool), ratio: OutputPath(float)):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'printf "TRUE\\n" > "$0" && printf " 2 " > "$1"'],
        args=[ok, ratio],
    )


@dsl.component(base_image="python:3.11")
def combine(ok: bool, no: bool, count: int, shell_ok: bool, ratio: float) -> str:
    return f"{ok!r} {no!r} {count!r} {shell_ok!r} {ratio!r}"


@dsl.component(base_image="python:3.11")
def plan() -> list:
    return [{"n": 110, "d": {"a": 1, "b": [2.5, True]}, "f": 0.5}]


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return f"{type(text).__name__}:{text}"


@dsl.component(base_image="python:3.11")
def final_state(status: PipelineTaskFinalStatus) -> str:
    return f"{status.state} {status.error_code} {status.error_message}"


@dsl.pipeline(name="run-values")
def pipeline():
    final = final_state()
    with dsl.ExitHandler(final):
        flags = write_flags()
        shell = shell_flags()
        combine(
            ok=flags.outputs["ok"],
            no=flags.outputs["no"],
            count=flags.outputs["count"],
            shell_ok=shell.outputs["ok"],
            ratio=shell.outputs["ratio"],
        )
        with dsl.ParallelFor(plan().output) as item:
            echo(text=item.n)
            echo(text=item.d)
            echo(text=item.f)
