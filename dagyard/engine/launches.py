"""An attempt of a container task: preparing it (its files, its ExecutorInput, its
command line, the executor's `Launch`) and the `Attempt` in flight.

Belongs here: what a `decisions.Start` becomes before the driver records it and hands
it to the executor. Files are prepared here (the attempt's folders, staging plans); the
task record and the executor are the driver's. TaskFailure when the command cannot be
resolved (a placeholder with no value), or its folders cannot be made (a full disk, named).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagyard.engine import attempts, python_functions, running_time, task_config
from dagyard.engine.attempts import StagedFiles
from dagyard.engine.commands import RuntimeContext, resolve_argv
from dagyard.engine.decisions import Start
from dagyard.engine.executor_settings import resolve_container
from dagyard.engine.failures import TaskFailure
from dagyard.engine.inputs import parameter_value
from dagyard.engine.platform_settings import KubernetesLaunch, claim_task, kubernetes_launch
from dagyard.engine.recorder import TaskRecorder, now
from dagyard.engine.scopes import Node, Result
from dagyard.engine.volumes import Volumes
from dagyard.errors import StoreError
from dagyard.executors.base import Bind, Launch
from dagyard.executors.disks import full_disk, no_space
from dagyard.ir.kubernetes import KubernetesSettings
from dagyard.ir.pipeline import Container, ContainerComponent
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.records import Artifact, TaskState


@dataclasses.dataclass
class Attempt:
    """One attempt of a task, from the moment it is decided until its outcome is read.

    `handle`: the executor's, None while the attempt is queued (decided in this pass of
    the driver's loop, submitted once its record is written). `waiting`: why the
    executor holds it back (no free slot), None once it runs. `stopping`: the run's
    terminate stopped it. `document`: its ExecutorInput; `staged`: where its files are.
    """

    number: int
    launch: Launch
    document: dict[str, Any]
    staged: StagedFiles
    log_uri: str
    handle: str | None = None
    waiting: str | None = None
    stopping: bool = False
    # Its time limit (kfp-kubernetes' set_timeout), the driver's clock reading past
    # which it is stopped (set when submitted), and whether it was.
    timeout_seconds: int | None = None
    deadline: float | None = None
    timed_out: bool = False


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a run's attempts work: the scratch root, the artifact store, the slots an
    executor that holds them gives the run (None if it does not), and the most bytes
    each attempt's log keeps (0: no cap)."""

    work_root: Path
    artifacts: ArtifactStore
    slots: int | None
    log_limit: int = 0
    # The run's Kubernetes settings (kfp-kubernetes'), by executor label.
    kubernetes: Mapping[str, KubernetesSettings] = dataclasses.field(default_factory=dict)
    # The folders and values behind their volumes, secrets and config maps (None: none
    # on this host).
    volumes: Volumes | None = None
    # The run's namespace and the slots all of its runs share (DAGYARD_NAMESPACE_MAX_TASKS),
    # for an executor that holds them; None: no such limit.
    namespace: str = ""
    namespace_slots: int | None = None


