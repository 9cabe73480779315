"""`dagyard demo`: run the breast-cancer sample in the Dagyard home, then say where it went.

Until the server exists this is what `make up` shows a new user: a real training pipeline
compiled to IR, submitted and driven by the engine (the first run builds the sample's
Python environment), and afterwards its metrics and where its database, artifacts and
logs are.

Belongs here: choosing the sample, submitting it, and gathering the summary from the
stores. Not here: driving the run (`dagyard.service.runs`) or printing (`dagyard.cli`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dagyard.compiler import Compiler
from dagyard.samples.breast_cancer import breast_cancer
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import Artifact, EventKind, Run, Task, TaskKind, TaskState

EXPERIMENT = "demo"


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    """What a finished demo run produced, and where it is."""

    run: Run
    tasks: list[Task]
    ir_path: Path
    database_url: str
    run_root: str  # the folder (or URL) holding this run's artifacts and logs
    environments: Path
    # Output artifacts by name; for a cached task, those of the run it was cached from.
    artifacts: dict[str, Artifact]
    # Each leaf task's log: its own, or that of the task it was cached from.
    logs: dict[str, str]

    @property
    def metrics(self) -> dict[str, Any]:
        found = self.artifacts.get("metrics")
        return dict(found.metadata) if found else {}

    @property
    def confusion_matrix(self) -> tuple[list[str], list[list[int]]]:
        """Class names and rows (actual) by columns (predicted); empty if missing."""
        found = self.artifacts.get("classification")
        matrix = found.metadata.get("confusionMatrix", {}) if found else {}
        names = [spec["displayName"] for spec in matrix.get("annotationSpecs", [])]
        rows = [[int(v) for v in row["row"]] for row in matrix.get("rows", [])]
        return names, rows

    @property
    def cached(self) -> int:
        return sum(1 for t in self.tasks if t.state == TaskState.CACHED)


def demo_ir_path(settings: Settings) -> Path:
    """Where the demo writes the sample's compiled IR."""
    return settings.home / "demo" / "breast-cancer.yaml"


def submit_demo(platform: Platform) -> Run:
    """Compile the sample to the home's demo folder and store a PENDING run of it."""
    path = demo_ir_path(platform.settings)
    Compiler().compile(breast_cancer, path)
    spec = runs.load_pipeline_spec(path)
    return runs.submit_run(platform, spec, parameters={}, experiment=EXPERIMENT)


def summarize(platform: Platform, run_id: str) -> DemoSummary:
    """The summary of a demo run, read back from the metadata and artifact stores."""
    store = platform.store
    run = store.get_run(run_id)
    tasks = [t for t in store.list_tasks(run_id) if t.kind == TaskKind.CONTAINER]
    artifacts: dict[str, Artifact] = {}
    logs: dict[str, str] = {}
    for task in tasks:
        for event in store.list_events(task_id=task.task_id):
            if event.kind == EventKind.OUTPUT:
                artifacts[event.key] = store.get_artifact(event.artifact_id)
        source = task
        if task.log_uri is None and task.cached_from_task_id:
            source = store.get_task(task.cached_from_task_id)
        if source.log_uri:
            logs[task.path] = source.log_uri
    return DemoSummary(
        run=run,
        tasks=tasks,
        ir_path=demo_ir_path(platform.settings),
        database_url=platform.settings.database_url,
        run_root=f"{platform.artifacts.root_uri}/{run_id}",
        environments=platform.settings.environments_root,
        artifacts=artifacts,
        logs=logs,
    )
