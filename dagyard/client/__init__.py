"""The Python client of a Dagyard server: `Client` and the objects it returns."""

from dagyard.client.client import Client
from dagyard.client.objects import (
    Experiment,
    ExperimentList,
    Pipeline,
    PipelineList,
    PipelineVersion,
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
    "Pipeline",
    "PipelineList",
    "PipelineVersion",
    "RecurringRun",
    "RecurringRunList",
    "Run",
    "RunList",
    "Task",
]
