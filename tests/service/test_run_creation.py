"""Creating a run (`runs.submit_run`, the one place every caller goes through) and
resolving a pipeline version reference (`pipelines.resolve_version`): from IR or a
stored version, the name a run gets when none is given, the experiment it is filed in,
and refusals that name the problem and store nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dagyard import dsl, ir
from dagyard.compiler import compile_to_dict
from dagyard.errors import IRError, NotFound, RunError, UsageError
from dagyard.service import pipelines, recurring, runs
from dagyard.service.platform import Platform
from dagyard.store.records import RunState


@dsl.component
def greet(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="greeting")
def greeting(name: str = "world", times: int = 1) -> None:
    greet(name=name)


@pytest.fixture
def spec() -> dict[str, Any]:
    return compile_to_dict(greeting)


def stored_versions(platform: Platform, spec: dict[str, Any]) -> tuple[str, str, str]:
    """A pipeline with two versions: (pipeline id, first version id, second version id)."""
    document = ir.from_dict(spec)
    pipeline, first = pipelines.create_pipeline_with_version(platform, document, name="greet")
    second = pipelines.create_version(platform, pipeline.pipeline_id, document, name="v2")
    return pipeline.pipeline_id, first.pipeline_version_id, second.pipeline_version_id


def test_a_run_from_ir_is_pending_with_checked_parameters_and_defaults(
    platform: Platform, spec: dict[str, Any]
) -> None:
    run = runs.submit_run(platform, spec, parameters={"times": "3"}, from_text=True)
    assert run.state is RunState.PENDING
    assert run.runtime_config["parameters"] == {"name": "world", "times": 3}
    assert run.pipeline_spec == spec
    assert (run.pipeline_id, run.pipeline_version_id) == (None, None)
    assert platform.store.get_run(run.run_id).display_name == run.display_name


def test_an_unnamed_run_is_named_after_its_pipeline_and_creation_time(
    platform: Platform, spec: dict[str, Any]
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    run = runs.submit_run(platform, spec)
    after = datetime.now(UTC)
    match = re.fullmatch(r"greeting-(\d{8}-\d{6})", run.display_name)
    assert match is not None, run.display_name
    named_at = datetime.strptime(match[1], "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    assert before <= named_at <= after
    assert runs.submit_run(platform, spec, display_name="mine").display_name == "mine"


def test_the_default_name_format_is_stem_date_time() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert runs.default_run_name("nightly", at) == "nightly-20260304-050607"
    assert runs.default_run_name("", at) == "pipeline-20260304-050607"


def test_a_run_of_a_pipeline_id_uses_its_latest_version(
    platform: Platform, spec: dict[str, Any]
) -> None:
    pipeline_id, _, latest = stored_versions(platform, spec)
    run = runs.submit_run(platform, pipeline_id=pipeline_id)
    assert (run.pipeline_id, run.pipeline_version_id) == (pipeline_id, latest)
    assert run.pipeline_spec == spec


def test_a_run_of_a_version_id_records_that_version_and_its_pipeline(
    platform: Platform, spec: dict[str, Any]
) -> None:
    pipeline_id, first, _ = stored_versions(platform, spec)
    alone = runs.submit_run(platform, pipeline_version_id=first)
    both = runs.submit_run(platform, pipeline_id=pipeline_id, pipeline_version_id=first)
    for run in (alone, both):
        assert (run.pipeline_id, run.pipeline_version_id) == (pipeline_id, first)


def test_version_references_that_name_nothing_are_refused_by_name(
    platform: Platform, spec: dict[str, Any]
) -> None:
    pipeline_id, first, _ = stored_versions(platform, spec)
    empty = pipelines.create_pipeline(platform, name="empty")
    with pytest.raises(NotFound, match="'missing'"):
        pipelines.resolve_version(platform, version_id="missing")
    with pytest.raises(NotFound, match=f"Pipeline 'other' has no version with id '{first}'"):
        pipelines.resolve_version(platform, pipeline_id="other", version_id=first)
    with pytest.raises(NotFound, match=f"'{empty.pipeline_id}' has no versions; upload one"):
        pipelines.resolve_version(platform, pipeline_id=empty.pipeline_id)
    with pytest.raises(NotFound, match="'nope'"):
        pipelines.resolve_version(platform, pipeline_id="nope")
    with pytest.raises(UsageError, match="needs a pipeline_version_id, or a pipeline_id"):
        runs.submit_run(platform)
    assert pipelines.resolve_version(platform, pipeline_id=pipeline_id, version_id=first)


def test_refused_runs_store_nothing(platform: Platform, spec: dict[str, Any]) -> None:
    pipeline_id, _, _ = stored_versions(platform, spec)
    with pytest.raises(UsageError, match="either a pipeline spec or a pipeline version"):
        runs.submit_run(platform, spec, pipeline_id=pipeline_id)
    with pytest.raises(RunError, match="Unknown pipeline parameter 'nmae'"):
        runs.submit_run(platform, spec, parameters={"nmae": "x"})
    with pytest.raises(IRError):
        runs.submit_run(platform, {"pipelineInfo": {"name": "broken"}})
    with pytest.raises(NotFound, match="'gone'"):
        runs.submit_run(platform, spec, experiment_id="gone")
    assert platform.store.list_runs() == []


def test_a_run_is_filed_in_the_named_or_given_experiment(
    platform: Platform, spec: dict[str, Any]
) -> None:
    default = runs.submit_run(platform, spec)
    named = runs.submit_run(platform, spec, experiment="trials")
    trials = platform.store.get_experiment(named.experiment_id or "")
    by_id = runs.submit_run(platform, spec, experiment_id=trials.experiment_id)
    assert platform.store.get_experiment(default.experiment_id or "").display_name == "Default"
    assert trials.display_name == "trials"
    assert by_id.experiment_id == trials.experiment_id


def test_a_scheduled_run_is_created_like_any_other_and_named_for_its_due_time(
    platform: Platform, spec: dict[str, Any]
) -> None:
    pipeline_id, _, latest = stored_versions(platform, spec)
    made = recurring.create_recurring_run(
        platform,
        display_name="nightly",
        pipeline_version_id=latest,
        trigger={"periodic_schedule": {"interval_second": 60}},
        parameters={"name": "cron"},
    )
    at = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    run = recurring.create_scheduled_run(platform, made, at)
    assert run.display_name == "nightly-20260101-030000"
    assert (run.recurring_run_id, run.scheduled_at) == (made.recurring_run_id, at)
    assert (run.pipeline_id, run.pipeline_version_id) == (pipeline_id, latest)
    assert run.runtime_config["parameters"] == {"name": "cron", "times": 1}
    assert run.experiment_id == made.experiment_id
    later = recurring.create_scheduled_run(platform, made, at + timedelta(minutes=1))
    assert later.display_name == "nightly-20260101-030100"
