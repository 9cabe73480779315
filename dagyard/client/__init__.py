"""The Python client of a Dagyard server: `Client` and the objects it returns."""

from dagyard.client.client import Client, RunPipelineResult
from dagyard.client.objects import (
    Experiment,
    ExperimentList,
    Healthz,
    Pipeline,
    PipelineList,
    PipelineVersion,
    PipelineVersionList,
    RecurringRun,
    RecurringRunList,
    Run,
    RunList,
    Task,
)
from dagyard.errors import ApiError

__all__ = [
    "ApiError",
    "Client",
    "Experiment",
    "ExperimentList",
    "Healthz",
    "Pipeline",
    "PipelineList",
    "PipelineVersion",
    "PipelineVersionList",
    "RecurringRun",
    "RecurringRunList",
    "Run",
    "RunList",
    "RunPipelineResult",
    "Task",
]
