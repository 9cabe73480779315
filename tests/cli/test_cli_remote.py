"""`dagyard pipelines|experiments|recurring ...` and the server-side `dagyard runs ...`
against a real server (loopback uvicorn, SQLite in a temporary home, a RunWorker
executing runs): table and JSON output, `runs watch` to the end, and the errors a user
sees."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from api_pipelines import compiled, sum_and_write
from api_server import Server, open_platform

from dagyard import dsl
from dagyard.cli import exit_codes, shell
from dagyard.cli.main import app
from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path / "home")
    yield opened
    opened.close()


@pytest.fixture
def server(platform: Platform) -> Iterator[Server]:
    started = Server(platform).start()
    yield started
    started.stop()


@pytest.fixture
def worker(platform: Platform) -> Iterator[RunWorker]:
    running = RunWorker(platform, poll_seconds=0.2).start()
    yield running
    running.stop(timeout=30)


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tables wide enough that ids are never folded across lines.
    monkeypatch.setattr(shell, "console", Console(width=250, soft_wrap=True))
    monkeypatch.setattr(shell, "errors", Console(width=250, stderr=True))


def cli(server: Server | str, *args: str) -> Result:
    endpoint = server if isinstance(server, str) else server.url
    return CliRunner().invoke(app, [*args, "--endpoint", endpoint])


def as_json(server: Server, *args: str) -> object:
    result = cli(server, *args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pipelines_upload_list_get_delete(server: Server, tmp_path: Path) -> None:
    package = compiled(sum_and_write, tmp_path)
    uploaded = as_json(server, "pipelines", "upload", str(package), "--name", "sums")
    assert isinstance(uploaded, dict) and uploaded["display_name"] == "sums"
    pipeline_id = uploaded["pipeline_id"]

    table = cli(server, "pipelines", "list")
    assert table.exit_code == 0 and pipeline_id in table.stdout and "sums" in table.stdout
    listed = as_json(server, "pipelines", "list")
    assert isinstance(listed, dict)
    assert [p["pipeline_id"] for p in listed["pipelines"]] == [pipeline_id]
    assert pipeline_id in cli(server, "pipelines", "get", pipeline_id).stdout
    assert as_json(server, "pipelines", "get", pipeline_id) == uploaded

    deleted = cli(server, "pipelines", "delete", pipeline_id)
    assert deleted.exit_code == 0 and f"Deleted pipeline {pipeline_id}" in deleted.stdout
    assert as_json(server, "pipelines", "list")["pipelines"] == []  # type: ignore[index]


def test_experiments_create_list_get_archive_delete(server: Server) -> None:
    created = as_json(server, "experiments", "create", "trials", "--description", "d")
    assert isinstance(created, dict) and created["display_name"] == "trials"
    experiment_id = created["experiment_id"]

    table = cli(server, "experiments", "list")
    assert table.exit_code == 0 and "trials" in table.stdout and experiment_id in table.stdout
    assert experiment_id in cli(server, "experiments", "get", experiment_id).stdout

    archived = as_json(server, "experiments", "archive", experiment_id)
    assert archived == {"experiment_id": experiment_id}
    got = as_json(server, "experiments", "get", experiment_id)
    assert got["storage_state"] == "ARCHIVED"  # type: ignore[index]

    assert cli(server, "experiments", "delete", experiment_id).exit_code == 0
    missing = cli(server, "experiments", "get", experiment_id)
    assert missing.exit_code == 2 and experiment_id in missing.stderr


@pytest.mark.slow
def test_runs_submit_watch_list_get_archive_delete(
    server: Server, worker: RunWorker, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path)
    submitted = as_json(
        server, "runs", "submit", str(package), "-p", "a=4", "--experiment", "cli", "--name", "r"
    )
    assert isinstance(submitted, dict) and submitted["parameters"]["a"] == 4
    run_id = submitted["run_id"]

    watched = cli(server, "runs", "watch", run_id, "--interval", "0.2")
    assert watched.exit_code == 0, watched.output
    assert f"Run {run_id} SUCCEEDED" in watched.stderr
    assert "write" in watched.stderr

    got = as_json(server, "runs", "get", run_id)
    assert isinstance(got, dict) and got["state"] == "SUCCEEDED"
    assert sorted(t["display_name"] for t in got["tasks"]) == ["add", "add-2", "write"]
    table = cli(server, "runs", "get", run_id)
    assert run_id in table.stdout and "SUCCEEDED" in table.stdout and "add-2" in table.stdout

    experiment_id = got["experiment_id"]
    listed = as_json(server, "runs", "list", "--experiment-id", experiment_id)
    assert [r["run_id"] for r in listed["runs"]] == [run_id]  # type: ignore[index]
    only_failed = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "state", "string_value": "FAILED"}]}
    )
    filtered = as_json(server, "runs", "list", "--filter", only_failed, "--sort-by", "name")
    assert filtered["runs"] == []  # type: ignore[index]
    assert run_id in cli(server, "runs", "list", "--sort-by", "created_at desc").stdout

    assert as_json(server, "runs", "watch", run_id)["state"] == "SUCCEEDED"  # type: ignore[index]
    assert cli(server, "runs", "archive", run_id).exit_code == 0
    assert as_json(server, "runs", "get", run_id)["storage_state"] == "ARCHIVED"  # type: ignore[index]
    assert as_json(server, "runs", "delete", run_id) == {"run_id": run_id}
    assert cli(server, "runs", "get", run_id).exit_code == 2


def test_runs_terminate_a_pending_run(server: Server, tmp_path: Path) -> None:
    # No worker: the run stays PENDING until terminated.
    package = compiled(sum_and_write, tmp_path)
    run_id = as_json(server, "runs", "submit", str(package), "-p", "a=1")["run_id"]  # type: ignore[index]
    terminated = cli(server, "runs", "terminate", run_id)
    assert terminated.exit_code == 0 and run_id in terminated.stdout
    watched = cli(server, "runs", "watch", run_id, "--interval", "0.1")
    assert watched.exit_code == 1 and "CANCELED" in watched.stderr


def test_recurring_create_list_get_disable_enable_delete(server: Server, tmp_path: Path) -> None:
    package = compiled(sum_and_write, tmp_path)
    cron = as_json(
        server,
        "recurring",
        "create",
        "--job-name",
        "nightly",
        "--experiment-name",
        "schedules",
        "--cron-expression",
        "0 30 2 * * *",
        "--time-zone",
        "Europe/Berlin",
        "--start-time",
        "2030-01-01T00:00:00Z",
        "--max-concurrency",
        "2",
        "--no-catchup",
        "--pipeline-package-path",
        str(package),
        "-p",
        "a=4",
    )
    assert isinstance(cron, dict) and cron["display_name"] == "nightly"
    assert (cron["cron"], cron["interval_second"], cron["timezone"]) == (
        "0 30 2 * * *",
        None,
        "Europe/Berlin",
    )
    assert cron["start_time"] == "2030-01-01T00:00:00+00:00"
    assert (cron["max_concurrency"], cron["no_catchup"], cron["status"]) == (2, True, "ENABLED")
    assert cron["parameters"] == {"a": 4, "b": 2}
    rid, experiment_id = cron["recurring_run_id"], cron["experiment_id"]
    experiment = as_json(server, "experiments", "get", experiment_id)
    assert experiment["display_name"] == "schedules"  # type: ignore[index]

    pipeline_id = as_json(server, "pipelines", "upload", str(package))["pipeline_id"]  # type: ignore[index]
    hourly = cli(
        server,
        "recurring",
        "create",
        "--job-name",
        "hourly",
        "--experiment-id",
        experiment_id,
        "--interval-second",
        "3600",
        "--pipeline-id",
        pipeline_id,
        "-p",
        "a=1",
        "--disabled",
    )
    assert hourly.exit_code == 0, hourly.output
    assert "every 3600 s" in hourly.stdout and "DISABLED" in hourly.stdout

    table = cli(server, "recurring", "list", "--experiment-id", experiment_id)
    assert table.exit_code == 0 and rid in table.stdout
    assert "cron 0 30 2 * * * (Europe/Berlin)" in table.stdout and "hourly" in table.stdout
    listed = as_json(server, "recurring", "list", "--sort-by", "name", "--page-size", "1")
    assert isinstance(listed, dict) and listed["total_size"] == 2
    assert [r["display_name"] for r in listed["recurring_runs"]] == ["hourly"]
    by_name = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "name", "string_value": "nightly"}]}
    )
    filtered = as_json(server, "recurring", "list", "--filter", by_name)
    assert [r["recurring_run_id"] for r in filtered["recurring_runs"]] == [rid]  # type: ignore[index]

    assert as_json(server, "recurring", "get", rid) == cron
    assert as_json(server, "recurring", "disable", rid) == {"recurring_run_id": rid}
    assert as_json(server, "recurring", "get", rid)["status"] == "DISABLED"  # type: ignore[index]
    enabled = cli(server, "recurring", "enable", rid)
    assert enabled.exit_code == 0 and f"Enabled recurring_run {rid}" in enabled.stdout
    shown = cli(server, "recurring", "get", rid)
    assert rid in shown.stdout and "ENABLED" in shown.stdout

    assert cli(server, "recurring", "delete", rid).exit_code == 0
    missing = cli(server, "recurring", "get", rid)
    assert missing.exit_code == 2 and rid in missing.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--experiment-name", "e"], "--cron-expression or --interval-second"),
        (
            [
                "--experiment-name",
                "e",
                "--cron-expression",
                "0 0 * * * *",
                "--interval-second",
                "6",
            ],
            "--cron-expression or --interval-second",
        ),
        (["--interval-second", "60"], "--experiment-id or --experiment-name"),
        (
            ["--experiment-name", "e", "--interval-second", "60", "--pipeline-id", "p"],
            "No pipeline with id 'p'",
        ),
        (["--experiment-name", "e", "--cron-expression", "soon"], "soon"),
    ],
)
def test_recurring_create_with_a_bad_trigger_experiment_or_pipeline_exits_2(
    server: Server, tmp_path: Path, options: list[str], message: str
) -> None:
    package = compiled(sum_and_write, tmp_path)
    source = [] if "--pipeline-id" in options else ["--pipeline-package-path", str(package)]
    result = cli(server, "recurring", "create", "--job-name", "bad", *options, *source)
    assert result.exit_code == 2 and "error:" in result.stderr and message in result.stderr
    assert as_json(server, "recurring", "list")["recurring_runs"] == []  # type: ignore[index]


def test_recurring_create_from_a_package_and_a_pipeline_id_exits_2(
    server: Server, tmp_path: Path
) -> None:
    package = compiled(sum_and_write, tmp_path)
    result = cli(
        server,
        "recurring",
        "create",
        "--job-name",
        "both",
        "--experiment-name",
        "e",
        "--interval-second",
        "60",
        "--pipeline-package-path",
        str(package),
        "--pipeline-id",
        "p",
    )
    assert result.exit_code == 2
    assert "--pipeline-package-path, or --pipeline-id and/or --version-id" in result.stderr


def test_an_unknown_id_is_the_servers_message_and_exit_2(server: Server) -> None:
    result = cli(server, "runs", "get", "no-such-run")
    assert result.exit_code == 2
    assert "error:" in result.stderr and "no-such-run" in result.stderr
    assert result.stdout == ""


def test_a_bad_parameter_is_a_usage_error(server: Server, tmp_path: Path) -> None:
    package = compiled(sum_and_write, tmp_path)
    result = cli(server, "runs", "submit", str(package), "-p", "novalue")
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr


def test_an_unreachable_server_names_the_endpoint_and_exits_4() -> None:
    result = cli("http://127.0.0.1:9", "pipelines", "list")
    assert result.exit_code == exit_codes.UNAVAILABLE == 4
    assert "Cannot reach the Dagyard server at http://127.0.0.1:9" in result.stderr


def test_runs_list_with_no_server_points_at_the_local_home() -> None:
    result = cli("http://127.0.0.1:9", "runs", "list")
    assert result.exit_code == exit_codes.UNAVAILABLE
    assert "add --local" in result.stderr


def test_the_token_and_endpoint_come_from_the_environment(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    secured = Server(platform, token="s3cret").start()
    try:
        monkeypatch.setenv("DAGYARD_ENDPOINT", secured.url)
        refused = CliRunner().invoke(app, ["experiments", "list"])
        assert refused.exit_code == 2 and "401" in refused.stderr
        monkeypatch.setenv("DAGYARD_AUTH_TOKEN", "s3cret")
        allowed = CliRunner().invoke(app, ["experiments", "list", "--output", "json"])
        assert allowed.exit_code == 0, allowed.output
        assert "experiments" in json.loads(allowed.stdout)
    finally:
        secured.stop()


@dsl.component
def greet(name: str) -> None:
    print(f"hello {name} ✓")


@dsl.pipeline(name="greeting")
def greeting(name: str = "world") -> None:
    greet(name=name)


def test_runs_logs_prints_a_task_log(server: Server, worker: RunWorker, tmp_path: Path) -> None:
    package = compiled(greeting, tmp_path)
    submitted = as_json(server, "runs", "submit", str(package), "-p", "name=logs")
    assert isinstance(submitted, dict)
    run_id = submitted["run_id"]

    followed = cli(server, "runs", "logs", run_id, "greet", "--follow")
    assert followed.exit_code == 0, followed.output
    assert followed.stdout == "hello logs ✓\n"
    again = cli(server, "runs", "logs", run_id, "greet", "--attempt", "1")
    assert again.stdout == followed.stdout

    missing = cli(server, "runs", "logs", run_id, "no-such-task")
    assert missing.exit_code == 2
    assert "no task" in missing.stderr
