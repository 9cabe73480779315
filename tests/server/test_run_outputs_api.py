"""Dagyard's fields beyond KFP's Run: the pipeline's outputs in GET /runs/{id} (absent
until the run has them, then the values the pipeline returned), and the pipeline's name,
which a summary list (`view=SUMMARY`) keeps while leaving the specs out; a run read
without its task details. A real server and worker on SQLite."""

from __future__ import annotations

import time

import httpx

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.service.worker import RunWorker


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline
def adding(a: int = 1) -> int:
    return add(a=a, b=2).output


def test_a_finished_run_shows_its_pipeline_outputs(api: httpx.Client, worker: RunWorker) -> None:
    body = {"pipeline_spec": compile_to_dict(adding), "runtime_config": {"parameters": {"a": 5}}}
    created = api.post("/runs", json=body)
    assert created.status_code == 200, created.text
    assert "outputs" not in created.json()
    run_id = created.json()["run_id"]
    deadline = time.monotonic() + 60
    while (run := api.get(f"/runs/{run_id}").json())["state"] != "SUCCEEDED":
        assert run["state"] in ("PENDING", "RUNNING"), run
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.05)
    assert run["outputs"] == {"Output": 7}
    assert [t["display_name"] for t in run["run_details"]["task_details"]] == ["add"]
    bare = api.get(f"/runs/{run_id}", params={"task_details": "false"}).json()
    assert "run_details" not in bare
    assert {k: v for k, v in run.items() if k != "run_details"} == bare


def test_a_summary_list_leaves_the_specs_out_but_names_the_pipeline(api: httpx.Client) -> None:
    body = {"pipeline_spec": compile_to_dict(adding), "runtime_config": {"parameters": {"a": 1}}}
    assert api.post("/runs", json=body).status_code == 200

    full = api.get("/runs").json()["runs"][0]
    summary = api.get("/runs", params={"view": "SUMMARY"}).json()["runs"][0]
    assert full["pipeline_spec"]["pipelineInfo"]["name"] == "adding"
    assert "pipeline_spec" not in summary
    assert full["pipeline_name"] == summary["pipeline_name"] == "adding"
    assert summary["run_id"] == full["run_id"]
    assert api.get("/runs", params={"view": "TINY"}).status_code == 400
