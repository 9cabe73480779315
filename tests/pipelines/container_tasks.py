"""Pipelines whose tasks can only succeed inside the tests' tool image
(tests/containers/images.py): they read the file only that image has, or run the tool only
it has. Written with the real kfp (container components, lightweight components,
kfp-kubernetes), except `dagyard_marker`, Dagyard's own lightweight component.

The lightweight components' bodies name the marker's path literally: their source runs
in the image, where this module's names are not.
"""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
from containers.images import MARKER_PATH, TOOL_IMAGE
from kfp import dsl, kubernetes

from dagyard import dsl as dagyard_dsl

MISSING_IMAGE = "localhost/dagyard-no-such-image:1"
# A host variable the tests set, which a task in its image must not see.
HOST_ONLY = "DAGYARD_TEST_HOST_ONLY"
SLEEPING = "sleeping in the image"


@dsl.container_component
def read_marker(marker: dsl.Output[dsl.Artifact]):
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat "$0" > "$1"'],
        args=[MARKER_PATH, marker.path],
    )


@dsl.container_component
def use_tool(marker: dsl.Input[dsl.Artifact], said: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'dagyard-tool "$(cat "$0")" "$1"'],
        args=[marker.path, said],
    )


@dsl.pipeline(name="marker-then-tool")
def marker_then_tool() -> None:
    use_tool(marker=read_marker().outputs["marker"])


@dsl.container_component
def show_environment(said: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=[
            "sh",
            "-c",
            'mkdir -p "$(dirname "$0")" && '
            f'printf "%s|%s" "$GREETING" "${{{HOST_ONLY}-absent}}" > "$0"',
        ],
        args=[said],
    )


@dsl.pipeline(name="task-environment")
def task_environment() -> None:
    show_environment().set_env_variable("GREETING", "hello from the task")


@dsl.container_component
def fail_with_three():
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'echo "broken on purpose in $(cat "$0")" >&2; exit 3'],
        args=[MARKER_PATH],
    )


@dsl.pipeline(name="failing-command")
def failing_command() -> None:
    fail_with_three()


@dsl.container_component
def from_missing_image():
    return dsl.ContainerSpec(image=MISSING_IMAGE, command=["sh", "-c", "echo should-not-run"])


@dsl.pipeline(name="missing-image")
def missing_image() -> None:
    from_missing_image()


@dsl.container_component
def sleep_long():
    return dsl.ContainerSpec(
        image=TOOL_IMAGE, command=["sh", "-c", f"echo '{SLEEPING}'; exec sleep 300"]
    )


@dsl.pipeline(name="sleeper")
def sleeper() -> None:
    sleep_long()


@dsl.pipeline(name="sleeper-with-timeout")
def sleeper_with_timeout() -> None:
    kubernetes.set_timeout(sleep_long(), 2)


@dsl.container_component
def allocate_512m():
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["python3", "-c", "b = bytearray(512 * 1024 * 1024); print('allocated')"],
    )


@dsl.pipeline(name="over-memory-limit")
def over_memory_limit() -> None:
    allocate_512m().set_memory_limit("64M")


@dsl.container_component
def say_hi():
    return dsl.ContainerSpec(image=TOOL_IMAGE, command=["sh", "-c", "echo hi"])


@dsl.pipeline(name="say-hi")
def hi() -> None:
    say_hi()


@dsl.component(base_image=TOOL_IMAGE)
def kfp_read_marker() -> str:
    with open("/opt/dagyard-tool/marker.txt") as f:
        return f.read()


@dsl.pipeline(name="kfp-lightweight-marker")
def kfp_marker() -> None:
    kfp_read_marker()


@dagyard_dsl.component(base_image=TOOL_IMAGE)
def dagyard_read_marker() -> str:
    with open("/opt/dagyard-tool/marker.txt") as f:
        return f.read()


@dagyard_dsl.pipeline(name="dagyard-lightweight-marker")
def dagyard_marker() -> None:
    dagyard_read_marker()


@dsl.container_component
def cpu_quota(said: dsl.OutputPath(str)):
    """The CPU quota of its own cgroup, as "QUOTA PERIOD" (v2's cpu.max, else v1's)."""
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=[
            "sh",
            "-c",
            'mkdir -p "$(dirname "$0")"; '
            'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max > "$0"; '
            'else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) '
            '$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)" > "$0"; fi',
        ],
        args=[said],
    )


@dsl.pipeline(name="half-a-cpu")
def half_a_cpu() -> None:
    cpu_quota().set_cpu_limit("500m")


@dsl.container_component
def write_to_volume(token_seen: dsl.OutputPath(str)):
    """Writes the marker into the volume at /data, and whether its secret variable came."""
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=[
            "sh",
            "-c",
            f'cp {MARKER_PATH} /data/marker.txt && mkdir -p "$(dirname "$0")" && '
            'printf "%s" "$TOKEN" > "$0"',
        ],
        args=[token_seen],
    )


@dsl.container_component
def read_from_volume(said: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=TOOL_IMAGE,
        command=["sh", "-c", 'mkdir -p "$(dirname "$0")" && cat /data/marker.txt > "$0"'],
        args=[said],
    )


@dsl.pipeline(name="volume-and-secret")
def volume_and_secret() -> None:
    claim = kubernetes.CreatePVC(
        pvc_name_suffix="-data", access_modes=["ReadWriteOnce"], size="1Gi"
    )
    writer = write_to_volume()
    kubernetes.mount_pvc(writer, pvc_name=claim.outputs["name"], mount_path="/data")
    kubernetes.use_secret_as_env(writer, secret_name="creds", secret_key_to_env={"token": "TOKEN"})
    reader = read_from_volume().after(writer)
    kubernetes.mount_pvc(reader, pvc_name=claim.outputs["name"], mount_path="/data")
    kubernetes.DeletePVC(pvc_name=claim.outputs["name"]).after(reader)


@dsl.component(base_image=TOOL_IMAGE)
def kfp_constant() -> str:
    return "never"


@dsl.pipeline(name="kfp-install-unreachable")
def kfp_install_unreachable() -> None:
    """kfp's install step in an image whose package index cannot be reached (nothing
    listens at port 9 of the loopback)."""
    task = kfp_constant()
    task.set_env_variable("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    task.set_env_variable("PIP_RETRIES", "0")
    task.set_env_variable("PIP_TIMEOUT", "2")


@dsl.container_component
def marker_again():
    return dsl.ContainerSpec(image=TOOL_IMAGE, command=["cat", MARKER_PATH])


@dsl.pipeline(name="pull-policies")
def pull_policies() -> None:
    """Never, on an image that is not there; Always, on the tool image, which is in local
    storage only (so a pull, which Always makes, cannot succeed here)."""
    never = from_missing_image()
    kubernetes.set_image_pull_policy(never, "Never")
    always = marker_again()
    kubernetes.set_image_pull_policy(always, "Always")
