"""Every kfp-kubernetes setting on small pipelines, written once for both SDKs:
`build(dsl, kubernetes)` makes the pipeline with kfp's (`kfp.dsl`, `kfp.kubernetes`) or
Dagyard's (`dagyard.dsl`, `dagyard.kubernetes`). Container components only, so that
nothing here depends on how either SDK reads a function's source.

`every_setting`: one task with every setting, with constants, a pipeline parameter and a
CreatePVC's output. `routed`: names that come from a task's output and from a pipeline
parameter inside a condition (kfp routes those into the sub-DAG), and a task used twice
with and without settings (each gets its own executor).
"""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
from typing import Any


def _echo(dsl: Any) -> Any:
    @dsl.container_component
    def echo(text: str, said: dsl.OutputPath(str)):  # type: ignore[valid-type]
        return dsl.ContainerSpec(
            image="alpine", command=["sh", "-c", 'printf %s "$0" > "$1"'], args=[text, said]
        )

    return echo


def every_setting(dsl: Any, kubernetes: Any) -> Any:
    echo = _echo(dsl)

    @dsl.pipeline(name="k8s-every-setting")
    def pipeline(secret: str = "db") -> None:
        pvc = kubernetes.CreatePVC(
            pvc_name_suffix="-work", access_modes=["ReadWriteOnce"], size="1Gi"
        )
        task = echo(text="a")
        kubernetes.use_secret_as_env(task, "db", {"password": "PASSWORD"})
        kubernetes.use_secret_as_env(task, secret, {"user": "DB_USER"}, optional=True)
        kubernetes.use_secret_as_volume(task, "db", mount_path="/etc/db")
        kubernetes.use_config_map_as_env(task, "settings", {"mode": "MODE"})
        kubernetes.use_config_map_as_volume(task, "settings", "/etc/settings", optional=True)
        kubernetes.mount_pvc(task, pvc.outputs["name"], mount_path="/data", sub_path="in")
        kubernetes.mount_pvc(task, "shared", mount_path="/shared")
        kubernetes.empty_dir_mount(task, "scratch", "/scratch", medium="Memory", size_limit="1Gi")
        kubernetes.add_ephemeral_volume(
            task, "eph", "/eph", access_modes=["ReadWriteOnce"], size="1Gi", labels={"a": "b"}
        )
        kubernetes.add_pod_label(task, "team", "ml")
        kubernetes.add_pod_annotation(task, "note", "hello")
        kubernetes.add_node_selector(task, "gpu", "a100")
        kubernetes.add_toleration(task, key="gpu", operator="Exists", effect="NoSchedule")
        kubernetes.add_toleration_json(task, [{"key": "k", "value": "v", "operator": "Equal"}])
        kubernetes.add_node_affinity(
            task, match_expressions=[{"key": "zone", "operator": "In", "values": ["a"]}], weight=5
        )
        kubernetes.add_node_affinity_json(
            task, {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}
        )
        kubernetes.set_timeout(task, 30)
        kubernetes.use_field_path_as_env(task, "POD_NAME", "metadata.name")
        kubernetes.set_image_pull_secrets(task, ["registry"])
        kubernetes.set_image_pull_policy(task, "IfNotPresent")
        kubernetes.set_security_context(task, run_as_user=1000, run_as_non_root=True)
        kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(task)

    return pipeline


def routed(dsl: Any, kubernetes: Any) -> Any:
    echo = _echo(dsl)

    @dsl.pipeline(name="k8s-routed")
    def pipeline(secret: str = "db", flag: str = "on") -> None:
        first = echo(text="db")
        second = echo(text="b")
        kubernetes.use_secret_as_env(second, first.outputs["said"], {"password": "PASSWORD"})
        with dsl.If(flag == "on"):
            third = echo(text="c")
            kubernetes.use_secret_as_volume(third, secret, mount_path="/etc/db")
            kubernetes.set_timeout(third, 5)

    return pipeline


PIPELINES = {"every_setting": every_setting, "routed": routed}


def _writer(dsl: Any) -> Any:
    @dsl.container_component
    def write(marker: str, said: dsl.OutputPath(str)):  # type: ignore[valid-type]
        # Leaves `marker` behind if it runs at all, and says what its settings gave it.
        return dsl.ContainerSpec(
            image="alpine",
            command=["sh", "-c", 'touch "$0"; printf "%s|%s" "$POD" "$NODE" > "$1"'],
            args=[marker, said],
        )

    return write


