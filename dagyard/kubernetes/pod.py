"""Settings of the pod a task would run in on Kubernetes: its metadata, where it may
be scheduled, how long it may run, its identity and the image pull policy.

Belongs here: `add_pod_label`, `add_pod_annotation`, `add_node_selector(_json)`,
`add_node_affinity(_json)`, `add_toleration(_json)`, `set_timeout`,
`use_field_path_as_env`, `set_image_pull_policy`, `set_security_context`, with
kfp-kubernetes' names and parameters. Which of them one machine honours and which it
only records (with a warning on the run) is the engine's (docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagyard.dsl.channels import PipelineChannel
from dagyard.dsl.pipeline_task import PipelineTask
from dagyard.errors import DslError
from dagyard.kubernetes import _config

_OPERATORS = ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn")
_PULL_POLICIES = ("Always", "Never", "IfNotPresent")


def add_pod_label(task: PipelineTask, label_key: str, label_value: str) -> PipelineTask:
    """Label `task`'s pod (recorded on the task and shown)."""
    metadata = _config.config(task).setdefault("podMetadata", {})
    metadata.setdefault("labels", {})[label_key] = label_value
    return task


def add_pod_annotation(
    task: PipelineTask, annotation_key: str, annotation_value: str
) -> PipelineTask:
    """Annotate `task`'s pod (recorded on the task and shown)."""
    metadata = _config.config(task).setdefault("podMetadata", {})
    metadata.setdefault("annotations", {})[annotation_key] = annotation_value
    return task


def add_node_selector(task: PipelineTask, label_key: str, label_value: str) -> PipelineTask:
    """Run `task` only on nodes labelled `label_key=label_value`."""
    selector = _config.config(task).setdefault("nodeSelector", {})
    selector.setdefault("labels", {})[label_key] = label_value
    return task


def add_node_selector_json(
    task: PipelineTask, node_selector_json: Mapping[str, str] | PipelineChannel
) -> PipelineTask:
    """The node selector as one mapping of labels, which may come from the pipeline."""
    selector = _config.config(task).setdefault("nodeSelector", {})
    selector["nodeSelectorJson"] = _config.parameter(
        _plain(node_selector_json), what="node_selector_json"
    )
    return task


def add_node_affinity(
    task: PipelineTask,
    match_expressions: Sequence[Mapping[str, Any]] | None = None,
    match_fields: Sequence[Mapping[str, Any]] | None = None,
    weight: int | None = None,
) -> PipelineTask:
    """A node affinity term: required, or preferred with `weight` (1 to 100). Each
    expression is a mapping with `key`, `operator` (In, NotIn, Exists, DoesNotExist, Gt,
    Lt) and `values`."""
    term: dict[str, Any] = {}
    expressions = _terms(match_expressions, "match_expressions")
    if expressions:
        term["matchExpressions"] = expressions
    fields = _terms(match_fields, "match_fields")
    if fields:
        term["matchFields"] = fields
    if weight is not None:
        _config.count(weight, what="weight", minimum=1)
        if weight > 100:
            raise DslError(f"weight must be between 1 and 100; got {weight}.")
        # A number in the PlatformSpec's Struct is a double, as kfp's compiler writes it.
        term["weight"] = float(weight)
    _config.config(task).setdefault("nodeAffinity", []).append(term)
    return task


def add_node_affinity_json(
    task: PipelineTask, node_affinity_json: Mapping[str, Any] | PipelineChannel
) -> PipelineTask:
    """A node affinity given whole (Kubernetes' NodeAffinity as a mapping), which may come
    from the pipeline; replaces one given this way before."""
    terms = _config.config(task).setdefault("nodeAffinity", [])
    terms[:] = [term for term in terms if "nodeAffinityJson" not in term]
    terms.append(
        {
            "nodeAffinityJson": _config.parameter(
                _plain(node_affinity_json), what="node_affinity_json"
            )
        }
    )
    return task


