"""Artifacts as the UI browses them: with their lineage (which task made each one, which
tasks read it), their bytes, and the scalar metrics of runs.

Lineage comes from the store's events: an OUTPUT event names the producing task, INPUT
events the consumers. A task served from the cache has OUTPUT events for the artifacts of
the task it reused, so an artifact can have a producer in each run that used it; seen
from a run, its producer is that run's task. Nothing here formats JSON or knows HTTP.
"""

from __future__ import annotations

import dataclasses
import math
import mimetypes
from collections.abc import Sequence

from dagyard.errors import NotFound, StoreError, StoreFailure, StoreUnavailable, UsageError
from dagyard.service.platform import Platform
from dagyard.service.runs import MAX_ARTIFACT_READ_BYTES
from dagyard.store.listing import ListQuery, Page
from dagyard.store.records import Artifact, Event, EventKind, Task

METRICS_SCHEMA = "system.Metrics"
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


def run_artifacts(platform: Platform, run_id: str) -> list[Lineage]:
    """Every artifact of a run with its lineage, oldest first: those its tasks made, and
    those its cached tasks reused from earlier runs. Raises NotFound for an unknown run."""
    store = platform.store
    store.get_run(run_id)
    own = store.list_artifacts(run_id)
    known = {a.artifact_id for a in own}
    reused = [
        e.artifact_id for e in store.list_events(run_ids=[run_id]) if e.kind is EventKind.OUTPUT
    ]
    found = own + store.get_artifacts([i for i in reused if i not in known])
    found.sort(key=lambda a: (a.created_at is None, a.created_at, a.artifact_id))
    return _lineage(platform, found, run_id=run_id)


def page_artifacts(
    platform: Platform,
    query: ListQuery,
    *,
    run_id: str | None = None,
    schema_title: str | None = None,
) -> Page[Lineage]:
    """A page of artifacts (of one run, of one type, or all), each with its lineage."""
    page = platform.store.page_artifacts(query, run_id=run_id, schema_title=schema_title)
    return Page(
        records=_lineage(platform, page.records),
        total_size=page.total_size,
        next_page_token=page.next_page_token,
    )


def get_artifact(platform: Platform, artifact_id: str) -> Lineage:
    """An artifact with its producer and consumers. Raises NotFound."""
    return _lineage(platform, [platform.store.get_artifact(artifact_id)])[0]


def read_content(
    platform: Platform, artifact_id: str, *, offset: int = 0, limit: int = MAX_ARTIFACT_READ_BYTES
) -> Content:
    """Up to `limit` bytes from `offset` of a file artifact in the artifact store."""
    if offset < 0:
        raise UsageError(f"offset {offset} is negative; artifacts are read from byte 0 on.")
    if not 0 < limit <= MAX_ARTIFACT_READ_BYTES:
        raise UsageError(
            f"limit {limit} is out of range; read 1 to {MAX_ARTIFACT_READ_BYTES} bytes at a "
            "time, and read on from offset + limit."
        )
    artifact = platform.store.get_artifact(artifact_id)
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


def run_metrics(platform: Platform, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """The scalar metrics of runs: of each run, "<task path>/<metric>" -> number, from the
    system.Metrics artifacts its tasks output (reused from the cache too). Unknown runs
    are left out; a run without metrics maps to {}."""
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
            store.get_run(run_id)
        except NotFound:
            continue
        metrics[run_id] = {}
    outputs = [e for e in store.list_events(run_ids=list(metrics)) if e.kind is EventKind.OUTPUT]
    artifacts = {a.artifact_id: a for a in store.get_artifacts([e.artifact_id for e in outputs])}
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
            number = _number(value)
            if number is not None:
                metrics[task.run_id][f"{task.path}/{name}"] = number
    return metrics


def _lineage(platform: Platform, found: list[Artifact], run_id: str | None = None) -> list[Lineage]:
    """`found` with their producers and consumers, read in three queries whatever their
    number. The producer is preferably a task of `run_id`, else of the artifact's run."""
    store = platform.store
    events = store.list_events(artifact_ids=[a.artifact_id for a in found])
    tasks = {t.task_id: t for t in store.get_tasks([e.task_id for e in events])}
    by_artifact: dict[str, list[Event]] = {}
    for event in events:
        if event.task_id in tasks:
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


def _number(value: object) -> float | None:
    """`value` if it is a metric: a finite number (NaN and infinities have no JSON
    spelling; booleans are not metrics)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _media_type(artifact: Artifact, file_name: str) -> str:
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    if guessed is None:
        guessed, _ = mimetypes.guess_type(artifact.name, strict=False)
    return guessed or _MEDIA_TYPES.get(artifact.schema_title, "application/octet-stream")
