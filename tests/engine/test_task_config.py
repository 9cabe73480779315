"""What a task's TASK_CONFIG inputs receive and which settings the task keeps for itself
(engine/task_config.py), decided as KFP's driver decides them (driver.go:
getTaskConfigOptions, initPodSpecPatch; k8s.go: extendPodSpecPatch for the node
selector). The runs of kfp- and Dagyard-compiled pipelines are in
test_kfp_corpus_runs.py (sdk_task_config_passthrough)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from dagyard.engine.platform_settings import kubernetes_launch
from dagyard.engine.task_config import canonical_quantity, decide, withheld
from dagyard.ir.kubernetes import (
    ClaimMount,
    FieldPathEnv,
    KubernetesSettings,
    ScratchMount,
    ValuesAsEnv,
    ValuesAsVolume,
    ValuesKind,
)
from dagyard.ir.pipeline import (
    Accelerator,
    Container,
    ContainerComponent,
    Definitions,
    EnvVar,
    ParameterDefinition,
    ParameterType,
    Resources,
)
from dagyard.ir.sources import Constant

_OLD_STYLE = Resources(
    cpu_limit=2.0,
    memory_request=1.5,
    accelerator=Accelerator(type="nvidia.com/gpu", count=1),
)
_CONTAINER = Container(image="python:3.11", env=(EnvVar("MODE", "train"),), resources=_OLD_STYLE)


def _component(
    passthroughs: Mapping[str, bool], *, inputs: tuple[str, ...] = ("config",)
) -> ContainerComponent:
    parameters = {
        name: ParameterDefinition(type=ParameterType.TASK_CONFIG, is_optional=True)
        for name in inputs
    }
    return ContainerComponent(
        name="comp-launch",
        inputs=Definitions(parameters=parameters, artifacts={}),
        outputs=Definitions(parameters={}, artifacts={}),
        executor_label="exec-launch",
        container=_CONTAINER,
        task_config_passthroughs=passthroughs,
    )


def test_passed_through_settings_fill_every_task_config_input_and_leave_the_task() -> None:
    """The older numeric resources are CPUs and GB with a `G` (getPodResource's
    formats; 1.5 GB written as Go writes the quantity), an accelerator a limit named by
    its type; a field passed through without
    applyToTask is not set on the pod; the others still are."""
    decision = decide(
        _component({"RESOURCES": False, "KUBERNETES_NODE_SELECTOR": False}, inputs=("a", "b")),
        _CONTAINER,
        {"disktype": "ssd"},
    )
    expected = {
        "affinity": None,
        "tolerations": None,
        "nodeSelector": {"disktype": "ssd"},
        "env": None,
        "volumes": None,
        "volumeMounts": None,
        "resources": {
            "limits": {"cpu": "2", "nvidia.com/gpu": "1"},
            "requests": {"memory": "1500M"},
        },
    }
    assert decision.inputs == {"a": expected, "b": expected}
    assert not decision.applies("RESOURCES")
    assert not decision.applies("KUBERNETES_NODE_SELECTOR")
    assert decision.applies("ENV")


def test_apply_to_task_keeps_the_setting_on_the_task_as_well() -> None:
    decision = decide(_component({"ENV": True}), _CONTAINER, {})
    assert decision.inputs["config"]["env"] == [{"name": "MODE", "value": "train"}]
    assert decision.inputs["config"]["resources"] == {}
    assert decision.applies("ENV")
    assert decision.applies("RESOURCES")


def test_a_component_without_passthroughs_applies_all_and_gets_an_empty_config() -> None:
    decision = decide(_component({}), _CONTAINER, {"disktype": "ssd"})
    assert decision.inputs["config"]["nodeSelector"] is None
    assert decision.inputs["config"]["resources"] == {}
    assert all(
        decision.applies(field) for field in ("RESOURCES", "ENV", "KUBERNETES_NODE_SELECTOR")
    )


def test_a_task_without_task_config_inputs_gets_none() -> None:
    decision = decide(_component({"RESOURCES": False}, inputs=()), _CONTAINER, {})
    assert decision.inputs == {}
    assert not decision.applies("RESOURCES")


def test_tolerations_are_written_as_kubernetes_writes_them() -> None:
    """k8s.go: a toleration's empty fields are left out and its seconds are a number;
    one given as JSON by a pipeline value is not known here and is left out."""
    recorded = {
        "tolerations": [
            {"key": "gpu", "operator": "Equal", "value": "yes", "tolerationSeconds": "30"},
            {"tolerationJson": {"componentInputParameter": "tolerations"}},
        ]
    }
    decision = decide(_component({"KUBERNETES_TOLERATIONS": False}), _CONTAINER, {}, recorded)
    assert decision.inputs["config"]["tolerations"] == [
        {"key": "gpu", "operator": "Equal", "value": "yes", "tolerationSeconds": 30}
    ]


def test_only_settings_handed_on_unapplied_are_withheld_from_the_task() -> None:
    passthroughs = {"KUBERNETES_TOLERATIONS": False, "KUBERNETES_AFFINITY": True}
    assert withheld(passthroughs) == {"tolerations"}
    assert withheld({"KUBERNETES_AFFINITY": False}) == {"nodeAffinity", "podAffinity"}
    assert withheld({}) == frozenset()


def test_variables_handed_on_are_references_and_are_not_set_on_the_task() -> None:
    """k8s.go (extendPodSpecPatch): with ENV passed through unapplied, the pod gets no
    variable from a secret, config map or pod field, and the TaskConfig gets each as a
    `valueFrom` reference (secrets', then config maps', then fields'); so nothing is
    read from the store, and a missing secret fails nothing."""
    settings = KubernetesSettings(
        env=(
            ValuesAsEnv(ValuesKind.CONFIG_MAP, Constant("trainer"), (("mode", "MODE"),)),
            ValuesAsEnv(ValuesKind.SECRET, Constant("absent"), (("token", "TOKEN"),), True),
        ),
        field_paths=(FieldPathEnv("POD", "metadata.name"),),
    )

    def no_store(kind: ValuesKind, name: str) -> dict[str, str] | None:
        raise AssertionError(f"the {kind} {name} was read")

    launch = kubernetes_launch(
        settings,
        task_id="t1",
        value=lambda source: source.value if isinstance(source, Constant) else None,
        values=no_store,
        apply_env=False,
    )
    assert launch.env == {}
    secret = {"name": "absent", "key": "token", "optional": True}
    config_map = {"name": "trainer", "key": "mode", "optional": False}
    assert launch.env_sources == (
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": secret}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": config_map}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    )


def test_volumes_handed_on_are_not_mounted_but_empty_dirs_are() -> None:
    """k8s.go: with KUBERNETES_VOLUMES passed through unapplied, claims, secrets and
    config maps are not mounted on the pod (nor read), while empty dirs always are."""
    settings = KubernetesSettings(
        volumes=(ValuesAsVolume(ValuesKind.CONFIG_MAP, Constant("vocab"), "/mnt/vocab"),),
        claims=(ClaimMount(Constant("shared"), "/mnt/shared", sub_path="run-1"),),
        scratch=(ScratchMount("scratch", "/mnt/scratch"),),
    )

    def no_store(kind: ValuesKind, name: str) -> dict[str, str] | None:
        raise AssertionError(f"the {kind} {name} was read")

    launch = kubernetes_launch(
        settings,
        task_id="t1",
        value=lambda source: source.value if isinstance(source, Constant) else None,
        values=no_store,
        apply_volumes=False,
    )
    assert [plan.mount_path for plan in launch.mounts] == ["/mnt/scratch"]
    assert launch.volume_sources == (
        (
            {"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}},
            {"name": "shared", "mountPath": "/mnt/shared", "subPath": "run-1"},
        ),
        (
            {"name": "vocab", "configMap": {"name": "vocab", "optional": False}},
            {"name": "vocab", "mountPath": "/mnt/vocab"},
        ),
    )


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("0.5", "500m"),
        ("1.5", "1500m"),
        ("2", "2"),
        ("2000", "2k"),
        ("1024", "1024"),
        ("1.5Gi", "1536Mi"),
        ("2048Ki", "2Mi"),
        ("0.5Ki", "512"),
        ("1Gi", "1Gi"),
        ("1.073741824G", "1073741824"),
        ("1.0G", "1G"),
        ("0", "0"),
        ("1e3", "1e3"),
    ],
)
def test_quantities_are_written_as_go_writes_them(given: str, written: str) -> None:
    """KFP's driver parses each resource with k8s.io's resource.ParseQuantity and the
    TaskConfig carries its canonical text (Quantity.String): binary units for whole
    bytes of 1024 or more, else the largest decimal unit keeping the number whole; an
    exponent form is kept."""
    assert canonical_quantity(given) == written