def add_toleration(
    task: PipelineTask,
    key: str | None = None,
    operator: str | None = None,
    value: str | None = None,
    effect: str | None = None,
    toleration_seconds: int | None = None,
) -> PipelineTask:
    """Let `task` run on nodes with a matching taint."""
    toleration: dict[str, Any] = {}
    for field, given in (("key", key), ("operator", operator), ("value", value)):
        if given:
            toleration[field] = given
    if effect:
        toleration["effect"] = effect
    if toleration_seconds is not None:
        toleration["tolerationSeconds"] = str(toleration_seconds)  # int64: a string
    _config.config(task).setdefault("tolerations", []).append(toleration)
    return task


def add_toleration_json(
    task: PipelineTask,
    toleration_json: Mapping[str, Any] | Sequence[Mapping[str, Any]] | PipelineChannel,
) -> PipelineTask:
    """Tolerations as a mapping, a list of them, or a pipeline parameter holding either."""
    if isinstance(toleration_json, PipelineChannel):
        entry = {"tolerationJson": _config.parameter(toleration_json, what="toleration_json")}
        _config.config(task).setdefault("tolerations", []).append(entry)
        return task
    given = [toleration_json] if isinstance(toleration_json, Mapping) else toleration_json
    for toleration in given:
        if not isinstance(toleration, Mapping):
            raise DslError(f"A toleration must be a mapping; got {toleration!r}.")
        add_toleration(
            task,
            key=toleration.get("key"),
            operator=toleration.get("operator"),
            value=toleration.get("value"),
            effect=toleration.get("effect"),
            toleration_seconds=toleration.get("toleration_seconds"),
        )
    return task


def set_timeout(task: PipelineTask, seconds: int) -> PipelineTask:
    """Fail an attempt of `task` that runs longer than `seconds` (0: no limit)."""
    seconds = _config.count(seconds, what="seconds")
    settings = _config.config(task)
    if seconds:
        settings["activeDeadlineSeconds"] = str(seconds)  # int64: a string
    else:
        settings.pop("activeDeadlineSeconds", None)
    return task


def use_field_path_as_env(task: PipelineTask, env_name: str, field_path: str) -> PipelineTask:
    """Set the variable `env_name` to a field of the task's pod (`metadata.name`, ...)."""
    entry = {"name": env_name, "fieldPath": field_path}
    _config.config(task).setdefault("fieldPathAsEnv", []).append(entry)
    return task


def set_image_pull_policy(task: PipelineTask, policy: str) -> PipelineTask:
    """When `task`'s image is pulled: Always, Never or IfNotPresent."""
    if policy not in _PULL_POLICIES:
        raise DslError(f"Image pull policy {policy!r} is not one of {', '.join(_PULL_POLICIES)}.")
    _config.config(task)["imagePullPolicy"] = policy
    return task


def set_security_context(
    task: PipelineTask,
    run_as_user: int | None = None,
    run_as_group: int | None = None,
    run_as_non_root: bool | None = None,
) -> PipelineTask:
    """The user and group `task` runs as, and whether it must not run as root."""
    if run_as_user is None and run_as_group is None and run_as_non_root is None:
        raise DslError("set_security_context needs at least one of its settings.")
    context = _config.config(task).setdefault("securityContext", {})
    if run_as_user is not None:
        context["runAsUser"] = str(_config.count(run_as_user, what="run_as_user"))
    if run_as_group is not None:
        context["runAsGroup"] = str(_config.count(run_as_group, what="run_as_group"))
    if run_as_non_root is not None:
        context["runAsNonRoot"] = _config.optional_bool(run_as_non_root, what="run_as_non_root")
    return task


def _terms(given: Sequence[Mapping[str, Any]] | None, what: str) -> list[dict[str, Any]]:
    terms = []
    for term in given or ():
        key, operator = term.get("key"), term.get("operator")
        if not key or operator not in _OPERATORS:
            raise DslError(
                f"Each of {what} needs a 'key' and an 'operator' among {', '.join(_OPERATORS)}; "
                f"got {dict(term)!r}."
            )
        entry: dict[str, Any] = {"key": key, "operator": operator}
        values = list(term.get("values") or [])
        if values:
            entry["values"] = values
        terms.append(entry)
    return terms


def _plain(value: object) -> object:
    """A mapping given as a constant, as a plain dict (the compiler writes dicts)."""
    return dict(value) if isinstance(value, Mapping) else value
