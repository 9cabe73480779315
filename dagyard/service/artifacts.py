"""Artifacts as the UI browses them: with their lineage (which task made each one, which
tasks read it), their bytes, and the scalar metrics of runs.

Lineage comes from the store's events: an OUTPUT event names the producing task, INPUT
events the consumers. A task served from the cache has OUTPUT events for the artifacts of
the task it reused, so an artifact can have a producer in each run that used it; seen
from a run, its producer is that run's task. Nothing here formats JSON or knows HTTP.

An artifact belongs to the run that made it (`Artifact.run_id`), and a caller sees it
only if it sees that run (`runs.visible_run`): a namespace token sees the artifacts of
its namespace's runs, and of lineage only the tasks of those runs. Everything else looks
absent (NotFound worded as for an unknown id, or left out of a list).
"""

from __future__ import annotations

import dataclasses
import mimetypes
from collections.abc import Sequence

from dagyard.errors import NotFound, StoreError, StoreFailure, StoreUnavailable, UsageError
from dagyard.service.platform import Platform
from dagyard.service.runs import MAX_ARTIFACT_READ_BYTES, run_namespace, visible_run
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.listing import ListQuery, Operation, Page, Predicate
from dagyard.store.metrics import METRICS_SCHEMA, metric_key, metric_number
from dagyard.store.records import Artifact, Event, EventKind, Task

MAX_METRICS_RUNS = 200
# Types whose files have no extension to guess from (`Output[HTML]` writes `.../html`).
_MEDIA_TYPES = {"system.HTML": "text/html", "system.Markdown": "text/markdown"}


@dataclasses.dataclass(frozen=True)
class TaskUse:
    """A task that produced or consumed an artifact, under output or input name `key`."""

    task: Task
    key: str


@dataclasses.dataclass(frozen=True)
class Lineage:
    """An artifact, the task that produced it (None if unknown) and the tasks that read it."""

    artifact: Artifact
    producer: TaskUse | None
    consumers: list[TaskUse]


@dataclasses.dataclass(frozen=True)
class Content:
    """Bytes `offset`.. of a file artifact, `size` bytes long in all."""

    artifact: Artifact
    data: bytes
    offset: int
    size: int
    media_type: str
    file_name: str


class _Sight:
    """Which runs a caller sees, each run looked up at most once per call (the admin
    sees every run, and nothing is looked up)."""

    def __init__(self, platform: Platform, principal: Principal, seen: Sequence[str] = ()) -> None:
        self._platform = platform
        self._principal = principal
        self._seen: dict[str, bool] = dict.fromkeys(seen, True)

    def sees(self, run_id: str) -> bool:
        if self._principal.admin:
            return True
        if run_id not in self._seen:
            try:
                run = self._platform.store.get_run(run_id)
            except NotFound:
                self._seen[run_id] = False
            else:
                self._seen[run_id] = self._principal.visible(run_namespace(self._platform, run))
        return self._seen[run_id]


def run_artifacts(
    platform: Platform, run_id: str, *, principal: Principal = ADMIN
) -> list[Lineage]:
    """Every artifact of a run with its lineage, oldest first: those its tasks made, and
    those its cached tasks reused from earlier runs (that the caller sees). Raises
    NotFound for an unknown run, or one the caller cannot see."""
    store = platform.store
    visible_run(platform, run_id, principal=principal)
    own = store.list_artifacts(run_id)
    known = {a.artifact_id for a in own}
    reused = [
        e.artifact_id for e in store.list_events(run_ids=[run_id]) if e.kind is EventKind.OUTPUT
    ]
    sight = _Sight(platform, principal, seen=[run_id])
    found = own + [
        a
        for a in store.get_artifacts([i for i in reused if i not in known])
        if sight.sees(a.run_id)
    ]
    found.sort(key=lambda a: (a.created_at is None, a.created_at, a.artifact_id))
    return _lineage(platform, found, sight, run_id=run_id)


