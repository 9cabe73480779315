"""The decision for a ready node, on typed plans of compiled pipelines: no executor, no
store, no process; the cache is an in-memory look-up."""

from __future__ import annotations

from typing import Any

import pytest

from dagyard import dsl, ir
from dagyard.compiler import compile_to_dict
from dagyard.engine import caching, loops, retries
from dagyard.engine.commands import RuntimeContext
from dagyard.engine.decisions import (
    UPSTREAM_FAILED,
    Cached,
    CachePolicy,
    Conclude,
    Facts,
    OpenDag,
    OpenLoop,
    Start,
    Wait,
    decide,
)
from dagyard.engine.scopes import Node, Result, Scope
from dagyard.engine.termination import NOT_RUN_TERMINATED
from dagyard.store.records import Task, TaskKind, TaskState


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def numbers(n: int) -> list[int]:
    return list(range(n))


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.pipeline
def shapes(x: int = 2) -> None:
    first = add(a=x, b=1)
    with dsl.If(first.output > 5):
        add(a=first.output, b=1)
    second = add(a=first.output, b=3).set_retry(
        num_retries=2, backoff_duration="10s", backoff_factor=3
    )
    with dsl.ExitHandler(report()):
        add(a=second.output, b=1)
    with dsl.ParallelFor(numbers(n=x).output, parallelism=2) as item:
        add(a=item, b=1)


@dsl.pipeline
def cached(x: int = 2) -> None:
    add(a=x, b=1).set_caching_options(True)
    add(a=x, b=2).set_caching_options(False)


def root_scope(pipeline: Any, **parameters: Any) -> Scope:
    plan = ir.plan(ir.from_dict(compile_to_dict(pipeline)))
    defaults = {name: d.default for name, d in plan.root.inputs.parameters.items() if d.has_default}
    return Scope(
        path="",
        component=plan.root,
        parameters={**defaults, **parameters},
        artifacts={},
        task=None,
    )


class FakeCache:
    """An in-memory cache: the fingerprints it holds a finished task for."""

    def __init__(self, *hits: str) -> None:
        self.hits = set(hits)
        self.asked: list[tuple[str, float | None]] = []

    def look_up(self, fingerprint: str, staleness: float | None) -> caching.Decision:
        self.asked.append((fingerprint, staleness))
        if fingerprint in self.hits:
            return caching.Decision("hit", hit=Task("t0", "r0", "add", "add", TaskKind.CONTAINER))
        return caching.Decision("miss: not in the fake cache")


def facts(
    cache: FakeCache | None = None,
    *,
    now: float = 0.0,
    stopping: bool = False,
    slot_free: bool = True,
    enabled: bool = True,
) -> Facts:
    return Facts(
        now=now,
        stopping=stopping,
        slot_free=slot_free,
        context=RuntimeContext("job", "run-1", "task", "task-1", "/root", "t0", "t0"),
        cache=CachePolicy(enabled, None, (cache or FakeCache()).look_up),
    )


def finish(node: Node, state: TaskState, error: str | None = None, **outputs: Any) -> None:
    node.result = Result(state, dict(outputs), error=error)


def test_a_task_whose_upstream_succeeded_starts_with_its_inputs_resolved() -> None:
    scope = root_scope(shapes, x=7)
    finish(scope.nodes["add"], TaskState.SUCCEEDED, Output=8)

    decision = decide(scope.nodes["add-3"], facts())

    assert isinstance(decision, Start)
    assert decision.parameters == {"a": 8, "b": 3}
    assert decision.cache_reason == "miss: not in the fake cache"


def test_a_group_whose_condition_is_false_is_skipped_without_an_error() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["add"], TaskState.SUCCEEDED, Output=3)

    decision = decide(scope.nodes["condition-1"], facts())

    assert decision == Conclude(Result(TaskState.SKIPPED))


def test_a_group_whose_condition_holds_opens_its_scope() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["add"], TaskState.SUCCEEDED, Output=6)

    decision = decide(scope.nodes["condition-1"], facts(slot_free=False))

    assert isinstance(decision, OpenDag)
    assert decision.parameters == {"pipelinechannel--add-Output": 6}


def test_downstream_of_a_skipped_task_is_skipped_and_of_a_failed_one_says_why() -> None:
    scope = root_scope(shapes)

    finish(scope.nodes["add"], TaskState.SKIPPED)
    assert decide(scope.nodes["add-3"], facts()) == Conclude(Result(TaskState.SKIPPED))

    finish(scope.nodes["add"], TaskState.FAILED, error="boom")
    assert decide(scope.nodes["add-3"], facts()) == Conclude(
        Result(TaskState.SKIPPED, error=UPSTREAM_FAILED)
    )


