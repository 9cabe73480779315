"""Experiments: create, read, list, archive, unarchive, delete. Plain functions over a
`Platform`, returning stored records; the REST routes are shells over these."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dagyard.errors import UsageError
from dagyard.service.platform import Platform
from dagyard.store.listing import ListQuery, Page
from dagyard.store.records import Experiment, StorageState


def create_experiment(
    platform: Platform, *, display_name: str, description: str = "", namespace: str = ""
) -> Experiment:
    """A new experiment; AlreadyExists if the name is taken in the namespace."""
    if not display_name.strip():
        raise UsageError("An experiment needs a display_name; give it a name.")
    return platform.store.create_experiment(
        Experiment(
            experiment_id=uuid.uuid4().hex,
            display_name=display_name,
            description=description,
            namespace=namespace,
            created_at=datetime.now(UTC),
        )
    )


def get_experiment(platform: Platform, experiment_id: str) -> Experiment:
    return platform.store.get_experiment(experiment_id)


def list_experiments(
    platform: Platform, query: ListQuery, *, namespace: str | None = None
) -> Page[Experiment]:
    return platform.store.page_experiments(query, namespace=namespace)


def archive_experiment(platform: Platform, experiment_id: str) -> Experiment:
    """Archive the experiment and its runs (as KFP does)."""
    experiment = platform.store.get_experiment(experiment_id)
    for run in platform.store.list_runs(experiment_id=experiment_id):
        if run.storage_state is not StorageState.ARCHIVED:
            platform.store.update_run(run.run_id, storage_state=StorageState.ARCHIVED)
    return platform.store.update_experiment(
        experiment.experiment_id, storage_state=StorageState.ARCHIVED
    )


def unarchive_experiment(platform: Platform, experiment_id: str) -> Experiment:
    """Make the experiment available again (its runs stay archived, as in KFP)."""
    return platform.store.update_experiment(experiment_id, storage_state=StorageState.AVAILABLE)


def delete_experiment(platform: Platform, experiment_id: str) -> None:
    """Delete an experiment. Its runs stay, without an experiment (KFP keeps them too)."""
    platform.store.delete_experiment(experiment_id)
