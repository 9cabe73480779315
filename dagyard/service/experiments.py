"""Experiments: create, read, list, archive, unarchive, delete. Plain functions over a
`Platform`, returning stored records; the REST routes are shells over these.

Each function takes the caller's `Principal` (the admin unless given). A namespace token
reaches its namespace's experiments only, and is told any other does not exist
(NotFound, worded as the store words an unknown id); experiments of no namespace are
the admin's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dagyard.errors import NotFound, UsageError
from dagyard.service.platform import Platform
from dagyard.service.tenancy import ADMIN, Principal
from dagyard.store.listing import ListQuery, Page
from dagyard.store.records import Experiment, StorageState


def create_experiment(
    platform: Platform,
    *,
    display_name: str,
    description: str = "",
    namespace: str = "",
    principal: Principal = ADMIN,
) -> Experiment:
    """A new experiment in `namespace` (none named: the caller's); AlreadyExists if the
    name is taken there."""
    if not display_name.strip():
        raise UsageError("An experiment needs a display_name; give it a name.")
    namespace = principal.default_namespace(namespace)
    principal.check_write(namespace, f"experiment {display_name!r}")
    return platform.store.create_experiment(
        Experiment(
            experiment_id=uuid.uuid4().hex,
            display_name=display_name,
            description=description,
            namespace=namespace,
            created_at=datetime.now(UTC),
        )
    )


def get_experiment(
    platform: Platform, experiment_id: str, *, principal: Principal = ADMIN
) -> Experiment:
    """The experiment; NotFound, as for an unknown id, when the caller may not see it."""
    experiment = platform.store.get_experiment(experiment_id)
    if not principal.visible(experiment.namespace):
        raise NotFound(f"No experiment with id {experiment_id!r}.")
    return experiment


def list_experiments(
    platform: Platform,
    query: ListQuery,
    *,
    namespace: str | None = None,
    principal: Principal = ADMIN,
) -> Page[Experiment]:
    namespace = principal.listing_namespace(namespace)
    return platform.store.page_experiments(query, namespace=namespace)


def archive_experiment(
    platform: Platform, experiment_id: str, *, principal: Principal = ADMIN
) -> Experiment:
    """Archive the experiment and its runs (as KFP does)."""
    experiment = _writable(platform, experiment_id, principal)
    for run in platform.store.list_runs(experiment_id=experiment_id):
        if run.storage_state is not StorageState.ARCHIVED:
            platform.store.update_run(run.run_id, storage_state=StorageState.ARCHIVED)
    return platform.store.update_experiment(
        experiment.experiment_id, storage_state=StorageState.ARCHIVED
    )


def unarchive_experiment(
    platform: Platform, experiment_id: str, *, principal: Principal = ADMIN
) -> Experiment:
    """Make the experiment available again (its runs stay archived, as in KFP)."""
    _writable(platform, experiment_id, principal)
    return platform.store.update_experiment(experiment_id, storage_state=StorageState.AVAILABLE)


def delete_experiment(
    platform: Platform, experiment_id: str, *, principal: Principal = ADMIN
) -> None:
    """Delete an experiment. Its runs stay, without an experiment (KFP keeps them too)."""
    _writable(platform, experiment_id, principal)
    platform.store.delete_experiment(experiment_id)


def _writable(platform: Platform, experiment_id: str, principal: Principal) -> Experiment:
    experiment = get_experiment(platform, experiment_id, principal=principal)
    principal.check_write(experiment.namespace, f"experiment {experiment.display_name!r}")
    return experiment