def page_artifacts(
    platform: Platform,
    query: ListQuery,
    *,
    run_id: str | None = None,
    schema_title: str | None = None,
    principal: Principal = ADMIN,
    namespace: str | None = None,
) -> Page[Lineage]:
    """A page of artifacts (of one run, of one type, or all), each with its lineage;
    given `namespace`, of that namespace's runs only (`Principal.listing_namespace`).

    A namespace token's page holds the artifacts of its namespace's runs only. The store
    cannot filter artifacts by namespace, so the page is filtered by the ids of those
    runs (`_namespace_runs`), which are read for every page; and as those ids are part
    of the listing, a page token stops working (UsageError) once a run of the namespace
    is created or deleted. A store filter by namespace would need neither."""
    sight = _Sight(platform, principal)
    held = principal.listing_namespace(namespace)
    if held is not None:
        allowed = [r for r in _namespace_runs(platform, held) if run_id in (None, r)]
        sight = _Sight(platform, principal, seen=allowed)
        only = Predicate("run_id", Operation.IN, allowed)
        query = dataclasses.replace(query, predicates=(*query.predicates, only))
    page = platform.store.page_artifacts(query, run_id=run_id, schema_title=schema_title)
    return Page(
        records=_lineage(platform, page.records, sight),
        total_size=page.total_size,
        next_page_token=page.next_page_token,
    )


def get_artifact(platform: Platform, artifact_id: str, *, principal: Principal = ADMIN) -> Lineage:
    """An artifact with its producer and consumers. Raises NotFound (also for an
    artifact of a run the caller cannot see)."""
    sight = _Sight(platform, principal)
    return _lineage(platform, [_visible_artifact(platform, artifact_id, sight)], sight)[0]


def read_content(
    platform: Platform,
    artifact_id: str,
    *,
    offset: int = 0,
    limit: int = MAX_ARTIFACT_READ_BYTES,
    principal: Principal = ADMIN,
) -> Content:
    """Up to `limit` bytes from `offset` of a file artifact in the artifact store."""
    if offset < 0:
        raise UsageError(f"offset {offset} is negative; artifacts are read from byte 0 on.")
    if not 0 < limit <= MAX_ARTIFACT_READ_BYTES:
        raise UsageError(
            f"limit {limit} is out of range; read 1 to {MAX_ARTIFACT_READ_BYTES} bytes at a "
            "time, and read on from offset + limit."
        )
    artifact = _visible_artifact(platform, artifact_id, _Sight(platform, principal))
    files = platform.artifacts
    if not files.is_within(artifact.uri):
        raise UsageError(
            f"Artifact {artifact_id!r} is at {artifact.uri!r}, outside the artifact store; "
            "read it from there."
        )
    try:
        if not files.exists(artifact.uri):
            raise NotFound(
                f"Artifact {artifact_id!r} has no file at {artifact.uri!r}: its task did not "
                "write it, or it was deleted."
            )
        if files.is_folder(artifact.uri):
            raise UsageError(
                f"Artifact {artifact_id!r} is a folder ({artifact.uri!r}); only a file "
                "artifact's content can be read."
            )
        size = files.size(artifact.uri)
        data = files.read_range(artifact.uri, offset, min(offset + limit, size))
    except (NotFound, StoreUnavailable, StoreFailure):
        raise  # a store away or failing is 503 or 500, not a missing artifact
    except StoreError as e:
        raise NotFound(f"Artifact {artifact_id!r} cannot be read: {e}") from e
    name = artifact.uri.rstrip("/").rsplit("/", 1)[-1] or artifact.name
    return Content(
        artifact=artifact,
        data=data,
        offset=offset,
        size=size,
        media_type=_media_type(artifact, name),
        file_name=name,
    )


