"""A TaskConfig passing KUBERNETES_VOLUMES through, in a pipeline with a workspace: the
task given the workspace's path hands on the workspace's claim (named after the run,
at /kfp-workspace) before its own claim, as KFP's driver adds it; the task not given
the path hands on its own claim only."""

from dagyard import dsl, kubernetes

VOLUMES = [dsl.TaskConfigField.KUBERNETES_VOLUMES]


@dsl.component(base_image="python:3.11", task_config_passthroughs=VOLUMES)
def hand_on(workspace: str, config: dsl.TaskConfig) -> str:
    import json

    return json.dumps([config.volumes, config.volume_mounts], sort_keys=True)


@dsl.component(base_image="python:3.11", task_config_passthroughs=VOLUMES)
def hand_on_claims(config: dsl.TaskConfig) -> str:
    import json

    return json.dumps([config.volumes, config.volume_mounts], sort_keys=True)


@dsl.pipeline(
    name="sdk-task-config-workspace",
    pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size="1Mi")),
)
def pipeline():
    given = hand_on(workspace=dsl.WORKSPACE_PATH_PLACEHOLDER)
    kubernetes.mount_pvc(given, pvc_name="shared-data", mount_path="/mnt/shared")
    alone = hand_on_claims()
    kubernetes.mount_pvc(alone, pvc_name="shared-data", mount_path="/mnt/shared")
