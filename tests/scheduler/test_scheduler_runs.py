"""The Scheduler turns due times into runs: exactly once, with the recurring run's
pipeline, parameters and experiment, never while disabled; clock injected."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from scheduler_support import Clock, open_platform

from dagyard.errors import AlreadyExists, NotFound, RunError, UsageError
from dagyard.scheduler import Scheduler
from dagyard.service import recurring as service
from dagyard.service.platform import Platform
from dagyard.store.records import Pipeline, PipelineVersion, RecurringRun, Run, RunState


def every(seconds: int) -> dict[str, Any]:
    return {"periodic_schedule": {"interval_second": seconds}}


def make(platform: Platform, spec: dict[str, Any], clock: Clock, **options: Any) -> RecurringRun:
    """A recurring run created at the clock's time."""
    options.setdefault("trigger", every(60))
    made = service.create_recurring_run(
        platform, display_name="nightly", pipeline_spec=spec, **options
    )
    return platform.store.update_recurring_run(
        made.recurring_run_id, created_at=clock.now, updated_at=clock.now
    )


def runs_of(platform: Platform, recurring: RecurringRun) -> list[Run]:
    found = [
        r for r in platform.store.list_runs() if r.recurring_run_id == recurring.recurring_run_id
    ]
    return sorted(found, key=lambda r: r.scheduled_at or clock_zero())


def clock_zero() -> Any:
    raise AssertionError("a scheduled run without scheduled_at")


def finish(platform: Platform, runs: list[Run]) -> None:
    for run in runs:
        platform.store.update_run(run.run_id, state=RunState.SUCCEEDED)


def test_a_due_run_carries_schedule_pipeline_parameters_and_experiment(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, parameters={"name": "cron"})
    clock.now += timedelta(seconds=61)
    (run,) = service.scheduler_for(platform, clock=clock).tick()
    assert run.recurring_run_id == recurring.recurring_run_id
    assert run.scheduled_at == recurring.created_at + timedelta(seconds=60)  # type: ignore[operator]
    assert run.state == RunState.PENDING
    assert run.pipeline_spec == pipeline_spec
    assert run.runtime_config["parameters"] == {"name": "cron"}
    assert run.experiment_id == recurring.experiment_id is not None
    assert platform.store.get_experiment(run.experiment_id).display_name == "Default"


