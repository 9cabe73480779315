"""dagyard.Client's runs against a real server whose RunWorker executes them: from a
package and from a function, waiting (CANCELED counts as done), tasks, listing,
archive, delete, and `run` (submit and wait)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_pipelines import compiled, slow, sum_and_write

from dagyard import dsl
from dagyard.client import Client, Run
from dagyard.dsl import Metrics, Output
from dagyard.service.worker import RunWorker


@pytest.mark.slow
def test_runs_from_package_and_function_finish_with_tasks(
    client: Client, worker: RunWorker, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path)
    from_yaml = client.create_run_from_pipeline_package(
        str(package), arguments={"a": 4}, run_name="summing", experiment_name="runs"
    )
    from_func = client.create_run_from_pipeline_func(
        sum_and_write, {"a": 1, "b": 5}, experiment_name="runs", enable_caching=False
    )
    assert isinstance(from_yaml.run_info, Run) and from_yaml.run_info.display_name == "summing"
    assert from_func.run_info.parameters == {"a": 1, "b": 5}
    assert from_func.run_info.display_name.startswith("sum-and-write ")

    for created in (from_yaml, from_func):
        done = client.wait_for_run_completion(created.run_id, timeout=120, sleep_duration=0.3)
        assert done.state == "SUCCEEDED", done.error
        assert done.done and done.finished_at is not None
        assert sorted(t.display_name for t in done.tasks) == ["add", "add-2", "write"]
        assert all(t.state == "SUCCEEDED" and t.start_time for t in done.tasks)

    experiment = client.get_experiment(experiment_name="runs")
    only_sums = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": "summing"}]}
    )
    found = client.list_runs(experiment_id=experiment.experiment_id, filter=only_sums)
    assert [r.run_id for r in found.runs] == [from_yaml.run_id] and found.total_size == 1
    newest = client.list_runs(sort_by="created_at desc", page_size=1)
    assert [r.run_id for r in newest.runs] == [from_func.run_id] and newest.next_page_token

    client.archive_run(from_func.run_id)
    assert client.get_run(from_func.run_id).storage_state == "ARCHIVED"
    client.delete_run(from_yaml.run_id)
    assert [r.run_id for r in client.list_runs().runs] == [from_func.run_id]


@pytest.mark.slow
def test_run_waits_for_the_finished_run(client: Client, worker: RunWorker, tmp_path: Path) -> None:
    finished = client.run(sum_and_write, params={"a": 2})
    assert finished.state == "SUCCEEDED" and len(finished.tasks) == 3
    from_file = client.run(compiled(sum_and_write, tmp_path), {"a": 3}, experiment="files")
    assert from_file.state == "SUCCEEDED"
    assert client.get_experiment(experiment_id=from_file.experiment_id).display_name == "files"
    assert client.get_experiment(experiment_id=finished.experiment_id).display_name == "Default"


def test_run_without_wait_returns_the_new_run(client: Client) -> None:
    queued = client.run(slow, wait=False)
    assert queued.state == "PENDING" and not queued.done


def test_waiting_ends_on_canceled_unlike_kfp(client: Client) -> None:
    pending = client.create_run_from_pipeline_func(slow)  # no worker: it stays PENDING
    client.terminate_run(pending.run_id)
    done = client.wait_for_run_completion(pending.run_id, timeout=10, sleep_duration=0.1)
    assert done.state == "CANCELED" and done.done


def test_waiting_past_the_timeout_raises_timeout_error(client: Client) -> None:
    pending = client.create_run_from_pipeline_func(slow)
    with pytest.raises(TimeoutError, match=f"Run {pending.run_id} is still PENDING"):
        client.wait_for_run_completion(pending.run_id, timeout=0.3, sleep_duration=0.1)


@dsl.component
def scored(quality: float, metrics: Output[Metrics]) -> None:
    metrics.log_metric("quality", quality)


@dsl.pipeline(name="scored")
def scoring(quality: float) -> None:
    scored(quality=quality)


@pytest.mark.slow
def test_run_metrics_are_read_for_several_runs_at_once(client: Client, worker: RunWorker) -> None:
    good = client.run(scoring, {"quality": 0.9})
    bad = client.run(scoring, {"quality": 0.2})
    metrics = client.get_run_metrics([good.run_id, bad.run_id])
    assert metrics == {good.run_id: {"scored/quality": 0.9}, bad.run_id: {"scored/quality": 0.2}}
