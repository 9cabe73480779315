"""dagyard.Client against the installed kfp.Client, by introspection: every public method
of kfp's is ours too, with its parameters in the same order under the same names and
with the same plain defaults; and what our methods return carries every attribute of the
kfp_server_api model kfp's return."""

from __future__ import annotations

import inspect
from typing import Any

import kfp
import kfp_server_api
import pytest

from dagyard import client as ours
from dagyard.client import Client

pytestmark = pytest.mark.kfp

_PLAIN = (type(None), bool, int, float, str)


def _public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name == "__init__"
    }


def _positional(function: Any) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(function).parameters.values()
        if p.name != "self" and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


KFP_METHODS = _public_methods(kfp.Client)


def test_kfp_client_has_the_methods_this_test_expects() -> None:
    # Guards the test itself: an introspection that finds nothing would pass vacuously.
    assert kfp.__version__.startswith("2.")
    assert {"run_pipeline", "create_run_from_pipeline_func", "list_pipeline_versions"} <= set(
        KFP_METHODS
    )
    assert len(KFP_METHODS) >= 40


def test_every_public_kfp_client_method_exists_on_ours() -> None:
    missing = sorted(set(KFP_METHODS) - set(_public_methods(Client)))
    assert missing == [], f"dagyard.Client lacks kfp.Client's {missing}"


@pytest.mark.parametrize("name", sorted(KFP_METHODS))
def test_parameters_match_kfp_in_order_names_and_plain_defaults(name: str) -> None:
    theirs = _positional(KFP_METHODS[name])
    mine = _positional(getattr(Client, name))
    assert [p.name for p in mine[: len(theirs)]] == [p.name for p in theirs], name
    for their, my in zip(theirs, mine, strict=False):
        if their.default is inspect.Parameter.empty:
            assert my.default is inspect.Parameter.empty, f"{name}({my.name}) has a default"
        elif isinstance(their.default, _PLAIN):
            assert my.default == their.default, f"{name}({my.name}) default differs"
        else:
            assert my.default is not inspect.Parameter.empty, f"{name}({my.name}) lost default"
    # Beyond kfp's, a parameter must have a default so kfp-style calls still work.
    for extra in mine[len(theirs) :]:
        assert extra.default is not inspect.Parameter.empty, f"{name}({extra.name})"


def test_run_pipeline_result_has_kfps_shape() -> None:
    theirs = kfp.client.client.RunPipelineResult
    assert [p.name for p in _positional(theirs.wait_for_run_completion)] == ["timeout"]
    wait = _positional(ours.RunPipelineResult.wait_for_run_completion)
    assert wait[0].name == "timeout" and wait[0].default is None
    run = ours.Run(run_id="r", display_name="n", state="PENDING")
    result = ours.RunPipelineResult(Client(host="http://127.0.0.1:9"), run)
    assert result.run_id == "r" and result.run_info is run
    assert repr(result) == "RunPipelineResult(run_id=r)"


def _make(cls: type) -> Any:
    """An instance of one of our result classes with its required fields filled."""
    required = {
        p.name: () if p.annotation.startswith("tuple") else 0 if p.annotation == "int" else "x"
        for p in inspect.signature(cls).parameters.values()
        if p.default is inspect.Parameter.empty
    }
    return cls(**required)


MODELS = [
    ("V2beta1Run", ours.Run),
    ("V2beta1Experiment", ours.Experiment),
    ("V2beta1Pipeline", ours.Pipeline),
    ("V2beta1PipelineVersion", ours.PipelineVersion),
    ("V2beta1RecurringRun", ours.RecurringRun),
    ("V2beta1PipelineTaskDetail", ours.Task),
    ("V2beta1ListRunsResponse", ours.RunList),
    ("V2beta1ListExperimentsResponse", ours.ExperimentList),
    ("V2beta1ListPipelinesResponse", ours.PipelineList),
    ("V2beta1ListPipelineVersionsResponse", ours.PipelineVersionList),
    ("V2beta1ListRecurringRunsResponse", ours.RecurringRunList),
    ("V2beta1GetHealthzResponse", ours.Healthz),
]


@pytest.mark.parametrize(("model", "cls"), MODELS, ids=[m for m, _ in MODELS])
def test_results_carry_every_attribute_of_the_kfp_model(model: str, cls: type) -> None:
    attributes = list(getattr(kfp_server_api, model).openapi_types)
    assert attributes, model
    instance = _make(cls)
    missing = [name for name in attributes if not hasattr(instance, name)]
    assert missing == [], f"{cls.__name__} lacks {model}'s {missing}"


def test_nested_kfp_views_carry_their_models_attributes() -> None:
    run = ours.Run(run_id="r", display_name="n", state="RUNNING", pipeline_id="p")
    recurring = ours.RecurringRun(
        recurring_run_id="j", display_name="n", status="ENABLED", cron="0 * * * * *"
    )
    nested = [
        ("V2beta1RuntimeConfig", run.runtime_config),
        ("V2beta1RunDetails", run.run_details),
        ("V2beta1PipelineVersionReference", run.pipeline_version_reference),
        ("V2beta1Trigger", recurring.trigger),
        ("V2beta1CronSchedule", recurring.trigger.cron_schedule),
        ("V2beta1RuntimeConfig", recurring.runtime_config),
    ]
    for model, value in nested:
        for name in getattr(kfp_server_api, model).openapi_types:
            assert hasattr(value, name), f"{type(value).__name__} lacks {model}'s {name}"
