"""dagyard.Client's recurring runs against a real server (no scheduler: nothing fires):
cron and interval triggers round-trip, a package or an uploaded version, listing,
enable/disable/delete, and the errors for a bad trigger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_pipelines import compiled, sum_and_write

from dagyard.client import ApiError, Client, RecurringRun, RecurringRunList
from dagyard.service.platform import Platform


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return compiled(sum_and_write, tmp_path)


def test_a_cron_recurring_run_round_trips(client: Client, package: Path) -> None:
    experiment = client.create_experiment("nightly")
    created = client.create_recurring_run(
        experiment.experiment_id,
        "at half past two",
        description="sums every night",
        start_time="2030-01-01T00:00:00Z",
        end_time=datetime(2031, 1, 1, tzinfo=UTC),
        cron_expression="0 30 2 * * *",
        max_concurrency=3,
        no_catchup=True,
        params={"a": 4},
        pipeline_package_path=str(package),
        timezone="Europe/Berlin",
    )

    assert isinstance(created, RecurringRun)
    assert (created.display_name, created.description) == ("at half past two", "sums every night")
    assert (created.status, created.enabled) == ("ENABLED", True)
    assert (created.cron, created.interval_second) == ("0 30 2 * * *", None)
    assert created.start_time == datetime(2030, 1, 1, tzinfo=UTC)
    assert created.end_time == datetime(2031, 1, 1, tzinfo=UTC)
    assert (created.timezone, created.max_concurrency, created.no_catchup) == (
        "Europe/Berlin",
        3,
        True,
    )
    assert created.experiment_id == experiment.experiment_id
    assert created.parameters == {"a": 4, "b": 2}  # the default filled in by the server
    assert (created.pipeline_id, created.pipeline_version_id) == (None, None)
    assert created.created_at is not None and created.created_at.tzinfo is not None
    assert created.error is None
    assert client.get_recurring_run(created.recurring_run_id) == created


def test_an_interval_recurring_run_of_an_uploaded_version_created_disabled(
    client: Client, package: Path
) -> None:
    pipeline = client.upload_pipeline(package, pipeline_name="sums")
    version = client.upload_pipeline_version(package, "v2", pipeline_id=pipeline.pipeline_id)
    experiment_id = client.create_experiment("hourly").experiment_id

    pinned = client.create_recurring_run(
        experiment_id,
        "hourly",
        interval_second=3600,
        params={"a": 1},
        version_id=version.pipeline_version_id,
        enabled=False,
    )
    assert (pinned.interval_second, pinned.cron) == (3600, None)
    assert (pinned.status, pinned.enabled) == ("DISABLED", False)
    assert (pinned.timezone, pinned.max_concurrency, pinned.no_catchup) == ("UTC", 1, False)
    assert (pinned.pipeline_id, pinned.pipeline_version_id) == (
        pipeline.pipeline_id,
        version.pipeline_version_id,
    )

    latest = client.create_recurring_run(
        experiment_id,
        "latest",
        interval_second=60,
        params={"a": 1},
        pipeline_id=pipeline.pipeline_id,
    )
    assert latest.pipeline_version_id == version.pipeline_version_id


def test_disable_enable_and_delete(client: Client, package: Path) -> None:
    experiment_id = client.create_experiment("toggled").experiment_id
    made = client.create_recurring_run(
        experiment_id,
        "toggled",
        interval_second=600,
        params={"a": 1},
        pipeline_package_path=package,
    )
    rid = made.recurring_run_id

    client.disable_recurring_run(rid)
    assert client.get_recurring_run(rid).status == "DISABLED"
    client.disable_recurring_run(rid)  # twice is no error
    client.enable_recurring_run(rid)
    enabled = client.get_recurring_run(rid)
    assert enabled.enabled and enabled.updated_at is not None and made.updated_at is not None
    assert enabled.updated_at >= made.updated_at

    client.delete_recurring_run(rid)
    with pytest.raises(ApiError) as gone:
        client.get_recurring_run(rid)
    assert (gone.value.status, gone.value.code) == (404, 5) and rid in gone.value.message
    for action in (client.enable_recurring_run, client.delete_recurring_run):
        with pytest.raises(ApiError) as again:
            action(rid)
        assert again.value.status == 404


def test_list_pages_sorts_and_filters_by_experiment_and_name(client: Client, package: Path) -> None:
    first = client.create_experiment("first").experiment_id
    second = client.create_experiment("second").experiment_id
    for experiment_id, name in ((first, "a"), (first, "b"), (second, "c")):
        client.create_recurring_run(
            experiment_id, name, interval_second=60, params={"a": 1}, pipeline_package_path=package
        )

    page = client.list_recurring_runs(page_size=2, sort_by="display_name desc")
    assert isinstance(page, RecurringRunList)
    assert [r.display_name for r in page.recurring_runs] == ["c", "b"]
    assert page.total_size == 3 and page.next_page_token
    rest = client.list_recurring_runs(page.next_page_token, 2, "display_name desc")
    assert [r.display_name for r in rest.recurring_runs] == ["a"]
    assert rest.next_page_token == ""

    in_first = client.list_recurring_runs(sort_by="display_name", experiment_id=first)
    assert [r.display_name for r in in_first.recurring_runs] == ["a", "b"]
    by_name = {"predicates": [{"operation": "EQUALS", "key": "name", "string_value": "b"}]}
    named = client.list_recurring_runs(filter=json.dumps(by_name))
    assert [r.display_name for r in named.recurring_runs] == ["b"]
    nothing = client.list_recurring_runs(experiment_id="elsewhere")
    assert nothing == RecurringRunList(recurring_runs=())


def test_a_bad_trigger_is_refused_and_nothing_is_stored(client: Client, package: Path) -> None:
    experiment_id = client.create_experiment("bad").experiment_id
    for cron, interval in ((None, None), ("0 0 * * * *", 60)):
        with pytest.raises(ValueError, match="exactly one of cron_expression"):
            client.create_recurring_run(
                experiment_id,
                "bad",
                cron_expression=cron,
                interval_second=interval,
                pipeline_package_path=package,
            )
    with pytest.raises(ValueError, match="pipeline_package_path or pipeline_id/version_id"):
        client.create_recurring_run(experiment_id, "bad", interval_second=60)
    with pytest.raises(ValueError, match="enable_caching applies to a pipeline_package_path"):
        client.create_recurring_run(
            experiment_id, "bad", interval_second=60, pipeline_id="p", enable_caching=False
        )

    with pytest.raises(ApiError) as bad_cron:
        client.create_recurring_run(
            experiment_id, "bad", cron_expression="every day", pipeline_package_path=package
        )
    assert bad_cron.value.status == 400 and "every day" in bad_cron.value.message
    with pytest.raises(ApiError) as bad_zone:
        client.create_recurring_run(
            experiment_id,
            "bad",
            cron_expression="0 0 9 * * *",
            pipeline_package_path=package,
            timezone="Mars/Olympus",
        )
    assert bad_zone.value.status == 400 and "Mars/Olympus" in bad_zone.value.message
    with pytest.raises(ApiError) as bad_interval:
        client.create_recurring_run(
            experiment_id, "bad", interval_second=0, pipeline_package_path=package
        )
    assert bad_interval.value.status == 400 and "interval_second" in bad_interval.value.message

    assert client.list_recurring_runs().recurring_runs == ()


def test_enable_caching_and_cache_key_reach_the_stored_spec(
    client: Client, platform: Platform, package: Path
) -> None:
    experiment_id = client.create_experiment("cached").experiment_id
    made = client.create_recurring_run(
        experiment_id,
        "uncached",
        interval_second=60,
        params={"a": 1},
        pipeline_package_path=package,
        enable_caching=False,
        cache_key="mine",
    )
    spec = platform.store.get_recurring_run(made.recurring_run_id).pipeline_spec
    assert spec is not None
    tasks = spec["root"]["dag"]["tasks"]
    assert {name: t["cachingOptions"] for name, t in tasks.items()} == {
        name: {"enableCache": False, "cacheKey": "mine"} for name in tasks
    }
