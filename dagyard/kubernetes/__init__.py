"""Kubernetes settings of tasks, name-compatible with kfp-kubernetes 2.17.

    from dagyard import kubernetes
    task = train(...)
    kubernetes.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})
    kubernetes.mount_pvc(task, pvc.outputs["name"], mount_path="/data")

Each function writes the task's entry of the PlatformSpec that kfp-kubernetes writes
(`platforms.kubernetes.deploymentSpec.executors.<label>`), so a pipeline compiled with
either runs the same on Dagyard and on Kubeflow Pipelines. What Dagyard's engine honours
on one machine, and what it only records with a warning, is in docs/kubernetes.md.
Nothing here reads a cluster or a store.
"""

from dagyard.kubernetes.pod import (
    add_node_affinity,
    add_node_affinity_json,
    add_node_selector,
    add_node_selector_json,
    add_pod_annotation,
    add_pod_label,
    add_toleration,
    add_toleration_json,
    set_image_pull_policy,
    set_security_context,
    set_timeout,
    use_field_path_as_env,
)
from dagyard.kubernetes.secrets import (
    set_image_pull_secrets,
    use_config_map_as_env,
    use_config_map_as_volume,
    use_secret_as_env,
    use_secret_as_volume,
)
from dagyard.kubernetes.volumes import (
    CreatePVC,
    DeletePVC,
    add_ephemeral_volume,
    empty_dir_mount,
    mount_pvc,
)

__all__ = [
    "CreatePVC",
    "DeletePVC",
    "add_ephemeral_volume",
    "add_node_affinity",
    "add_node_affinity_json",
    "add_node_selector",
    "add_node_selector_json",
    "add_pod_annotation",
    "add_pod_label",
    "add_toleration",
    "add_toleration_json",
    "empty_dir_mount",
    "mount_pvc",
    "set_image_pull_policy",
    "set_image_pull_secrets",
    "set_security_context",
    "set_timeout",
    "use_config_map_as_env",
    "use_config_map_as_volume",
    "use_field_path_as_env",
    "use_secret_as_env",
    "use_secret_as_volume",
]