def test_a_run_of_a_pipeline_version_uses_that_versions_spec(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    platform.store.create_pipeline(Pipeline("p1", "greeting"))
    platform.store.create_pipeline_version(PipelineVersion("v1", "p1", "v1", pipeline_spec))
    made = service.create_recurring_run(
        platform, display_name="versioned", pipeline_version_id="v1", trigger=every(1)
    )
    assert made.pipeline_id == "p1"
    clock.now = made.created_at + timedelta(seconds=1)  # type: ignore[operator]
    (run,) = service.scheduler_for(platform, clock=clock).tick()
    assert run.pipeline_spec == pipeline_spec
    assert (run.pipeline_id, run.pipeline_version_id) == ("p1", "v1")
    assert run.runtime_config["parameters"] == {"name": "world"}


def test_max_concurrency_waits_for_runs_to_finish_then_catches_up(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, max_concurrency=2)
    scheduler = service.scheduler_for(platform, clock=clock)
    clock.now += timedelta(minutes=5, seconds=1)  # five due times
    first = scheduler.tick()
    assert len(first) == 2
    assert scheduler.tick() == []  # both still running
    finish(platform, first[:1])
    (third,) = scheduler.tick()
    assert third.scheduled_at == recurring.created_at + timedelta(minutes=3)  # type: ignore[operator]
    finish(platform, [first[1], third])
    assert len(scheduler.tick()) == 2
    assert len(runs_of(platform, recurring)) == 5


def test_no_catchup_after_downtime_creates_only_the_latest(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, no_catchup=True, max_concurrency=10)
    clock.now += timedelta(hours=2, seconds=30)
    (run,) = service.scheduler_for(platform, clock=clock).tick()
    assert run.scheduled_at == recurring.created_at + timedelta(hours=2)  # type: ignore[operator]


def test_catchup_after_downtime_creates_every_missed_run(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, max_concurrency=10)
    clock.now += timedelta(minutes=4)
    created = service.scheduler_for(platform, clock=clock).tick()
    assert [r.scheduled_at for r in created] == [
        recurring.created_at + timedelta(minutes=m)  # type: ignore[operator]
        for m in (1, 2, 3, 4)
    ]


def test_a_disabled_recurring_run_creates_nothing(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    # KFP bug #8344: runs were scheduled while the recurring run was disabled.
    recurring = make(platform, pipeline_spec, clock, enabled=False, max_concurrency=10)
    scheduler = service.scheduler_for(platform, clock=clock)
    clock.now += timedelta(hours=1)
    assert scheduler.tick() == []
    other = make(platform, pipeline_spec, clock, max_concurrency=10)
    service.disable_recurring_run(platform, other.recurring_run_id)
    clock.now += timedelta(hours=1)
    assert scheduler.tick() == []
    assert runs_of(platform, recurring) == runs_of(platform, other) == []


def test_enabling_resumes_from_now_without_catching_up_the_disabled_time(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, enabled=False, max_concurrency=10)
    clock.now += timedelta(hours=1)
    enabled = service.enable_recurring_run(platform, recurring.recurring_run_id, now=clock())
    assert enabled.scheduled_until == clock.now  # from now, not from when it was disabled
    assert enabled.enabled
    assert enabled.scheduled_until is not None
    clock.now = enabled.scheduled_until + timedelta(seconds=125)
    created = service.scheduler_for(platform, clock=clock).tick()
    assert len(created) == 2
    assert all(r.scheduled_at > enabled.scheduled_until for r in created)  # type: ignore[operator]


def test_a_restarted_scheduler_creates_no_second_run_for_a_due_time(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    recurring = make(platform, pipeline_spec, clock, max_concurrency=10)
    clock.now += timedelta(minutes=3)
    assert len(service.scheduler_for(platform, clock=clock).tick()) == 3
    # A new process; even if the watermark update was lost, the database refuses repeats.
    platform.store.update_recurring_run(recurring.recurring_run_id, scheduled_until=None)
    assert service.scheduler_for(platform, clock=clock).tick() == []
    assert len(runs_of(platform, recurring)) == 3


def test_the_store_refuses_a_second_run_for_one_due_time(
    platform: Platform, pipeline_spec: dict[str, Any], clock: Clock
) -> None:
    make(platform, pipeline_spec, clock)
    clock.now += timedelta(minutes=1)
    (run,) = service.scheduler_for(platform, clock=clock).tick()
    with pytest.raises(AlreadyExists, match=r"has a run scheduled at .* already"):
        platform.store.create_run(dataclasses.replace(run, run_id="another", created_at=None))


def test_service_refuses_bad_recurring_runs(
    platform: Platform, pipeline_spec: dict[str, Any]
) -> None:
    def create(**options: Any) -> RecurringRun:
        options.setdefault("trigger", every(60))
        options.setdefault("pipeline_spec", pipeline_spec)
        return service.create_recurring_run(platform, display_name="x", **options)

    with pytest.raises(UsageError, match="interval_second"):
        create(trigger=every(0))
    with pytest.raises(UsageError, match="max_concurrency is 11"):
        create(max_concurrency=11)
    with pytest.raises(UsageError, match="Unknown time zone"):
        create(timezone="Nowhere/Land")
    with pytest.raises(RunError, match="Unknown pipeline parameter 'nme'"):
        create(parameters={"nme": "typo"})
    with pytest.raises(UsageError, match="exactly one of pipeline_spec or pipeline_version_id"):
        create(pipeline_spec=None)
    with pytest.raises(NotFound):
        create(pipeline_spec=None, pipeline_version_id="missing")
    assert service.list_recurring_runs(platform) == []


def test_service_get_list_delete(platform: Platform, pipeline_spec: dict[str, Any]) -> None:
    made = service.create_recurring_run(
        platform,
        display_name="daily",
        pipeline_spec=pipeline_spec,
        trigger={"cron_schedule": {"cron": "0 0 9 ? * MON-FRI"}},
        timezone="Europe/Berlin",
    )
    assert service.get_recurring_run(platform, made.recurring_run_id).timezone == "Europe/Berlin"
    assert [r.recurring_run_id for r in service.list_recurring_runs(platform)] == [
        made.recurring_run_id
    ]
    service.delete_recurring_run(platform, made.recurring_run_id)
    with pytest.raises(NotFound):
        service.get_recurring_run(platform, made.recurring_run_id)


@pytest.mark.db
@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql", "mysql"])
def test_two_schedulers_racing_create_each_due_run_once(
    backend_name: str,
    scheduler_backends: dict[str, Any],
    pipeline_spec: dict[str, Any],
    clock: Clock,
    tmp_path: Path,
) -> None:
    url = scheduler_backends["get"](backend_name).new_database_url()
    first, second = open_platform(tmp_path / "a", url), open_platform(tmp_path / "b", url)
    try:
        recurring = make(first, pipeline_spec, clock, trigger=every(1), max_concurrency=10)
        schedulers = [service.scheduler_for(p, clock=clock) for p in (first, second)]
        created: list[Run] = []
        for _ in range(4):
            clock.now += timedelta(seconds=10)
            start = threading.Barrier(2)

            def race(scheduler: Scheduler, start: threading.Barrier) -> None:
                start.wait()
                created.extend(scheduler.tick())

            threads = [threading.Thread(target=race, args=(s, start)) for s in schedulers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            finish(first, runs_of(first, recurring))
        # A scheduler that counted the other's new runs as active left the rest for later.
        for _ in range(10):
            more = schedulers[0].tick()
            if not more:
                break
            created.extend(more)
            finish(first, more)
        runs = runs_of(first, recurring)
        due = [recurring.created_at + timedelta(seconds=s) for s in range(1, 41)]  # type: ignore[operator]
        assert [r.scheduled_at for r in runs] == due
        assert sorted(r.run_id for r in created) == sorted(r.run_id for r in runs)
    finally:
        first.close()
        second.close()


def test_the_background_thread_creates_runs_in_real_time(
    platform: Platform, pipeline_spec: dict[str, Any]
) -> None:
    recurring = service.create_recurring_run(
        platform,
        display_name="every-second",
        pipeline_spec=pipeline_spec,
        trigger=every(1),
        max_concurrency=10,
    )
    scheduler = service.scheduler_for(platform, period=0.2)
    scheduler.start()
    try:
        deadline = time.monotonic() + 4.5
        while len(runs_of(platform, recurring)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    runs = runs_of(platform, recurring)
    assert len(runs) >= 2
    assert runs[1].scheduled_at - runs[0].scheduled_at == timedelta(seconds=1)  # type: ignore[operator]
