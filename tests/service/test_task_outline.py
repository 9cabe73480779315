"""The outline of a run's task records (dagyard.service.task_outline): patterns as the UI
makes them, state counts by pattern, and the records kept."""

from __future__ import annotations

import time
from typing import Any

from dagyard.service.task_outline import outline
from dagyard.store.records import TaskDigest, TaskKind, TaskState

LOOP, DAG, CONTAINER, IMPORTER = TaskKind.LOOP, TaskKind.DAG, TaskKind.CONTAINER, TaskKind.IMPORTER
OK, FAILED, RUNNING = TaskState.SUCCEEDED, TaskState.FAILED, TaskState.RUNNING


def digest(path: str, kind: TaskKind, state: TaskState = OK, **fields: Any) -> TaskDigest:
    fields.setdefault("cache_hit", False)
    fields.setdefault("iteration_index", None)
    fields.setdefault("warned", False)
    fields.setdefault("revision", 1)
    return TaskDigest(task_id=f"id:{path}", path=path, kind=kind, state=state, **fields)


def iteration(path: str, state: TaskState = OK, **fields: Any) -> TaskDigest:
    return digest(path, DAG, state, iteration_index=int(path.rsplit("/", 1)[1]), **fields)


def with_condition(loop: str, i: int, leaf: str) -> list[TaskDigest]:
    """Iteration `i` of `loop`, with a condition holding one leaf."""
    return [
        iteration(f"{loop}/{i}"),
        digest(f"{loop}/{i}/condition-1", DAG, iteration_index=i),
        digest(f"{loop}/{i}/condition-1/{leaf}", CONTAINER, iteration_index=i),
    ]


def nested_run() -> list[TaskDigest]:
    """An outer loop of two iterations, each with a condition and an inner loop of two;
    one leaf cached, one failed, one warned."""
    found = [digest("prepare", CONTAINER), digest("outer", LOOP)]
    for i in range(2):
        found += with_condition("outer", i, "check")
        found.append(digest(f"outer/{i}/inner", LOOP, iteration_index=i))
        for j in range(2):
            failed = (i, j) == (1, 0)
            found += [
                iteration(f"outer/{i}/inner/{j}"),
                digest(
                    f"outer/{i}/inner/{j}/train",
                    CONTAINER,
                    FAILED if failed else OK,
                    iteration_index=j,
                    cache_hit=(i, j) == (0, 1),
                    warned=(i, j) == (1, 1),
                ),
            ]
    return found


def test_patterns_star_every_iteration_segment_of_nested_loops() -> None:
    summary = outline(nested_run())
    assert set(summary.counts) == {
        "prepare",
        "outer",
        "outer/*",
        "outer/*/condition-1",
        "outer/*/condition-1/check",
        "outer/*/inner",
        "outer/*/inner/*",
        "outer/*/inner/*/train",
    }
    assert summary.counts["outer/*"] == {"SUCCEEDED": 2}
    assert summary.counts["outer/*/inner/*"] == {"SUCCEEDED": 4}
    # A cached success is CACHED; a failure keeps its name.
    assert summary.counts["outer/*/inner/*/train"] == {"SUCCEEDED": 2, "CACHED": 1, "FAILED": 1}


def test_leaves_count_containers_below_each_pattern_at_all_depths() -> None:
    summary = outline([*nested_run(), digest("outer/0/inner/0/load", IMPORTER)])
    trains = {"SUCCEEDED": 2, "CACHED": 1, "FAILED": 1}
    assert summary.leaves["outer/*/inner/*"] == {**trains, "SUCCEEDED": 3}
    assert summary.leaves["outer/*/inner"] == {**trains, "SUCCEEDED": 3}
    assert summary.leaves["outer/*/condition-1"] == {"SUCCEEDED": 2}
    assert summary.leaves["outer"] == {**trains, "SUCCEEDED": 5}
    assert summary.leaves["outer/*"] == summary.leaves["outer"]
    assert "prepare" not in summary.leaves  # a leaf counts only what is below
    assert "outer/*/inner/*/train" not in summary.leaves


def test_only_records_outside_iterations_and_failed_or_warned_ones_are_kept() -> None:
    records = nested_run()
    summary = outline(records)
    assert [d.path for d in summary.selected] == [
        "prepare",
        "outer",
        "outer/1/inner/0/train",  # failed
        "outer/1/inner/1/train",  # warned
    ]
    assert summary.left_out == len(records) - 4
    assert not summary.complete


def test_at_most_a_hundred_failed_and_a_hundred_warned_are_kept_oldest_first() -> None:
    records = [digest("loop", LOOP)]
    for i in range(150):
        records += [
            iteration(f"loop/{i}", FAILED),
            digest(f"loop/{i}/step", CONTAINER, RUNNING, iteration_index=i, warned=True),
        ]
    summary = outline(records)
    kept = [d.path for d in summary.selected]
    assert kept[0] == "loop"
    assert kept[1:] == [path for i in range(100) for path in (f"loop/{i}", f"loop/{i}/step")]
    assert summary.warned == 150  # all of them, kept or not


def test_a_failed_and_warned_record_counts_toward_both_limits() -> None:
    records = [digest("loop", LOOP)]
    records += [iteration(f"loop/{i}", FAILED, warned=i < 100) for i in range(101)]
    records.append(iteration("loop/101", OK, warned=True))
    kept = [d.path for d in outline(records).selected]
    # 100 failed and warned fill both limits; a 101st failure and warning stay out.
    assert kept == ["loop", *(f"loop/{i}" for i in range(100))]


def test_an_iteration_without_its_loop_record_is_known_by_its_path() -> None:
    records = [
        iteration("loop/3"),  # its loop's record is not there
        digest("loop/3/step", CONTAINER, iteration_index=3),
        digest("pipeline/7", DAG),  # no iteration_index: a sub-DAG named "7", not an iteration
        digest("other/5", CONTAINER, iteration_index=5),  # not a DAG
    ]
    assert set(outline(records).counts) == {"loop/*", "loop/*/step", "pipeline/7", "other/5"}


def test_a_child_of_a_dag_is_no_iteration_even_with_an_index_and_a_number() -> None:
    records = [digest("pipe", DAG), digest("pipe/2", DAG, iteration_index=2)]
    assert [d.path for d in outline(records).selected] == ["pipe", "pipe/2"]


def test_twenty_thousand_records_are_outlined_quickly() -> None:
    records = [digest("prepare", CONTAINER), digest("loop", LOOP)]
    for i in range(5000):
        records += with_condition("loop", i, "square")
    records += [digest(f"loop/{i}/check", CONTAINER, iteration_index=i) for i in range(4998)]
    assert len(records) == 20_000
    started = time.perf_counter()
    summary = outline(records)
    took = time.perf_counter() - started
    assert summary.counts["loop/*/condition-1/square"] == {"SUCCEEDED": 5000}
    assert took < 1.0, f"{took:.3f} s"