def prepare_attempt(
    *,
    run_id: str,
    task_id: str,
    path: str,
    number: int,
    component: ContainerComponent,
    parameters: dict[str, Any],
    artifacts: dict[str, list[Artifact]],
    context: RuntimeContext,
    place: Place,
    kubernetes: KubernetesLaunch | None = None,
) -> Attempt:
    """Attempt `number` of the container task at `path`, ready to submit, with what its
    Kubernetes settings give it (`kubernetes`)."""
    store = place.artifacts
    outputs = component.outputs
    # Made by executor_input below, with its outputs folder.
    workdir = place.work_root / run_id / path / f"attempt-{number}"
    log_uri = store.log_uri(run_id, path, number)
    # Its image and resources may be pipeline values too (set_cpu_limit(param), ...).
    container = resolve_container(component.container, parameters, context)
    settings = place.kubernetes.get(component.executor_label)
    config = task_config.decide(
        component,
        container,
        kubernetes.node_selector if kubernetes else {},
        settings.recorded if settings else None,
        kubernetes.env_sources if kubernetes else (),
        kubernetes.volume_sources if kubernetes else (),
        _workspace_claim(run_id, context.workspace_path, parameters),
    )
    parameters = {**parameters, **config.inputs}
    try:
        # On an object-store root the task works on local copies, made on its host; on
        # a local root, on the store's own files, with nothing to copy.
        staged = attempts.staged_files(
            store,
            run_id=run_id,
            task_path=path,
            attempt=number,
            workdir=workdir,
            inputs=artifacts,
            output_uris={name: store.uri_for(run_id, path, name) for name in outputs.artifacts},
            output_parameters=list(outputs.parameters),
            log_uri=log_uri,
        )
        document = attempts.executor_input(
            outputs=outputs,
            parameters=parameters,
            artifacts=staged.inputs,
            output_uris=staged.output_uris,
            workdir=workdir,
            task_root=staged.task_root,
        )
    except (StoreError, OSError) as e:
        raise TaskFailure(_unprepared(e, place, workdir)) from e
    if staged.names:
        context = dataclasses.replace(context, stored_uri=staged.to_store)
    argv = resolve_argv([*container.command, *container.args], document, context)
    _make_workspace(context.workspace_path, [*argv, *map(str, parameters.values())])
    launch = Launch(
        task_id=task_id,
        run_id=run_id,
        attempt=number,
        command=python_functions.task_command(argv),
        image=container.image,
        env={**(kubernetes.env if kubernetes else {}), **_own_env(container, config)},
        workdir=workdir,
        log_path=staged.log_path,
        resources=container.resources if config.applies(task_config.RESOURCES) else None,
        mounts=_mounts(place),
        binds=_binds(place, kubernetes, workdir),
        node_selector=(
            dict(kubernetes.node_selector)
            if kubernetes and config.applies(task_config.NODE_SELECTOR)
            else {}
        ),
        staging=staged.staging,
        slots=place.slots,
        namespace=place.namespace,
        namespace_slots=place.namespace_slots,
        log_limit=place.log_limit,
        pull_policy=kubernetes.pull_policy if kubernetes else None,
    )
    attempt = Attempt(number, launch, document, staged, log_uri)
    if kubernetes is not None:
        attempt.timeout_seconds = kubernetes.timeout_seconds
        _note(staged.log_path, [f"dagyard: warning: {w}\n" for w in kubernetes.warnings])
    return attempt


def _own_env(container: Container, config: task_config.TaskConfigDecision) -> dict[str, str]:
    """The container's variables, unless its component passes them through to its
    TaskConfig without applying them to itself (as KFP's driver leaves them off the pod)."""
    if not config.applies(task_config.ENV):
        return {}
    return {e.name: e.value for e in container.env}


def start_attempt(
    recorder: TaskRecorder,
    node: Node,
    decision: Start,
    *,
    context: RuntimeContext,
    place: Place,
) -> Attempt:
    """The next attempt of `node`, prepared and recorded RUNNING (written before it is
    submitted, with the rest of the pass's records). TaskFailure if its command cannot
    be resolved."""
    prior = node.task or recorder.existing.get(node.path)
    number = (prior.attempts if prior else 0) + 1
    volumes = place.volumes
    kubernetes = kubernetes_launch(
        place.kubernetes.get(decision.component.executor_label),
        task_id=node.task_id,
        value=lambda source: parameter_value(node, source, context),
        values=volumes.values if volumes is not None else lambda kind, name: None,
        withheld=task_config.withheld(decision.component.task_config_passthroughs),
        apply_env=task_config.applies(decision.component, task_config.ENV),
        apply_volumes=task_config.applies(decision.component, task_config.VOLUMES),
    )
    attempt = prepare_attempt(
        run_id=recorder.run_id,
        task_id=node.task_id,
        path=node.path,
        number=number,
        component=decision.component,
        parameters=decision.parameters,
        artifacts=decision.inputs.artifacts,
        context=context,
        place=place,
        kubernetes=kubernetes,
    )
    recorder.record(
        node,
        state=TaskState.RUNNING,
        attempts=number,
        # When this attempt starts: earlier attempts, a retry's back-off and (once the
        # executor reports it) a wait for capacity are not part of a task's duration.
        started_at=now(),
        log_uri=attempt.log_uri,
        error=None,
        inputs=decision.inputs.record(),
        fingerprint=decision.fingerprint,
        cache_reason=decision.cache_reason,
        warnings=list(kubernetes.warnings),
    )
    return attempt


