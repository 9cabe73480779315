"""The real kfp 2.17.0 `kfp.Client`, unmodified, against a real Dagyard server with a
worker executing the runs: upload, experiments, runs from a kfp-SDK function and from a
Dagyard YAML, waiting, task details, filtered and sorted listing, archive, terminate,
delete."""

from __future__ import annotations

import json
import time
from pathlib import Path

import kfp
import pytest
from api_kfp_pipeline import kfp_pipeline
from api_pipelines import compiled, slow, sum_and_write
from api_server import Server

from dagyard.service.worker import RunWorker

pytestmark = [
    pytest.mark.kfp,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:This client only works with Kubeflow:FutureWarning"),
]


def wait_for_state(client: kfp.Client, run_id: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get_run(run_id).state != state:
        assert time.monotonic() < deadline, client.get_run(run_id).state
        time.sleep(0.2)


def test_kfp_client_drives_dagyard(server: Server, worker: RunWorker, tmp_path: Path) -> None:
    client = kfp.Client(host=server.url)
    package = compiled(sum_and_write, tmp_path)

    pipeline = client.upload_pipeline(str(package), pipeline_name="sums")
    version = client.upload_pipeline_version(
        str(package), pipeline_version_name="v2", pipeline_id=pipeline.pipeline_id
    )
    assert version.pipeline_id == pipeline.pipeline_id
    listed = client.list_pipelines()
    assert [p.display_name for p in listed.pipelines] == ["sums"] and listed.total_size == 1

    experiment = client.create_experiment("api-tests")
    from_func = client.create_run_from_pipeline_func(
        kfp_pipeline, arguments={"x": 5}, experiment_name="api-tests", run_name="doubling"
    )
    from_yaml = client.create_run_from_pipeline_package(
        str(package), arguments={"a": 4}, experiment_name="api-tests", run_name="summing"
    )
    for created in (from_func, from_yaml):
        done = client.wait_for_run_completion(created.run_id, timeout=120, sleep_duration=0.5)
        assert done.state == "SUCCEEDED", done.error
    details = client.get_run(from_func.run_id).run_details.task_details
    assert sorted(t.display_name for t in details) == [
        "kfp-double",
        "kfp-double-2",
    ]
    assert all(t.state == "SUCCEEDED" and t.start_time and t.end_time for t in details)

    only_sums = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": "summing"}]}
    )
    found = client.list_runs(experiment_id=experiment.experiment_id, filter=only_sums)
    assert [r.run_id for r in found.runs] == [from_yaml.run_id]
    newest_first = client.list_runs(sort_by="created_at desc", page_size=1)
    assert newest_first.runs[0].run_id == from_yaml.run_id and newest_first.next_page_token

    client.archive_run(from_func.run_id)
    assert client.get_run(from_func.run_id).storage_state == "ARCHIVED"

    folder = Path(server.platform.settings.artifact_root) / from_yaml.run_id
    assert folder.exists()
    client.delete_run(from_yaml.run_id)
    assert not folder.exists()
    assert [r.run_id for r in client.list_runs().runs] == [from_func.run_id]

    long = client.create_run_from_pipeline_package(
        str(compiled(slow, tmp_path)), arguments={"seconds": 60.0}, run_name="long"
    )
    wait_for_state(client, long.run_id, "RUNNING")
    client.terminate_run(long.run_id)
    wait_for_state(client, long.run_id, "CANCELED")
