"""KFP v2 semantics, run for real: child processes, SQLite, local artifacts."""

from __future__ import annotations

import socket
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
    # Where it failed is recorded too, not only where a task succeeded.
    assert ran["fail"].node == socket.gethostname()


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


@dsl.component
def wait_for_all(me: int, folder: str, count: int) -> int:
    import os
    import time

    open(os.path.join(folder, f"started-{me}"), "w").close()
    deadline = time.monotonic() + 30
    while len([n for n in os.listdir(folder) if n.startswith("started-")]) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the other tasks never started: tasks ran one at a time")
        time.sleep(0.01)
    return me


def test_independent_tasks_run_at_the_same_time(platform: Platform, tmp_path: Path) -> None:
    @dsl.pipeline
    def together(folder: str) -> None:
        for i in range(4):
            wait_for_all(me=i, folder=folder, count=4)

    ran = run_pipeline(platform, together, folder=str(tmp_path))
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error


def test_parallelism_limit_bounds_overlapping_iterations(platform: Platform) -> None:
    @dsl.pipeline
    def limited() -> None:
        with dsl.ParallelFor([1, 2, 3, 4, 5, 6], parallelism=2) as x:
            square(x=x)

    ran = run_pipeline(platform, limited)
    assert ran.run.state == RunState.SUCCEEDED
    spans = [
        (t.started_at, t.finished_at)
        for t in ran.tasks.values()
        if t.kind == TaskKind.DAG and t.iteration_index is not None
    ]
    assert len(spans) == 6
    for start, _ in spans:
        overlapping = [s for s, e in spans if s is not None and e is not None and s <= start < e]
        assert len(overlapping) <= 2


@dsl.component
def flaky_then_ok(counter: str, fail_times: int) -> int:
    import os

    seen = 0
    if os.path.exists(counter):
        with open(counter) as f:
            seen = int(f.read())
    with open(counter, "w") as f:
        f.write(str(seen + 1))
    if seen < fail_times:
        raise RuntimeError(f"attempt {seen + 1} fails")
    return seen + 1


def test_retry_succeeds_on_a_later_attempt(platform: Platform, tmp_path: Path) -> None:
    @dsl.pipeline
    def eventually(counter: str) -> int:
        return flaky_then_ok(counter=counter, fail_times=2).set_retry(num_retries=3).output

    ran = run_pipeline(platform, eventually, counter=str(tmp_path / "n"))
    assert ran.run.state == RunState.SUCCEEDED
    assert ran.run.outputs == {"Output": 3}
    assert ran["flaky-then-ok"].attempts == 3
    logs = platform.artifacts.read_text(ran["flaky-then-ok"].log_uri or "")
    assert "attempt 3" not in logs  # the log of the last attempt, which succeeded


@dsl.component
def slow_then_ok(counter: str, fail_times: int) -> int:
    import time
    from pathlib import Path

    time.sleep(0.3)
    path = Path(counter)
    seen = int(path.read_text()) if path.exists() else 0
    path.write_text(str(seen + 1))
    if seen < fail_times:
        raise RuntimeError(f"attempt {seen + 1} fails")
    return seen + 1


def test_a_retried_tasks_running_time_leaves_out_its_waits(
    platform: Platform, tmp_path: Path
) -> None:
    @dsl.pipeline
    def eventually(counter: str) -> int:
        task = slow_then_ok(counter=counter, fail_times=2)
        return task.set_retry(num_retries=2, backoff_duration="1s", backoff_factor=1).output

    ran = run_pipeline(platform, eventually, counter=str(tmp_path / "n"))
    task = ran["slow-then-ok"]
    assert task.state == TaskState.SUCCEEDED and task.attempts == 3
    assert task.created_at and task.first_started_at and task.started_at and task.finished_at
    assert task.first_started_at < task.started_at
    # Created as its first attempt starts (the two stamps a few microseconds apart).
    assert abs((task.first_started_at - task.created_at).total_seconds()) < 0.5
    # Three attempts of 0.3 s at least, and the two back-offs of 1 s between them apart.
    assert task.ran_seconds >= 0.9
    span = (task.finished_at - task.first_started_at).total_seconds()
    assert span - task.ran_seconds >= 1.9
    # The latest attempt's time is part of it, not all of it.
    assert (task.finished_at - task.started_at).total_seconds() < task.ran_seconds


@dsl.container_component
def shell_greeting(name: str, greeting: dsl.OutputPath(str), page: Output[Dataset]):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'printf "%s, %s" "$GREETING" "$0" > "$1"; echo page > "$2"'],
        args=[name, greeting, page.path],
    )


def test_container_component_output_files_and_env(platform: Platform) -> None:
    @dsl.pipeline
    def greet(name: str = "world") -> str:
        return shell_greeting(name=name).set_env_variable("GREETING", "hello").outputs["greeting"]

    ran = run_pipeline(platform, greet, name="dagyard")
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    assert ran.run.outputs["Output"] == "hello, dagyard"
    page = [a for a in platform.store.list_artifacts(ran.run.run_id) if a.output_key == "page"]
    assert Path(page[0].uri).read_text() == "page\n"


@dsl.component
def identify(job: str, job_id: str, task: str, task_id: str) -> str:
    print("placeholders:", job, job_id, task, task_id)
    return "|".join([job, job_id, task, task_id])


