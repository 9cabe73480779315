"""dagyard.Client against a real server: pipelines, versions and experiments, the
server's errors as ApiError, and the API token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_pipelines import compiled, sum_and_write
from api_server import Server

import dagyard
from dagyard.client import ApiError, Client, Experiment, Pipeline, PipelineVersion
from dagyard.errors import DagyardError
from dagyard.service.platform import Platform


def test_client_is_exported_lazily_from_dagyard() -> None:
    assert dagyard.Client is Client


def test_pipelines_upload_list_get_and_delete(client: Client, tmp_path: Path) -> None:
    package = compiled(sum_and_write, tmp_path)

    pipeline = client.upload_pipeline(str(package), pipeline_name="sums", description="adds")
    assert isinstance(pipeline, Pipeline)
    assert (pipeline.display_name, pipeline.description) == ("sums", "adds")
    assert pipeline.created_at is not None and pipeline.created_at.tzinfo is not None

    by_id = client.upload_pipeline_version(package, "v2", pipeline_id=pipeline.pipeline_id)
    by_name = client.upload_pipeline_version(package, "v3", pipeline_name="sums")
    assert isinstance(by_id, PipelineVersion)
    assert {by_id.pipeline_id, by_name.pipeline_id} == {pipeline.pipeline_id}
    assert (by_id.display_name, by_name.display_name) == ("v2", "v3")

    client.upload_pipeline(package, pipeline_name="other")
    page = client.list_pipelines(page_size=1, sort_by="created_at desc")
    assert [p.display_name for p in page.pipelines] == ["other"]
    assert page.total_size == 2 and page.next_page_token
    rest = client.list_pipelines(
        page_token=page.next_page_token, page_size=1, sort_by="created_at desc"
    )
    assert [p.display_name for p in rest.pipelines] == ["sums"]

    assert client.get_pipeline(pipeline.pipeline_id) == pipeline
    assert client.get_pipeline_id("sums") == pipeline.pipeline_id
    assert client.get_pipeline_id("nothing") is None
    client.delete_pipeline(pipeline.pipeline_id)
    assert [p.display_name for p in client.list_pipelines().pipelines] == ["other"]


def test_experiments_create_once_get_by_id_or_name_and_list(client: Client) -> None:
    created = client.create_experiment("exp", description="first")
    assert isinstance(created, Experiment)
    assert (created.display_name, created.description) == ("exp", "first")
    assert created.storage_state == "AVAILABLE"
    assert client.create_experiment("exp") == created  # kfp: an existing one is returned

    assert client.get_experiment(experiment_id=created.experiment_id) == created
    assert client.get_experiment(experiment_name="exp") == created
    with pytest.raises(ApiError, match="No experiment is called 'missing'") as missing:
        client.get_experiment(experiment_name="missing")
    assert missing.value.status == 404

    client.create_experiment("second")
    names = [e.display_name for e in client.list_experiments(sort_by="display_name").experiments]
    assert names == ["exp", "second"]
    client.archive_experiment(created.experiment_id)
    assert client.get_experiment(created.experiment_id).storage_state == "ARCHIVED"
    client.unarchive_experiment(created.experiment_id)
    client.delete_experiment(created.experiment_id)
    assert [e.display_name for e in client.list_experiments().experiments] == ["second"]


def test_server_errors_become_api_errors_with_status_and_message(
    client: Client, tmp_path: Path
) -> None:
    with pytest.raises(ApiError) as unknown:
        client.get_run("no-such-run")
    assert isinstance(unknown.value, DagyardError)
    assert (unknown.value.status, unknown.value.code) == (404, 5)
    assert "no-such-run" in unknown.value.message

    package = compiled(sum_and_write, tmp_path)
    client.upload_pipeline(package, pipeline_name="twice")
    with pytest.raises(ApiError) as duplicate:
        client.upload_pipeline(package, pipeline_name="twice")
    assert (duplicate.value.status, duplicate.value.code) == (409, 6)

    with pytest.raises(ApiError) as bad_filter:
        client.list_runs(filter=json.dumps({"predicates": [{"operation": 99}]}))
    assert bad_filter.value.status == 400 and bad_filter.value.message

    with pytest.raises(ApiError) as bad_argument:
        client.create_run_from_pipeline_package(package, arguments={"a": "not a number"})
    assert bad_argument.value.status == 400 and "a" in bad_argument.value.message


def test_an_unreachable_server_is_an_api_error_that_says_so(server: Server) -> None:
    url = server.url
    server.stop()
    with Client(host=url, timeout=2) as client, pytest.raises(ApiError) as down:
        client.list_runs()
    assert down.value.status == 0 and "Cannot reach the Dagyard server" in str(down.value)


def test_the_token_is_sent_as_a_bearer_header(platform: Platform) -> None:
    guarded = Server(platform, token="s3cret").start()
    try:
        for token in (None, "wrong"):
            with Client(host=guarded.url, token=token) as anonymous:
                with pytest.raises(ApiError) as refused:
                    anonymous.list_experiments()
                assert refused.value.status == 401 and "token" in refused.value.message
        with Client(host=guarded.url, token="s3cret") as allowed:
            assert allowed.create_experiment("guarded").display_name == "guarded"
    finally:
        guarded.stop()
