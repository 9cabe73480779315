"""kfp.Client code run unchanged on dagyard.Client, against a real server (and, where
runs must finish, its RunWorker): kfp-style run_pipeline, RunPipelineResult waiting,
pipeline versions, healthz, the user namespace, host and token from the environment,
and what a notebook shows (HTML of runs and pipelines; live progress on a real kernel)."""

from __future__ import annotations

import json
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from api_pipelines import compiled, sum_and_write
from api_server import Server
from nbclient import NotebookClient
from nbformat import NotebookNode

from dagyard.client import ApiError, Client, Run, RunPipelineResult
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker


class _Tags(HTMLParser):
    """The attributes of every tag whose class is `css_class`."""

    def __init__(self, markup: str, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.found: list[dict[str, str | None]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.css_class in (found.get("class") or "").split():
            self.found.append(found)

    handle_startendtag = handle_starttag


def _tags(markup: str, css_class: str) -> list[dict[str, str | None]]:
    return _Tags(markup, css_class).found


@pytest.mark.slow
def test_kfp_style_run_pipeline_from_a_package_and_from_an_uploaded_version(
    client: Client, worker: RunWorker, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path)
    experiment = client.create_experiment("kfp-style")
    run = client.run_pipeline(
        experiment.experiment_id, "from a file", str(package), params={"a": 3}
    )
    assert isinstance(run, Run) and run.display_name == "from a file"
    assert run.experiment_id == experiment.experiment_id
    assert run.runtime_config.parameters["a"] == 3

    pipeline = client.upload_pipeline(str(package), pipeline_name="sums")
    (version,) = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    from_version = client.run_pipeline(
        experiment.experiment_id,
        "from a version",
        params={"a": 10},
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        enable_caching=False,
    )
    assert from_version.pipeline_version_reference is not None
    assert from_version.pipeline_version_reference.pipeline_version_id == (
        version.pipeline_version_id
    )
    for started in (run, from_version):
        done = client.wait_for_run_completion(started.run_id, 120, sleep_duration=0.2)
        assert done.state == "SUCCEEDED", done.error
    with pytest.raises(ValueError, match="not both and not neither"):
        client.run_pipeline(experiment.experiment_id, "nothing to run")


@pytest.mark.slow
def test_create_run_from_pipeline_func_returns_a_result_to_wait_on(
    client: Client, worker: RunWorker, capsys: pytest.CaptureFixture[str]
) -> None:
    result = client.create_run_from_pipeline_func(sum_and_write, arguments={"a": 1})
    assert isinstance(result, RunPipelineResult) and result.run_id == result.run_info.run_id
    finished = result.wait_for_run_completion(timeout=120)
    assert finished.state == "SUCCEEDED" and finished.run_id == result.run_id
    assert {t.display_name for t in finished.run_details.task_details} == {
        "add",
        "add-2",
        "write",
    }
    # Outside a notebook, waiting prints nothing.
    assert capsys.readouterr() == ("", "")


def test_pipeline_versions_are_listed_read_and_deleted(client: Client, tmp_path: Path) -> None:
    pipeline = client.upload_pipeline_from_pipeline_func(sum_and_write, description="sums")
    assert pipeline.display_name == "sum-and-write"
    second = client.upload_pipeline_version_from_pipeline_func(
        sum_and_write, "second", pipeline_id=pipeline.pipeline_id
    )
    third = client.upload_pipeline_version(
        compiled(sum_and_write, tmp_path), "third", pipeline_name="sum-and-write"
    )
    versions = client.list_pipeline_versions(pipeline.pipeline_id, page_size=10)
    assert versions.total_size == 3 and len(versions.pipeline_versions) == 3
    read = client.get_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id)
    assert read.display_name == "second"
    assert read.pipeline_spec is not None
    assert read.pipeline_spec["pipelineInfo"]["name"] == "sum-and-write"
    by_name = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": "third"}]}
    )
    (only,) = client.list_pipeline_versions(pipeline.pipeline_id, filter=by_name).pipeline_versions
    assert only.pipeline_version_id == third.pipeline_version_id

    assert client.delete_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id) == {}
    left = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
    assert second.pipeline_version_id not in {v.pipeline_version_id for v in left}
    with pytest.raises(ApiError) as gone:
        client.get_pipeline_version(pipeline.pipeline_id, second.pipeline_version_id)
    assert gone.value.status == 404


