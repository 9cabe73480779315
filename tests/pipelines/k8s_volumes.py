"""Secrets, config maps, volume claims and empty dirs on small pipelines, written once for
both SDKs: `build(dsl, kubernetes)` makes the pipeline with kfp's or Dagyard's. Container
components only (`sh`), so that nothing here depends on how either SDK reads a
function's source. A task says what it saw by a digest, never a secret itself."""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
from typing import Any


def _shell(dsl: Any, name: str, script: str) -> Any:
    def task(said: dsl.OutputPath(str)):  # type: ignore[valid-type]
        return dsl.ContainerSpec(image="alpine", command=["sh", "-c", script, name, said])

    task.__name__ = task.__qualname__ = name  # the component's (and its task's) name
    return dsl.container_component(task)


def secrets(dsl: Any, kubernetes: Any) -> Any:
    """A secret as a variable and as files, a config map as a variable."""
    read = _shell(
        dsl,
        "read",
        'printf "%s|%s|%s|%s" "$(printf %s "$PASSWORD" | sha256sum | cut -c1-16)" '
        '"$(cat /etc/db/password | sha256sum | cut -c1-16)" "$(ls /etc/db | tr "\\n" ,)" '
        '"$MODE" > "$1"',
    )

    @dsl.pipeline(name="k8s-secrets")
    def pipeline(secret: str = "db") -> None:
        task = read()
        kubernetes.use_secret_as_env(task, secret, {"password": "PASSWORD"})
        kubernetes.use_secret_as_volume(task, secret, mount_path="/etc/db")
        kubernetes.use_config_map_as_env(task, "settings", {"mode": "MODE"})

    return pipeline


def secrets_labelled(dsl: Any, kubernetes: Any) -> Any:
    """`secrets`, with a pod label one machine records with a warning."""
    read = _shell(
        dsl,
        "read",
        'printf "%s|%s" "$(printf %s "$PASSWORD" | sha256sum | cut -c1-16)" '
        '"$(cat /etc/db/password | sha256sum | cut -c1-16)" > "$1"; echo "read the secret"',
    )

    @dsl.pipeline(name="k8s-secrets-labelled")
    def pipeline(secret: str = "db") -> None:
        task = read()
        kubernetes.use_secret_as_env(task, secret, {"password": "PASSWORD"})
        kubernetes.use_secret_as_volume(task, secret, mount_path="/etc/db")
        kubernetes.add_pod_label(task, "team", "ml")

    return pipeline


def claim_written(dsl: Any, kubernetes: Any) -> Any:
    """CreatePVC, one task writing /mnt/data/note, another reading it."""
    write = _shell(dsl, "write", 'echo hello > /mnt/data/note && printf ok > "$1"')
    read = _shell(dsl, "read", 'cat /mnt/data/note > "$1"')

    @dsl.pipeline(name="k8s-claim-written")
    def pipeline() -> None:
        pvc = kubernetes.CreatePVC(
            pvc_name="shared-data", access_modes=["ReadWriteOnce"], size="1Gi"
        )
        writer = write()
        kubernetes.mount_pvc(writer, pvc.outputs["name"], mount_path="/mnt/data")
        reader = read().after(writer)
        kubernetes.mount_pvc(reader, pvc.outputs["name"], mount_path="/mnt/data")

    return pipeline


def claim_read_then_deleted(dsl: Any, kubernetes: Any) -> Any:
    """A later run: reads the claim of `claim_written`, then deletes it."""
    read = _shell(dsl, "read", 'cat /mnt/data/note > "$1"')

    @dsl.pipeline(name="k8s-claim-deleted")
    def pipeline() -> None:
        reader = read()
        kubernetes.mount_pvc(reader, "shared-data", mount_path="/mnt/data")
        kubernetes.DeletePVC(pvc_name="shared-data").after(reader)

    return pipeline


def scratch(dsl: Any, kubernetes: Any) -> Any:
    """An empty dir at /scratch: empty when the task starts, writable."""
    use = _shell(
        dsl,
        "use",
        'n=$(ls -A /scratch | wc -l); echo "$n" > /scratch/count && cat /scratch/count > "$1"',
    )

    @dsl.pipeline(name="k8s-scratch")
    def pipeline() -> None:
        kubernetes.empty_dir_mount(use(), "scratch", "/scratch")

    return pipeline


def scratch_relative(dsl: Any, kubernetes: Any) -> Any:
    """The empty dir of `scratch` at the mount path "scratch", which is not absolute."""
    use = _shell(
        dsl,
        "use",
        'n=$(ls -A /scratch | wc -l); echo "$n" > /scratch/count && cat /scratch/count > "$1"',
    )

    @dsl.pipeline(name="k8s-scratch-relative")
    def pipeline() -> None:
        kubernetes.empty_dir_mount(use(), "scratch", "scratch")

    return pipeline
