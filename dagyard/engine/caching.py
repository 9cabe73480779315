"""Cache fingerprints and look-ups: what must be equal for a finished task's outputs to
be reused, and whether a usable entry exists.

KFP keys its cache on the component's command and image, the input parameter values
and the *names* of input artifacts, so a dataset rewritten under the same name is a
wrong hit. Here input artifacts count by the digest of their bytes. A custom `cacheKey`
replaces everything but the component's name, as in KFP. Every decision carries a
reason in words, stored on the task, so a user can ask why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from dagyard.conventions import STALENESS_VARIABLE
from dagyard.ir.pipeline import Container
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import Artifact, Task


def _digest(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def task_fingerprint(
    *,
    component_name: str,
    cache_key: str | None,
    container: Mapping[str, Any],
    parameters: dict[str, Any],
    artifacts: dict[str, list[Artifact]],
    output_definitions: Mapping[str, Any],
) -> str:
    """The fingerprint of one task with its resolved inputs. `container` and
    `output_definitions`: the IR's sections as the document writes them (`Container.raw`,
    `Definitions.raw`), so that fingerprints stored by earlier versions still match."""
    if cache_key:
        return _digest({"component": component_name, "cache_key": cache_key})
    # How old a reusable result may be does not change what the task computes.
    env = [e for e in container.get("env", []) if e.get("name") != STALENESS_VARIABLE]
    return _digest(
        {
            "image": container.get("image"),
            "command": container.get("command", []),
            "args": container.get("args", []),
            "env": env,
            "parameters": parameters,
            # Bytes, not names: an artifact without a digest counts by its URI.
            "artifacts": {k: [a.digest or f"uri:{a.uri}" for a in v] for k, v in artifacts.items()},
            "outputs": dict(output_definitions),
        }
    )


@dataclasses.dataclass
class Decision:
    """A cache look-up's answer: the task to reuse (with its output artifacts) or None,
    and why."""

    reason: str
    hit: Task | None = None
    outputs: dict[str, list[Artifact]] = dataclasses.field(default_factory=dict)


def task_staleness(container: Container) -> float | None:
    """The staleness a task sets for itself (`set_caching_options(max_cache_staleness=)`)."""
    for entry in container.env:
        if entry.name == STALENESS_VARIABLE:
            try:
                return float(entry.value)
            except ValueError:
                return None
    return None


def look_up(
    store: MetadataStore,
    artifacts: ArtifactStore,
    *,
    fingerprint: str,
    staleness_seconds: float | None,
    output_artifacts: Callable[[Task], dict[str, list[Artifact]]],
    namespace: str | None = None,
) -> Decision:
    """The newest reusable task with `fingerprint` (of a run of `namespace`, when
    given), if one is recent enough and its artifacts still exist."""
    newer_than = None
    if staleness_seconds is not None:
        newer_than = datetime.now(UTC) - timedelta(seconds=staleness_seconds)
    hit = store.find_cached_task(fingerprint, newer_than=newer_than, namespace=namespace)
    if hit is None:
        older = (
            store.find_cached_task(fingerprint, newer_than=None, namespace=namespace)
            if newer_than
            else None
        )
        if older is not None:
            return Decision(
                f"miss: the last match (task {older.path} of run {older.run_id}) is older "
                f"than the maximum staleness of {staleness_seconds:g} s"
            )
        return Decision("miss: no earlier successful task has this fingerprint")
    outputs = output_artifacts(hit)
    for items in outputs.values():
        for artifact in items:
            # An artifact that never had bytes (Metrics: metadata only) has no digest and
            # nothing to lose; one that had bytes must still have them.
            had_bytes = artifact.digest is not None
            if (
                had_bytes
                and artifacts.is_within(artifact.uri)
                and not artifacts.exists(artifact.uri)
            ):
                return Decision(f"miss: the cached artifact {artifact.uri} no longer exists")
    finished = hit.finished_at.isoformat() if hit.finished_at else "?"
    return Decision(
        f"hit: same fingerprint as task {hit.path} of run {hit.run_id}, finished {finished}",
        hit,
        outputs,
    )