def test_runtime_placeholders_are_filled(platform: Platform) -> None:
    @dsl.pipeline
    def who() -> str:
        return identify(
            job=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
            job_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            task=dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
            task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER,
        ).output

    ran = run_pipeline(platform, who)
    job, job_id, task, task_id = ran.run.outputs["Output"].split("|")
    assert (job, job_id) == (ran.run.display_name, ran.run.run_id)
    assert (task, task_id) == ("identify", ran["identify"].task_id)
    log = platform.artifacts.read_text(ran["identify"].log_uri or "")
    assert f"placeholders: {job}" in log


@dsl.component
def maybe(value: int = -1) -> int:
    return value


def test_ignore_upstream_failure_runs_with_defaults(platform: Platform) -> None:
    @dsl.pipeline
    def tolerant() -> int:
        broken = fail(message="x")
        return maybe().after(broken).ignore_upstream_failure().output

    ran = run_pipeline(platform, tolerant)
    assert ran["maybe"].state == TaskState.SUCCEEDED
    assert ran["maybe"].outputs == {"Output": -1}
    assert ran.run.state == RunState.FAILED


def test_max_staleness_turns_an_old_entry_into_a_miss(platform: Platform) -> None:
    from dagyard.compiler import compile_to_dict
    from dagyard.service import runs

    @dsl.pipeline
    def cached() -> int:
        return add(a=1, b=1).output

    spec = compile_to_dict(cached)
    runs.drive_run(platform, runs.submit_run(platform, spec, parameters={}).run_id)
    again = runs.submit_run(platform, spec, parameters={}, max_cache_staleness_seconds=0)
    run = runs.drive_run(platform, again.run_id)
    task = platform.store.list_tasks(run.run_id)[0]
    assert task.state == TaskState.SUCCEEDED
    assert "older than the maximum staleness of 0 s" in (task.cache_reason or "")
    off = runs.submit_run(platform, spec, parameters={}, cache_enabled=False)
    task = platform.store.list_tasks(runs.drive_run(platform, off.run_id).run_id)[0]
    assert task.cache_reason == "miss: caching is disabled for this run"


@dsl.component
def make_part(i: int, part: Output[Dataset]) -> None:
    with open(part.path, "w") as f:
        f.write(str(i))


@dsl.component
def read_part(part: Input[Dataset]) -> int:
    return int(open(part.path).read()) * 10


@dsl.component
def sum_parts(parts: Input[list[Dataset]]) -> int:
    return sum(int(open(p.path).read()) for p in parts)


@dsl.pipeline
def make_parts() -> list[Dataset]:  # type: ignore[type-arg]
    with dsl.ParallelFor([1, 2, 3]) as i:
        part = make_part(i=i)
    return dsl.Collected(part.outputs["part"])  # type: ignore[return-value]


def test_collected_artifacts_fan_in_and_loop_over_artifacts(platform: Platform) -> None:
    @dsl.pipeline
    def parts() -> int:
        made = make_parts()
        with dsl.ParallelFor(made.output) as part:
            read_part(part=part)
        return sum_parts(parts=made.output).output

    ran = run_pipeline(platform, parts)
    assert ran.run.state == RunState.SUCCEEDED, ran.run.error
    assert ran.run.outputs == {"Output": 6}
    reads = sorted(t.outputs["Output"] for t in ran.tasks.values() if t.name == "read-part")
    assert reads == [10, 20, 30]


def test_a_task_can_bound_its_own_cache_staleness(platform: Platform) -> None:
    @dsl.pipeline
    def two() -> None:
        add(a=1, b=1)
        add(a=2, b=2).set_caching_options(True, max_cache_staleness=0)

    first = run_pipeline(platform, two)
    second = run_pipeline(platform, two)
    assert first["add"].fingerprint == second["add"].fingerprint
    assert second["add"].state == TaskState.CACHED
    assert second["add-2"].state == TaskState.SUCCEEDED
    assert "maximum staleness of 0 s" in (second["add-2"].cache_reason or "")


@dsl.component
def score_only(metrics: Output[Metrics]) -> None:
    metrics.log_metric("accuracy", 0.9)


def test_metadata_only_artifacts_do_not_spoil_the_cache(platform: Platform) -> None:
    @dsl.pipeline
    def scored() -> None:
        score_only()

    run_pipeline(platform, scored)
    again = run_pipeline(platform, scored)
    assert again["score-only"].state == TaskState.CACHED, again["score-only"].cache_reason


def test_a_deleted_cached_artifact_is_a_miss(platform: Platform) -> None:
    @dsl.pipeline
    def rows() -> None:
        write_rows(rows=2)

    first = run_pipeline(platform, rows)
    data = [a for a in platform.store.list_artifacts(first.run.run_id) if a.output_key == "data"]
    Path(data[0].uri).unlink()
    again = run_pipeline(platform, rows)
    assert again["write-rows"].state == TaskState.SUCCEEDED
    assert "no longer exists" in (again["write-rows"].cache_reason or "")


@dsl.component
def link_out(target: str, value: dsl.OutputPath(str)) -> None:  # type: ignore[valid-type]
    import os

    os.symlink(target, value)


@dsl.pipeline(name="linked-parameter")
def linked_parameter(target: str) -> None:
    link_out(target=target)


def test_an_output_parameter_linked_out_of_its_task_fails_the_task(
    platform: Platform, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the run")
    ran = run_pipeline(platform, linked_parameter, target=str(secret))
    assert ran.run.state == RunState.FAILED
    task = ran["link-out"]
    assert task.state == TaskState.FAILED
    assert "Output parameter 'value' is a symbolic link" in (task.error or "")
    assert "not for the run" not in str(task.outputs)