def run_metrics(
    platform: Platform, run_ids: Sequence[str], *, principal: Principal = ADMIN
) -> dict[str, dict[str, float]]:
    """The scalar metrics of runs: of each run, "<task path>/<metric>" -> number, from the
    system.Metrics artifacts its tasks output (reused from the cache too, of runs the
    caller sees). Unknown runs, and runs the caller cannot see, are left out; a run
    without metrics maps to {}."""
    wanted = list(dict.fromkeys(run_ids))
    if len(wanted) > MAX_METRICS_RUNS:
        raise UsageError(
            f"{len(wanted)} run ids were given; ask for the metrics of at most "
            f"{MAX_METRICS_RUNS} runs at a time."
        )
    store = platform.store
    metrics: dict[str, dict[str, float]] = {}
    for run_id in wanted:
        try:
            visible_run(platform, run_id, principal=principal)
        except NotFound:
            continue
        metrics[run_id] = {}
    sight = _Sight(platform, principal, seen=list(metrics))
    outputs = [e for e in store.list_events(run_ids=list(metrics)) if e.kind is EventKind.OUTPUT]
    artifacts = {
        a.artifact_id: a
        for a in store.get_artifacts([e.artifact_id for e in outputs])
        if sight.sees(a.run_id)
    }
    scored = [
        e
        for e in outputs
        if e.artifact_id in artifacts and artifacts[e.artifact_id].schema_title == METRICS_SCHEMA
    ]
    tasks = {t.task_id: t for t in store.get_tasks([e.task_id for e in scored])}
    for event in scored:
        task = tasks.get(event.task_id)
        if task is None or task.run_id not in metrics:
            continue
        for name, value in artifacts[event.artifact_id].metadata.items():
            number = metric_number(value)
            if number is not None:
                metrics[task.run_id][metric_key(task.path, name)] = number
    return metrics


def _namespace_runs(platform: Platform, namespace: str) -> list[str]:
    """The ids of the runs of `namespace` (of its experiments), sorted. It reads every
    such run's record: the store has no cheaper way to say which runs a namespace has."""
    store = platform.store
    experiments = [e.experiment_id for e in store.list_experiments() if e.namespace == namespace]
    return sorted(r.run_id for e in experiments for r in store.list_runs(experiment_id=e))


def _visible_artifact(platform: Platform, artifact_id: str, sight: _Sight) -> Artifact:
    """The artifact, or NotFound worded as the store's for an unknown id when the caller
    cannot see its run."""
    artifact = platform.store.get_artifact(artifact_id)
    if not sight.sees(artifact.run_id):
        raise NotFound(f"No artifact with id {artifact_id!r}.")
    return artifact


def _lineage(
    platform: Platform, found: list[Artifact], sight: _Sight, run_id: str | None = None
) -> list[Lineage]:
    """`found` with their producers and consumers, read in three queries whatever their
    number (the admin's; a namespace token's also reads the runs of the tasks, once
    each, to leave out those it cannot see). The producer is preferably a task of
    `run_id`, else of the artifact's run."""
    store = platform.store
    events = store.list_events(artifact_ids=[a.artifact_id for a in found])
    tasks = {t.task_id: t for t in store.get_tasks([e.task_id for e in events])}
    by_artifact: dict[str, list[Event]] = {}
    for event in events:
        if event.task_id in tasks and sight.sees(tasks[event.task_id].run_id):
            by_artifact.setdefault(event.artifact_id, []).append(event)
    result = []
    for artifact in found:
        mine = by_artifact.get(artifact.artifact_id, [])
        outputs = [e for e in mine if e.kind is EventKind.OUTPUT]
        preferred = run_id or artifact.run_id
        outputs.sort(
            key=lambda e: (
                tasks[e.task_id].run_id != preferred,
                e.task_id != artifact.producer_task_id,
            )
        )
        producer = TaskUse(tasks[outputs[0].task_id], outputs[0].key) if outputs else None
        consumers = [TaskUse(tasks[e.task_id], e.key) for e in mine if e.kind is EventKind.INPUT]
        result.append(Lineage(artifact, producer, consumers))
    return result


def _media_type(artifact: Artifact, file_name: str) -> str:
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    if guessed is None:
        guessed, _ = mimetypes.guess_type(artifact.name, strict=False)
    return guessed or _MEDIA_TYPES.get(artifact.schema_title, "application/octet-stream")
