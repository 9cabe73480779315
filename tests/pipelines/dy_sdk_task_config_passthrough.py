"""`dsl.TaskConfig` inputs and `task_config_passthroughs`: a task hands its own settings
on to a workload it would start, instead of (or as well as) using them itself.

`launch` passes its resources and its variables through without applying them (a bare
`TaskConfigField` means apply_to_task=False): it reports what its TaskConfig holds and
whether the variables reached its own process (one from a secret that does not exist,
handed on by reference). `launch_with_env` also applies the
variables to itself (apply_to_task=True). `describe` declares no passthrough: its
TaskConfig arrives empty. `place` passes its node selector, tolerations and node
affinity through, and its volume claim and secret volume: a local task is placed by
none of them, warned of none, and sees no volume mounted.
KFP's driver builds the TaskConfig while it patches the pod (initPodSpecPatch,
getTaskConfigOptions, extendPodSpecPatch) and gives it to every TASK_CONFIG input.
"""

from dagyard import dsl, kubernetes


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[dsl.TaskConfigField.RESOURCES, dsl.TaskConfigField.ENV],
)
def launch(workers: int, config: dsl.TaskConfig) -> str:
    import json
    import os

    seen = {
        "resources": config.resources,
        "env": config.env,
        "node_selector": config.node_selector,
        "own_env": os.environ.get("TRAINER_MODE", "<unset>"),
        "own_token": os.environ.get("TRAINER_TOKEN", "<unset>"),
        "workers": workers,
    }
    return json.dumps(seen, sort_keys=True)


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[
        dsl.TaskConfigPassthrough(field=dsl.TaskConfigField.ENV, apply_to_task=True),
    ],
)
def launch_with_env(config: dsl.TaskConfig) -> str:
    import json
    import os

    return json.dumps(
        {
            "env": config.env,
            "resources": config.resources,
            "own_env": os.environ.get("TRAINER_MODE"),
        },
        sort_keys=True,
    )


@dsl.component(base_image="python:3.11")
def describe(config: dsl.TaskConfig) -> str:
    import dataclasses
    import json

    return json.dumps(dataclasses.asdict(config), sort_keys=True)


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[
        dsl.TaskConfigField.KUBERNETES_NODE_SELECTOR,
        dsl.TaskConfigField.KUBERNETES_TOLERATIONS,
        dsl.TaskConfigField.KUBERNETES_AFFINITY,
        dsl.TaskConfigField.KUBERNETES_VOLUMES,
    ],
)
def place(config: dsl.TaskConfig) -> str:
    import json
    import os

    placement = [config.node_selector, config.tolerations, config.affinity]
    volumes = [config.volumes, config.volume_mounts, os.path.exists("/mnt/shared")]
    return json.dumps(placement + volumes, sort_keys=True)


@dsl.pipeline(name="sdk-task-config-passthrough")
def pipeline(workers: int = 2):
    task = launch(workers=workers)
    task.set_cpu_request("500m")
    task.set_cpu_limit("2")
    task.set_memory_limit("1Gi")
    task.set_env_variable(name="TRAINER_MODE", value="distributed")
    # Handed on as references: the secret need not exist for this task to run.
    kubernetes.use_secret_as_env(
        task, secret_name="trainer-token", secret_key_to_env={"token": "TRAINER_TOKEN"}
    )
    kubernetes.use_field_path_as_env(task, env_name="POD_NAME", field_path="metadata.name")
    with_env = launch_with_env()
    with_env.set_env_variable(name="TRAINER_MODE", value="local")
    describe()
    placed = place()
    kubernetes.add_node_selector(placed, label_key="accelerator", label_value="a100")
    kubernetes.add_toleration(placed, key="gpu", operator="Exists", effect="NoSchedule")
    kubernetes.add_node_affinity(
        placed, match_expressions=[{"key": "zone", "operator": "In", "values": ["a", "b"]}]
    )
    kubernetes.add_node_affinity(
        placed,
        match_expressions=[{"key": "spot", "operator": "DoesNotExist"}],
        weight=20,
    )
    kubernetes.mount_pvc(placed, pvc_name="shared-data", mount_path="/mnt/shared")
    kubernetes.use_secret_as_volume(
        placed, secret_name="trainer-token", mount_path="/mnt/token", optional=True
    )


ARGUMENTS = {"workers": 3}