def timed(dsl: Any, kubernetes: Any) -> Any:
    """A task that would sleep for ten minutes, with a limit of one second."""

    @dsl.container_component
    def sleep():
        return dsl.ContainerSpec(image="alpine", command=["sleep", "600"])

    @dsl.pipeline(name="k8s-timed")
    def pipeline() -> None:
        kubernetes.set_timeout(sleep(), 1)

    return pipeline


def field_paths(dsl: Any, kubernetes: Any) -> Any:
    """Pod fields as variables, with settings one machine records only."""
    write = _writer(dsl)

    @dsl.pipeline(name="k8s-field-paths")
    def pipeline(marker: str) -> None:
        task = write(marker=marker)
        kubernetes.use_field_path_as_env(task, "POD", "metadata.name")
        kubernetes.use_field_path_as_env(task, "NODE", "spec.nodeName")
        kubernetes.add_pod_label(task, "team", "ml")
        kubernetes.add_node_selector(task, "gpu", "a100")
        kubernetes.use_secret_as_env(task, "absent", {"password": "PASSWORD"}, optional=True)

    return pipeline


def pod_metadata_fields(dsl: Any, kubernetes: Any) -> Any:
    """A task reading its own pod label and annotation, and one it lacks, through
    field paths."""

    @dsl.container_component
    def show(said: dsl.OutputPath(str)):  # type: ignore[valid-type]
        return dsl.ContainerSpec(
            image="alpine",
            command=["sh", "-c", 'printf "%s|%s|%s" "$TEAM" "$NOTE" "$ABSENT" > "$0"'],
            args=[said],
        )

    @dsl.pipeline(name="k8s-pod-metadata-fields")
    def pipeline() -> None:
        task = show()
        kubernetes.add_pod_label(task, "team", "ml")
        kubernetes.add_pod_annotation(task, "note", "hello world")
        kubernetes.use_field_path_as_env(task, "TEAM", "metadata.labels['team']")
        kubernetes.use_field_path_as_env(task, "NOTE", "metadata.annotations['note']")
        kubernetes.use_field_path_as_env(task, "ABSENT", "metadata.labels['absent']")

    return pipeline


def status_field(dsl: Any, kubernetes: Any) -> Any:
    """A task asking for a pod field one machine has no value for."""

    @dsl.container_component
    def show():
        return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$IP"'])

    @dsl.pipeline(name="k8s-status-field")
    def pipeline() -> None:
        kubernetes.use_field_path_as_env(show(), "IP", "status.podIP")

    return pipeline


def recorded_only(dsl: Any, kubernetes: Any) -> Any:
    """One task with every setting one machine records and warns of, and runs anyway
    (an empty dir needs a mount namespace, so it lives in a task that mounts nothing
    else: medium and size are what is warned of)."""
    echo = _echo(dsl)

    @dsl.pipeline(name="k8s-recorded-only")
    def pipeline() -> None:
        task = echo(text="a")
        kubernetes.add_pod_annotation(task, "note", "hello")
        kubernetes.add_toleration(task, key="gpu", operator="Exists", effect="NoSchedule")
        kubernetes.add_node_affinity(
            task, match_expressions=[{"key": "zone", "operator": "In", "values": ["a"]}]
        )
        kubernetes.set_image_pull_secrets(task, ["registry"])
        kubernetes.set_image_pull_policy(task, "IfNotPresent")
        kubernetes.set_security_context(task, run_as_user=1000)
        kubernetes.empty_dir_mount(task, "scratch", "/scratch", medium="Memory", size_limit="1Gi")

    return pipeline


def selector_json(dsl: Any, kubernetes: Any) -> Any:
    """A node selector from a pipeline parameter, over static labels."""
    echo = _echo(dsl)

    @dsl.pipeline(name="k8s-selector-json")
    def pipeline(selector: dict) -> None:  # type: ignore[type-arg]
        task = echo(text="a")
        kubernetes.add_node_selector(task, "gpu", "a100")
        kubernetes.add_node_selector_json(task, selector)

    return pipeline


def mounted(dsl: Any, kubernetes: Any) -> Any:
    """A task that expects a volume claim at a path."""
    write = _writer(dsl)

    @dsl.pipeline(name="k8s-mounted")
    def pipeline(marker: str) -> None:
        kubernetes.mount_pvc(write(marker=marker), "shared", mount_path="/data")

    return pipeline


def secret_env(dsl: Any, kubernetes: Any) -> Any:
    """A task that needs a secret's key as a variable."""
    write = _writer(dsl)

    @dsl.pipeline(name="k8s-secret-env")
    def pipeline(marker: str, secret: str = "db") -> None:
        kubernetes.use_secret_as_env(write(marker=marker), secret, {"password": "PASSWORD"})

    return pipeline