def test_healthz_answers_like_kfps(client: Client) -> None:
    health = client.get_kfp_healthz()
    assert health.multi_user is False and health.pipeline_store == "database"


def test_healthz_of_a_server_that_is_down_gives_up_with_timeout_error(server: Server) -> None:
    url = server.url
    server.stop()
    with (
        Client(host=url, timeout=1) as down,
        pytest.raises(TimeoutError, match="after 5 tries"),
    ):
        down.get_kfp_healthz(sleep_duration=0)


def test_the_user_namespace_is_the_default_of_calls_that_take_one(server: Server) -> None:
    with Client(host=server.url) as plain:
        assert plain.get_user_namespace() == ""  # kfp's default "kubeflow" means none
    with Client(server.url, namespace="team-a") as client:
        assert client.get_user_namespace() == "team-a"
        assert client.create_experiment("a's").namespace == "team-a"
        client.set_user_namespace("team-b")
        assert client.get_user_namespace() == "team-b"
        assert client.create_experiment("b's").namespace == "team-b"
        assert [e.display_name for e in client.list_experiments().experiments] == ["b's"]
        theirs = client.list_experiments(namespace="team-a").experiments
        assert [e.display_name for e in theirs] == ["a's"]


def test_host_and_token_come_from_the_environment(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded = Server(platform, token="s3cret").start()
    try:
        for variable in ("KF_PIPELINES_ENDPOINT", "DAGYARD_ENDPOINT"):
            monkeypatch.delenv("DAGYARD_ENDPOINT", raising=False)
            monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
            monkeypatch.setenv(variable, guarded.url)
            monkeypatch.setenv("DAGYARD_AUTH_TOKEN", "s3cret")
            with Client() as client:
                assert client.host == guarded.url
                assert client.create_experiment(variable).display_name == variable
            monkeypatch.delenv("DAGYARD_AUTH_TOKEN")
            with Client() as anonymous, pytest.raises(ApiError) as refused:
                anonymous.list_experiments()
            assert refused.value.status == 401
            with Client(existing_token="s3cret") as kfp_style:
                assert kfp_style.list_experiments().total_size >= 1
        # DAGYARD_ENDPOINT wins over kfp's variable; an explicit host over both.
        monkeypatch.setenv("KF_PIPELINES_ENDPOINT", "http://127.0.0.1:9")
        with Client() as client:
            assert client.host == guarded.url
        with Client("127.0.0.1:7") as client:
            assert client.host == "http://127.0.0.1:7"
    finally:
        guarded.stop()


def test_google_sign_in_parameters_are_refused_with_what_to_do() -> None:
    with pytest.raises(Exception, match="existing_token"):
        Client("http://127.0.0.1:9", client_id="iap-client")


@pytest.mark.slow
def test_runs_and_pipelines_render_as_html_with_tasks_and_links(
    server: Server, worker: RunWorker
) -> None:
    with Client(host=server.url, ui_host="http://ui.example:8080/") as client:
        run = client.create_run_from_pipeline_func(sum_and_write, {"a": 1})
        finished = run.wait_for_run_completion(timeout=120)
        markup = finished._repr_html_()
        (link,) = _tags(markup, "dagyard-link")
        assert link["href"] == f"http://ui.example:8080/runs/{finished.run_id}"
        (state,) = _tags(markup, "dagyard-state")
        assert state["data-state"] == "SUCCEEDED"
        nodes = {n["data-task"]: n["data-state"] for n in _tags(markup, "dagyard-node")}
        assert nodes == {"add": "SUCCEEDED", "add-2": "SUCCEEDED", "write": "SUCCEEDED"}
        edges = {(e["data-from"], e["data-to"]) for e in _tags(markup, "dagyard-edge")}
        assert edges == {("add", "add-2")}
        assert run._repr_html_().count("dagyard-run") >= 1

        pipeline = client.upload_pipeline_from_pipeline_func(sum_and_write)
        (page,) = _tags(pipeline._repr_html_(), "dagyard-link")
        assert page["href"] == f"http://ui.example:8080/pipelines/{pipeline.pipeline_id}"
        (version,) = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions
        (page,) = _tags(version._repr_html_(), "dagyard-link")
        assert page["href"] == (
            f"http://ui.example:8080/pipelines/{pipeline.pipeline_id}"
            f"?version={version.pipeline_version_id}"
        )
        experiment = client.get_experiment(experiment_id=finished.experiment_id)
        (page,) = _tags(experiment._repr_html_(), "dagyard-link")
        assert page["href"] == f"http://ui.example:8080/experiments/{experiment.experiment_id}"


class _Recording(NotebookClient):
    """A notebook client that keeps every message the kernel sends while a cell runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[dict[str, Any]] = []

    def process_message(
        self, msg: dict[str, Any], cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        self.messages.append(msg)
        return super().process_message(msg, cell, cell_index)


def _html_of(messages: list[dict[str, Any]], kind: str) -> list[str]:
    return [
        m["content"]["data"]["text/html"]
        for m in list(messages)
        if m["msg_type"] == kind and "text/html" in m["content"].get("data", {})
    ]


@pytest.mark.slow
def test_waiting_in_a_notebook_shows_the_run_and_updates_it_in_place(
    server: Server, platform: Platform, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path)
    document = nbformat.v4.new_notebook()
    document.cells = [
        nbformat.v4.new_code_cell(
            "import dagyard\n"
            "client = dagyard.Client()\n"
            f"started = client.create_run_from_pipeline_package({str(package)!r}, {{'a': 1}})"
        ),
        nbformat.v4.new_code_cell("run = started.wait_for_run_completion(timeout=120)\nrun.state"),
    ]
    notebook = _Recording(document, timeout=180, kernel_name="python3")
    env = {"DAGYARD_ENDPOINT": server.url, "PATH": str(Path(sys.executable).parent)}
    first_shown: list[str] = []
    workers: list[RunWorker] = []
    executed = threading.Event()

    def release_once_shown() -> None:
        # No worker yet: the run waits PENDING until the notebook has shown it; then the
        # worker runs it. (nbclient's kernel must run in the main thread.)
        while not executed.is_set():
            shown = _html_of(notebook.messages, "display_data")
            if shown:
                first_shown.append(shown[0])
                workers.append(RunWorker(platform, poll_seconds=0.1).start())
                return
            time.sleep(0.05)

    releasing = threading.Thread(target=release_once_shown)
    releasing.start()
    try:
        notebook.execute(env=env)
    finally:
        executed.set()
        releasing.join(30)
        for worker in workers:
            worker.stop(timeout=30)
    (first,) = first_shown
    assert _tags(first, "dagyard-state")[0]["data-state"] == "PENDING"

    updates = _html_of(notebook.messages, "update_display_data")
    assert updates, "the run was shown once and never updated"
    assert _tags(updates[-1], "dagyard-state")[0]["data-state"] == "SUCCEEDED"
    assert len(_html_of(notebook.messages, "display_data")) == 1  # one output, updated
    outputs = document.cells[1].outputs
    (shown,) = [o for o in outputs if o["output_type"] == "display_data"]
    assert _tags(shown["data"]["text/html"], "dagyard-state")[0]["data-state"] == "SUCCEEDED"
    assert len(_tags(shown["data"]["text/html"], "dagyard-node")) == 3
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    assert result["data"]["text/plain"] == "'SUCCEEDED'"


def test_a_token_with_non_ascii_characters_reaches_the_server(platform: Platform) -> None:
    token = "pässwörd-ключ-1234567890"
    server = Server(platform, token=token).start()
    try:
        with Client(host=server.url, existing_token=token) as client:
            assert client.list_experiments().experiments == ()
        with Client(host=server.url, existing_token=token[:-1] + "x") as client:
            with pytest.raises(ApiError) as refused:
                client.list_experiments()
            assert refused.value.status == 401
    finally:
        server.stop()
