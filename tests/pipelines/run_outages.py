"""Pipelines of the store outage tests (tests/faults/test_store_outages.py): steps that
note when they start in a journal file (one line each, so that a test can count how
often each ran), a step held until a gate file exists, and a command that writes
nothing at all (it can end on a full disk)."""

from dagyard import dsl


@dsl.component
def step(journal: str, name: str, seconds: float) -> str:
    import time

    with open(journal, "a") as notes:
        notes.write(f"start {name}\n")
    time.sleep(seconds)  # the task's work: long enough for faults to land meanwhile
    with open(journal, "a") as notes:
        notes.write(f"end {name}\n")
    return name


@dsl.pipeline
def six_steps(journal: str, seconds: float = 0.4) -> None:
    a = step(journal=journal, name="a", seconds=seconds)
    b = step(journal=journal, name="b", seconds=seconds).after(a)
    c = step(journal=journal, name="c", seconds=seconds).after(a)
    d = step(journal=journal, name="d", seconds=seconds).after(b, c)
    step(journal=journal, name="e", seconds=seconds).after(d)
    step(journal=journal, name="f", seconds=seconds).after(d)


@dsl.component
def hold(journal: str, name: str, gate: str) -> None:
    import os
    import time

    if journal:
        with open(journal, "a") as notes:
            notes.write(f"start {name} {os.getpid()}\n")
    while not os.path.exists(gate):
        time.sleep(0.02)


@dsl.pipeline
def held_in_the_middle(journal: str, gate: str) -> None:
    a = step(journal=journal, name="a", seconds=0.0)
    b = hold(journal=journal, name="b", gate=gate).after(a)
    step(journal=journal, name="c", seconds=0.0).after(b)


@dsl.container_component
def wait_quietly(gate: str):
    # A command that writes nothing at all: it can end on a full disk.
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.02; done'],
        args=[gate],
    )


@dsl.pipeline
def gated(gate: str) -> None:
    wait_quietly(gate=gate)


@dsl.component
def produce_when(gate: str, data: dsl.Output[dsl.Dataset]) -> None:
    import os
    import time

    while not os.path.exists(gate):
        time.sleep(0.02)
    with open(data.path, "w") as out:
        out.write("rows")


@dsl.pipeline
def held_beside_a_producer(journal: str, gate: str, go: str) -> None:
    hold(journal=journal, name="held", gate=gate)
    produce_when(gate=go)
