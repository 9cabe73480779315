"""Resource settings given by pipeline values: `set_memory_limit(param)`,
`set_cpu_limit(task.output)`, `set_accelerator_type(param)` and
`set_accelerator_limit(task.output)`.

kfp writes each as a placeholder in the executor's resources and passes the value in as
an extra task input named for the setting (`memory_limit`, ...), with no dependency on
the task that computes it; KFP's driver reads the placeholder's value when it builds the
pod (resolvePodSpecInputRuntimeParameter), and its backend adds the dependency
(addImplicitDependencies). Two tasks allocate memory under the limit the pipeline's
`memory` gives: the small one fits, the large one does not and fails, which only a
limit that reached the task can make happen.
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def pick_cpu() -> str:
    return "500m"


@dsl.component(base_image="python:3.11")
def pick_count() -> int:
    return 1


@dsl.component(base_image="python:3.11")
def allocate(mb: int) -> int:
    data = bytearray(mb * 1024 * 1024)
    for i in range(0, len(data), 4096):
        data[i] = 1
    return mb


@dsl.pipeline(name="sdk-resource-values")
def pipeline(memory: str = "1G", accelerator: str = "NVIDIA_TESLA_T4"):
    small = allocate(mb=8)
    small.set_memory_limit(memory).set_cpu_limit(pick_cpu().output)
    small.set_accelerator_type(accelerator).set_accelerator_limit(pick_count().output)
    large = allocate(mb=512)
    large.set_memory_limit(memory).set_cpu_request(pick_cpu().output)


ARGUMENTS = {"memory": "128M"}
