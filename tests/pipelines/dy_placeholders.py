"""Run-time placeholders: job, task and root identifiers passed into tasks.

Every dsl.PIPELINE_*_PLACEHOLDER string goes into a Python component as a parameter and
some into a container component's command line, e.g. to tag a model with the run that
produced it.
"""

from dagyard import dsl


@dsl.component(base_image="python:3.11")
def tag_model(
    job_name: str,
    job_id: str,
    task_name: str,
    task_id: str,
    created_at: str,
    scheduled_at: str,
    root: str,
    resource_name: str,
) -> str:
    return "/".join(
        [job_name, job_id, task_name, task_id, created_at, scheduled_at, root, resource_name]
    )


@dsl.container_component
def echo_run(tag: str):
    return dsl.ContainerSpec(
        image="alpine:3.20",
        command=["echo"],
        args=[
            tag,
            dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
            dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
            dsl.ConcatPlaceholder(["root=", dsl.PIPELINE_ROOT_PLACEHOLDER]),
        ],
    )


@dsl.pipeline(name="placeholders-pipeline")
def pipeline():
    tagged = tag_model(
        job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        job_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        task_name=dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER,
        created_at=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        scheduled_at=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
        root=dsl.PIPELINE_ROOT_PLACEHOLDER,
        resource_name=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
    )
    echo_run(tag=tagged.output)