def claim_result(decision: Start, *, place: Place) -> Result | None:
    """The result of kfp-kubernetes' CreatePVC (its output `name`) or DeletePVC task,
    done here without running anything, as KFP's driver does it; None for any other
    task. TaskFailure if it cannot be done."""
    what = claim_task(decision.component.container.image)
    if what is None:
        return None
    if place.volumes is None:
        raise TaskFailure(f"{what} (kfp-kubernetes): this host keeps no volume claims.")
    if what == "CreatePVC":
        name = place.volumes.create_claim(decision.parameters)
        return Result(TaskState.SUCCEEDED, {"name": name})
    place.volumes.delete_claim(decision.parameters)
    return Result(TaskState.SUCCEEDED)


def note_waiting(
    recorder: TaskRecorder, running: dict[str, Node], reported: dict[str, str]
) -> None:
    """Show a submitted attempt that the executor holds back for lack of capacity
    (`reported`: why, by handle) as PENDING with the reason (in `error`, as for a retry's
    back-off), and as RUNNING again once it starts. Written only when that changes."""
    for handle, node in running.items():
        attempt = node.attempt
        assert attempt is not None
        reason = reported.get(handle)
        if reason == attempt.waiting:
            continue
        attempt.waiting = reason
        if reason is None:
            recorder.update(node, state=TaskState.RUNNING, error=None, started_at=now())
        else:
            assert node.task is not None
            recorder.update(
                node, state=TaskState.PENDING, error=reason, **running_time.held(node.task)
            )


def _workspace_claim(run_id: str, folder: str, parameters: dict[str, Any]) -> str:
    """The run's workspace claim if a parameter of the attempt holds the workspace's path,
    as KFP's driver decides the task needs the workspace (needsWorkspaceMount), else ''."""
    given = any(isinstance(v, str) and folder in v for v in parameters.values())
    return task_config.workspace_claim(run_id) if folder and given else ""


def _make_workspace(folder: str, texts: list[str]) -> None:
    """Make the run's workspace folder if the attempt is given its path (it is shared by
    the run's tasks, and made only for runs that use it)."""
    if folder and any(folder in text for text in texts):
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TaskFailure(f"Cannot make the run's workspace folder {folder!r}: {e}") from e


def _unprepared(error: BaseException, place: Place, workdir: Path) -> str:
    """Why the attempt's folders could not be made: a full disk by name."""
    message = f"Cannot prepare the task's folders: {error}"
    if not no_space(error):
        return message
    root = place.artifacts.root_uri
    folders = [(workdir, "the task's work folder")]
    if place.artifacts.is_local:
        folders.insert(0, (Path(root), "the artifact root"))
    return f"{message}: {full_disk(folders) or 'a disk is full'}"


def _note(log_path: Path, lines: list[str]) -> None:
    """Start the attempt's log with `lines` (the executor appends to it)."""
    if not lines:
        return
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            log.writelines(lines)
    except OSError as e:
        raise TaskFailure(f"Cannot write the task's log {str(log_path)!r}: {e}") from e


def _binds(place: Place, kubernetes: KubernetesLaunch | None, workdir: Path) -> tuple[Bind, ...]:
    """The folders behind the attempt's Kubernetes mounts, made now."""
    if kubernetes is None or not kubernetes.mounts:
        return ()
    if place.volumes is None:
        raise TaskFailure("The task mounts volumes, and this host keeps none.")
    return place.volumes.binds(kubernetes.mounts, workdir)


def _mounts(place: Place) -> tuple[Path, ...]:
    """Host folders a task's paths point into, for executors that use containers."""
    folders = [place.work_root]
    root = place.artifacts.root_uri
    if place.artifacts.is_within(root) and "://" not in root:
        folders.append(Path(root))
    return tuple(folders)
