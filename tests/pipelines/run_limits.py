"""Pipelines with memory and CPU limits, for tests/faults/test_task_limits.py.

- forked_64m / execd_64m: a task limited to 64 MB (`set_memory_limit("64M")`) that
  allocates and touches `mb` MiB: a lightweight component (forked from the zygote) and a
  container component running this Python (exec'd).
- requested_64m: the same lightweight task with a memory request, not a limit.
- half_cpu: a task limited to half a CPU (`set_cpu_limit("0.5")`) that writes its pid to
  `pid_file` and waits until `release_file` exists.
"""

import sys

from dagyard import dsl

HOG = """
import sys
data = bytearray(int(sys.argv[1]) * 1024 * 1024)
for i in range(0, len(data), 4096):
    data[i] = 1
print("allocated", len(data))
"""


@dsl.component
def hog(mb: int) -> int:
    data = bytearray(mb * 1024 * 1024)
    for i in range(0, len(data), 4096):
        data[i] = 1
    return len(data)


@dsl.container_component
def hog_execd(mb: int):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(image="python:3.11", command=[sys.executable, "-c", HOG], args=[mb])


@dsl.component
def hold(pid_file: str, release_file: str) -> str:
    import os
    import time

    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    end = time.monotonic() + 120
    while not os.path.exists(release_file) and time.monotonic() < end:
        time.sleep(0.01)
    return "released"


@dsl.pipeline
def forked_64m(mb: int) -> None:
    hog(mb=mb).set_memory_limit("64M").set_caching_options(False)


@dsl.pipeline
def execd_64m(mb: int) -> None:
    hog_execd(mb=mb).set_memory_limit("64M").set_caching_options(False)


@dsl.pipeline
def requested_64m(mb: int) -> None:
    hog(mb=mb).set_memory_request("64M").set_caching_options(False)


@dsl.pipeline
def half_cpu(pid_file: str, release_file: str) -> None:
    task = hold(pid_file=pid_file, release_file=release_file)
    task.set_cpu_limit("0.5").set_caching_options(False)