def test_an_exit_task_runs_after_a_failed_group_and_reads_its_final_status() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["exit-handler-2"], TaskState.FAILED, error="a task inside failed")

    decision = decide(scope.nodes["report"], facts())

    assert isinstance(decision, Start)
    status = decision.parameters["status"]
    assert status["state"] == "FAILED"
    assert status["error"] == {"code": 1, "message": "a task inside failed"}


def test_on_a_terminated_run_only_exit_tasks_start() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["exit-handler-2"], TaskState.CANCELED)

    assert decide(scope.nodes["numbers"], facts(stopping=True)) == Conclude(
        Result(TaskState.CANCELED, error=NOT_RUN_TERMINATED)
    )
    exit_task = decide(scope.nodes["report"], facts(stopping=True))
    assert isinstance(exit_task, Start)
    assert exit_task.parameters["status"]["state"] == "CANCELED"


def test_a_container_task_waits_for_a_free_slot() -> None:
    scope = root_scope(shapes)

    assert decide(scope.nodes["numbers"], facts(slot_free=False)) == Wait()


def test_a_cached_result_is_reused_and_the_fingerprint_is_what_was_looked_up() -> None:
    scope = root_scope(cached)
    miss = FakeCache()
    first = decide(scope.nodes["add"], facts(miss))
    assert isinstance(first, Start)
    assert first.cache_reason == "miss: not in the fake cache"
    assert miss.asked == [(first.fingerprint, None)]

    hit = FakeCache(first.fingerprint)
    decision = decide(scope.nodes["add"], facts(hit))

    assert isinstance(decision, Cached)
    assert decision.fingerprint == first.fingerprint


def test_the_cache_is_not_asked_when_caching_is_off_for_the_task_or_the_run() -> None:
    scope = root_scope(cached)
    cache = FakeCache()

    off_for_task = decide(scope.nodes["add-2"], facts(cache))
    off_for_run = decide(scope.nodes["add"], facts(cache, enabled=False))

    assert isinstance(off_for_task, Start) and isinstance(off_for_run, Start)
    assert off_for_task.cache_reason == "miss: caching is disabled for this task"
    assert off_for_run.cache_reason == "miss: caching is disabled for this run"
    assert cache.asked == []


def test_a_loop_opens_over_its_upstream_list_within_its_parallelism() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["numbers"], TaskState.SUCCEEDED, Output=[0, 1, 2, 3, 4])

    decision = decide(scope.nodes["for-loop-3"], facts())

    assert isinstance(decision, OpenLoop)
    assert decision.loop.items == [0, 1, 2, 3, 4]
    assert loops.open_count(decision.loop, max_parallel=8, stopping=False) == 2
    assert loops.open_count(decision.loop, max_parallel=8, stopping=True) == 0


def test_a_loop_over_something_not_a_list_fails_naming_it() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["numbers"], TaskState.SUCCEEDED, Output={"a": 1})

    decision = decide(scope.nodes["for-loop-3"], facts())

    assert isinstance(decision, Conclude)
    assert decision.result.state == TaskState.FAILED
    assert "Loop 'for-loop-3' needs a list" in (decision.result.error or "")


def test_a_retry_backs_off_by_the_policy_then_runs_out() -> None:
    scope = root_scope(shapes)
    policy = scope.nodes["add-3"].spec.retry

    assert retries.retry_delay(policy, failures=1) == 10
    assert retries.retry_delay(policy, failures=2) == 30
    assert retries.retry_delay(policy, failures=3) is None


def test_a_task_waiting_out_its_backoff_waits_then_starts() -> None:
    scope = root_scope(shapes)
    finish(scope.nodes["add"], TaskState.SUCCEEDED, Output=1)
    node = scope.nodes["add-3"]
    node.not_before = 10.0

    assert decide(node, facts(now=9.0)) == Wait()
    assert isinstance(decide(node, facts(now=10.0)), Start)


@pytest.mark.parametrize("lost", [1, 3])
def test_a_lost_attempt_runs_again_up_to_the_system_retries(lost: int) -> None:
    assert retries.system_retries_exhausted(lost) is None


def test_a_task_lost_once_too_often_fails_saying_how_often() -> None:
    reason = retries.system_retries_exhausted(retries.MAX_SYSTEM_RETRIES + 1)

    assert reason is not None and "lost 4 times" in reason
