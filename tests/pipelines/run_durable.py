"""The crash-test pipeline: a chain, a loop fanned back in with dsl.Collected (parameters
and artifacts), a sub-DAG returning an artifact, and a condition with a skipped branch.

Every task appends one line `<label> <task id> <pid>` to the file `ledger` (O_APPEND, one
write), so a test counts how often each task really ran. The task named by `hold` waits,
after writing its line, until the file `<ledger>.go` exists: a test can kill the run at
that exact point. With n=4 the run's output is "big:30 done".
"""

from typing import List

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Output

TASK_ID = dsl.PIPELINE_TASK_ID_PLACEHOLDER


@dsl.component
def seed(ledger: str, task_id: str, n: int) -> List[int]:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"seed {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    return list(range(1, n + 1))


@dsl.component
def square(ledger: str, task_id: str, x: int, part: Output[Dataset]) -> int:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"square-{x} {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    with open(part.path, "w") as f:
        f.write(str(x * x))
    return x * x


@dsl.component
def total(ledger: str, task_id: str, hold: str, xs: List[int], parts: Input[List[Dataset]]) -> int:
    import os
    import time

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"total {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    deadline = time.monotonic() + 60
    while hold == "total" and not os.path.exists(ledger + ".go"):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody created " + ledger + ".go")
        time.sleep(0.02)
    from_files = []
    for part in parts:
        with open(part.path) as f:
            from_files.append(int(f.read()))
    if len(parts) != len(xs) or sorted(from_files) != sorted(xs):
        raise ValueError(f"collected files {from_files} do not match values {xs}")
    return sum(xs)


@dsl.component
def render(ledger: str, task_id: str, value: int, report: Output[Dataset]) -> None:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"render {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    with open(report.path, "w") as f:
        f.write(f"total={value}\n")


@dsl.component
def check(ledger: str, task_id: str, hold: str, report: Input[Dataset]) -> int:
    import os
    import time

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"check {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    deadline = time.monotonic() + 60
    while hold == "check" and not os.path.exists(ledger + ".go"):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody created " + ledger + ".go")
        time.sleep(0.02)
    with open(report.path) as f:
        return int(f.read().strip().split("=")[1])


@dsl.component
def verdict(ledger: str, task_id: str, label: str, value: int) -> str:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{label} {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    return f"{label}:{value}"


@dsl.component
def finish(ledger: str, task_id: str, result: str) -> str:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"finish {task_id} {os.getpid()}\n".encode())
    os.close(fd)
    return result + " done"


@dsl.pipeline(name="durable-publish")
def _publish(ledger: str, value: int) -> Dataset:
    return render(ledger=ledger, task_id=TASK_ID, value=value).outputs["report"]


@dsl.pipeline(name="durable")
def pipeline(ledger: str, n: int = 4, hold: str = "") -> str:
    numbers = seed(ledger=ledger, task_id=TASK_ID, n=n)
    with dsl.ParallelFor(numbers.output, parallelism=2) as x:
        squared = square(ledger=ledger, task_id=TASK_ID, x=x)
    summed = total(
        ledger=ledger,
        task_id=TASK_ID,
        hold=hold,
        xs=dsl.Collected(squared.outputs["Output"]),
        parts=dsl.Collected(squared.outputs["part"]),
    )
    published = _publish(ledger=ledger, value=summed.output)
    checked = check(ledger=ledger, task_id=TASK_ID, hold=hold, report=published.output)
    with dsl.If(checked.output > 20):
        big = verdict(ledger=ledger, task_id=TASK_ID, label="big", value=checked.output)
    with dsl.Else():
        small = verdict(ledger=ledger, task_id=TASK_ID, label="small", value=checked.output)
    return finish(ledger=ledger, task_id=TASK_ID, result=dsl.OneOf(big.output, small.output)).output
