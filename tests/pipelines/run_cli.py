"""Pipelines that tests/cli/test_cli_run.py runs through `dagyard run --function ...`.

- squares: a loop fanned back in; n=10 gives 385.
- typed: echoes the Python type and value of each parameter type.
- flaky: fails at `fragile` until the file `gate` exists; every task appends its label
  to `ledger`, so a retry shows what ran again.
- blocking: writes its pid to `pid_file`, then waits (for a file nobody creates).
"""

from typing import Dict, List

from dagyard import dsl


@dsl.component
def numbers(n: int) -> List[int]:
    return list(range(1, n + 1))


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def total(xs: List[int]) -> int:
    return sum(xs)


@dsl.pipeline(name="squares")
def squares(n: int = 4) -> int:
    items = numbers(n=n)
    with dsl.ParallelFor(items.output, parallelism=2) as x:
        squared = square(x=x)
    return total(xs=dsl.Collected(squared.output)).output


@dsl.component
def describe(
    count: int, ratio: float, flag: bool, items: List[int], mapping: Dict[str, int], text: str
) -> str:
    return " ".join(f"{type(v).__name__}={v!r}" for v in (count, ratio, flag, items, mapping, text))


@dsl.pipeline(name="typed")
def typed(
    count: int, ratio: float, flag: bool, items: List[int], mapping: Dict[str, int], text: str
) -> str:
    return describe(
        count=count, ratio=ratio, flag=flag, items=items, mapping=mapping, text=text
    ).output


@dsl.component
def step(ledger: str, label: str) -> str:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{label}\n".encode())
    os.close(fd)
    return label


@dsl.component
def fragile(ledger: str, gate: str) -> str:
    import os

    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, b"fragile\n")
    os.close(fd)
    if not os.path.exists(gate):
        raise RuntimeError(f"the gate {gate} is closed")
    return "through"


@dsl.pipeline(name="flaky")
def flaky(ledger: str, gate: str) -> str:
    first = step(ledger=ledger, label="first")
    step(ledger=ledger, label="side")
    middle = fragile(ledger=ledger, gate=gate).after(first)
    return step(ledger=ledger, label=middle.output).output


@dsl.component
def block(pid_file: str) -> str:
    import os
    import time

    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    deadline = time.monotonic() + 60
    while not os.path.exists(pid_file + ".go"):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody stopped this task")
        time.sleep(0.02)
    return "released"


@dsl.pipeline(name="blocking")
def blocking(pid_file: str) -> str:
    return block(pid_file=pid_file).output
