"""KFP v2 semantics, run for real: child processes, SQLite, local artifacts."""

from __future__ import annotations

from pathlib import Path

from engine_support import run_pipeline

from dagyard import dsl
from dagyard.dsl import Dataset, Input, Metrics, Output
from dagyard.service.platform import Platform
from dagyard.store.records import RunState, TaskKind, TaskState


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.component
def total(xs: list[int]) -> int:
    return sum(xs)


@dsl.component
def write_rows(rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        for i in range(rows):
            f.write(f"{i}\n")
    data.metadata["rows"] = rows


@dsl.component
def count_rows(data: Input[Dataset], metrics: Output[Metrics]) -> int:
    with open(data.path) as f:
        n = sum(1 for _ in f)
    metrics.log_metric("rows", n)
    return n


@dsl.component
def fail(message: str) -> None:
    raise RuntimeError(message)


@dsl.component
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}:{status.pipeline_task_name}"


def test_parameters_flow_between_tasks_and_become_pipeline_outputs(platform: Platform) -> None:
    @dsl.pipeline
    def chain(a: int = 1) -> int:
        first = add(a=a, b=2)
        return add(a=first.output, b=10).output

    ran = run_pipeline(platform, chain, a=5)
    assert ran.run.state == RunState.SUCCEEDED
    assert ran.run.outputs == {"Output": 17}
    assert ran["add"].outputs == {"Output": 7}
    assert ran["add-2"].state == TaskState.SUCCEEDED


def test_artifacts_flow_with_metadata_and_lineage(platform: Platform) -> None:
    @dsl.pipeline
    def data_flow() -> int:
        written = write_rows(rows=4)
        return count_rows(data=written.outputs["data"]).outputs["Output"]

    ran = run_pipeline(platform, data_flow)
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    assert ran.run.outputs["Output"] == 4
    artifacts = {a.output_key: a for a in platform.store.list_artifacts(ran.run.run_id)}
    assert artifacts["data"].metadata == {"rows": 4}
    assert artifacts["data"].digest is not None
    assert artifacts["metrics"].metadata == {"rows": 4}
    assert Path(artifacts["data"].uri).read_text() == "0\n1\n2\n3\n"
    consumer = ran["count-rows"]
    events = platform.store.list_events(task_id=consumer.task_id)
    assert {(e.kind.value, e.key) for e in events} == {("INPUT", "data"), ("OUTPUT", "metrics")}


def test_loop_over_task_output_with_collected_fan_in(platform: Platform) -> None:
    @dsl.pipeline
    def squares(n: int = 4) -> int:
        items = numbers(n=n)
        with dsl.ParallelFor(items.output, parallelism=2) as x:
            sq = square(x=x)
        return total(xs=dsl.Collected(sq.output)).output

    ran = run_pipeline(platform, squares, n=10)
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    assert ran.run.outputs == {"Output": 385}
    loop = ran["for-loop-1"]
    assert loop.kind == TaskKind.LOOP
    iterations = [t for t in ran.tasks.values() if t.parent_task_id == loop.task_id]
    assert sorted(t.iteration_index for t in iterations) == list(range(10))


def test_conditions_record_skipped_branches(platform: Platform) -> None:
    @dsl.pipeline
    def branches(n: int = 1) -> int:
        value = add(a=n, b=0)
        with dsl.If(value.output > 5):
            big = add(a=100, b=0)
        with dsl.Else():
            small = add(a=1, b=0)
        return dsl.OneOf(big.output, small.output)

    ran = run_pipeline(platform, branches, n=2)
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    assert ran.run.outputs == {"Output": 1}
    assert ran["condition-branches-1/condition-2"].state == TaskState.SKIPPED
    assert ran["condition-branches-1/condition-3"].state == TaskState.SUCCEEDED
    assert "condition-branches-1/condition-2/add-2" not in ran.tasks


def test_exit_handler_runs_after_a_failure_and_the_run_fails(platform: Platform) -> None:
    @dsl.pipeline
    def guarded() -> None:
        final = report()
        with dsl.ExitHandler(final):
            fail(message="boom")

    ran = run_pipeline(platform, guarded)
    assert ran.run.state == RunState.FAILED
    assert ran["exit-handler-1/fail"].state == TaskState.FAILED
    assert "boom" in (ran["exit-handler-1/fail"].error or "")
    assert ran["report"].state == TaskState.SUCCEEDED
    assert ran["report"].outputs == {"Output": "FAILED:exit-handler-1"}


def test_downstream_of_a_failure_is_skipped_not_run(platform: Platform) -> None:
    @dsl.pipeline
    def broken() -> None:
        bad = fail(message="nope")
        add(a=1, b=2).after(bad)

    ran = run_pipeline(platform, broken)
    assert ran.run.state == RunState.FAILED
    assert ran["add"].state == TaskState.SKIPPED
    assert ran["add"].attempts == 0


def test_retry_policy_retries_then_fails_with_attempts_counted(platform: Platform) -> None:
    @dsl.pipeline
    def flaky() -> None:
        fail(message="always").set_retry(num_retries=2, backoff_duration="0s")

    ran = run_pipeline(platform, flaky)
    assert ran["fail"].state == TaskState.FAILED
    assert ran["fail"].attempts == 3


def test_cache_hit_reuses_outputs_and_says_why(platform: Platform) -> None:
    @dsl.pipeline
    def cached(a: int = 1) -> int:
        return add(a=a, b=1).output

    first = run_pipeline(platform, cached)
    second = run_pipeline(platform, cached)
    assert first["add"].cache_hit is False
    assert second["add"].state == TaskState.CACHED
    assert second["add"].outputs == {"Output": 2}
    assert (second["add"].cache_reason or "").startswith("hit:")
    third = run_pipeline(platform, cached, a=2)
    assert third["add"].state == TaskState.SUCCEEDED
    assert "no earlier successful task" in (third["add"].cache_reason or "")


def test_changed_input_bytes_under_the_same_name_miss_the_cache(
    platform: Platform, tmp_path: Path
) -> None:
    data = tmp_path / "data.txt"
    data.write_text("1\n2\n")

    @dsl.pipeline
    def imported(uri: str) -> int:
        source = dsl.importer(artifact_uri=uri, artifact_class=Dataset)
        return count_rows(data=source.output).outputs["Output"]

    first = run_pipeline(platform, imported, uri=str(data))
    assert first.run.outputs["Output"] == 2
    data.write_text("1\n2\n3\n")
    second = run_pipeline(platform, imported, uri=str(data))
    assert second["count-rows"].state == TaskState.SUCCEEDED
    assert second.run.outputs["Output"] == 3
