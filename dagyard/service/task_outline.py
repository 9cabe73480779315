"""A run's task outline: what a page needs to draw a run whose loops have thousands of
iterations without reading every task record. A pure function of the records' digests
(`TaskDigest`); reading them and choosing when to outline is `service.runs`'s.

Patterns are the UI's (ui/src/graph/model.ts, `TaskIndex`), and must stay so: an
*iteration record* is one with an `iteration_index` whose parent record (the record at
its path without the last segment) is a loop, or, when there is no parent record, a DAG
whose path ends in `/<digits>`. A record's pattern is its path with the segment of every
iteration record among its ancestors-or-self replaced by `*`: `for-loop-2/17/square` is
`for-loop-2/*/square`. A record is *inside an iteration* when its pattern has a `*`.

The outline keeps every record outside the iterations, and inside them only the first
`MOST_FAILED` failed ones and the first `MOST_WARNED` with warnings (creation order);
the rest it tells as state counts by pattern. No I/O, no clock.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from dagyard.store.records import TaskDigest, TaskKind, TaskState

MOST_FAILED = 100
MOST_WARNED = 100

# {pattern: {state: number of records}}
StateCounts = dict[str, dict[str, int]]

_LEAF_KINDS = (TaskKind.CONTAINER, TaskKind.IMPORTER)
_ENDS_IN_INDEX = re.compile(r"/\d+$")


@dataclasses.dataclass(frozen=True)
class Outline:
    """The summary of a run's task records. `complete`: the answer it goes with holds
    every record, and nothing else is set. Otherwise `selected` are the records kept
    (in creation order), `left_out` how many of the run's records are not among them,
    `counts` the states of all records by pattern, `leaves` the states of the
    container and importer records below each pattern (at all depths), and `warned`
    how many records of the run have warnings (selected or not)."""

    complete: bool
    selected: tuple[TaskDigest, ...] = ()
    left_out: int = 0
    counts: StateCounts = dataclasses.field(default_factory=dict)
    leaves: StateCounts = dataclasses.field(default_factory=dict)
    warned: int = 0


COMPLETE = Outline(complete=True)


def state_key(digest: TaskDigest) -> str:
    """The state a page shows: CACHED for a success served from the cache."""
    if digest.state is TaskState.SUCCEEDED and digest.cache_hit:
        return str(TaskState.CACHED)
    return str(digest.state)


def outline(digests: Sequence[TaskDigest]) -> Outline:
    """The outline of a run's task records, given in creation order (all of them: the
    counts are the run's)."""
    patterns = _Patterns(digests)
    counts: StateCounts = {}
    leaves: StateCounts = {}
    selected: list[TaskDigest] = []
    failed = warned = warned_in_all = 0
    for digest in digests:
        state = state_key(digest)
        pattern, inside = patterns.of(digest.path)
        _add(counts, pattern, state)
        if digest.kind in _LEAF_KINDS:
            for ancestor in patterns.ancestors(digest.path):
                _add(leaves, ancestor, state)
        keep = not inside
        warned_in_all += digest.warned
        if inside and digest.state is TaskState.FAILED:
            failed += 1
            keep = failed <= MOST_FAILED
        if inside and digest.warned:
            warned += 1
            keep = keep or warned <= MOST_WARNED
        if keep:
            selected.append(digest)
    return Outline(
        complete=False,
        selected=tuple(selected),
        left_out=len(digests) - len(selected),
        counts=counts,
        leaves=leaves,
        warned=warned_in_all,
    )


def _add(counts: StateCounts, pattern: str, state: str) -> None:
    by_state = counts.setdefault(pattern, {})
    by_state[state] = by_state.get(state, 0) + 1


class _Patterns:
    """The pattern of every path (and path prefix) of a run, each worked out once."""

    def __init__(self, digests: Sequence[TaskDigest]) -> None:
        by_path = {d.path: d for d in digests}
        self._iterations = {d.path for d in digests if _is_iteration(d, by_path)}
        # path -> (pattern, inside an iteration)
        self._known: dict[str, tuple[str, bool]] = {}

    def of(self, path: str) -> tuple[str, bool]:
        """The pattern of `path`, and whether it is inside an iteration."""
        found = self._known.get(path)
        if found is not None:
            return found
        parent, slash, segment = path.rpartition("/")
        iteration = path in self._iterations
        if slash:
            above, inside = self.of(parent)
            pattern = f"{above}/{'*' if iteration else segment}"
        else:
            pattern, inside = ("*" if iteration else segment), False
        found = (pattern, inside or iteration)
        self._known[path] = found
        return found

    def ancestors(self, path: str) -> list[str]:
        """The patterns of the proper ancestors of `path`, nearest last."""
        found = []
        parent, slash, _ = path.rpartition("/")
        while slash:
            found.append(self.of(parent)[0])
            parent, slash, _ = parent.rpartition("/")
        found.reverse()
        return found


def _is_iteration(digest: TaskDigest, by_path: dict[str, TaskDigest]) -> bool:
    if digest.iteration_index is None:
        return False
    parent = by_path.get(digest.path.rpartition("/")[0])
    if parent is not None:
        return parent.kind is TaskKind.LOOP
    return digest.kind is TaskKind.DAG and _ENDS_IN_INDEX.search(digest.path) is not None
