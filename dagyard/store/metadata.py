"""The metadata store interface: what the engine and the service layer may ask of the
database. One implementation (`dagyard.store.sql`) serves SQLite, PostgreSQL and MySQL;
one contract test suite (tests/store) checks every backend.

Every method commits before it returns: a caller that acts on a returned record knows
the change it made is durable.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dagyard.store.listing import ListQuery, Page
from dagyard.store.records import (
    ApiToken,
    Artifact,
    Event,
    Experiment,
    NamedValues,
    Namespace,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    RunState,
    Task,
    TaskDigest,
    TaskScope,
    TaskState,
    ValuesKind,
)


class MetadataStore(abc.ABC):
    """Runs, tasks, artifacts, lineage, pipelines, experiments and recurring runs."""

    # -- experiments ----------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, experiment: Experiment) -> Experiment: ...

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Raises NotFound."""

    @abc.abstractmethod
    def find_experiment(self, display_name: str, namespace: str = "") -> Experiment | None: ...

    @abc.abstractmethod
    def list_experiments(self) -> list[Experiment]: ...

    @abc.abstractmethod
    def update_experiment(self, experiment_id: str, **changes: Any) -> Experiment: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    # -- pipelines ------------------------------------------------------------------
    @abc.abstractmethod
    def create_pipeline(self, pipeline: Pipeline) -> Pipeline:
        """Raises AlreadyExists if the name is taken in the namespace."""

    @abc.abstractmethod
    def get_pipeline(self, pipeline_id: str) -> Pipeline: ...

    @abc.abstractmethod
    def find_pipeline(self, name: str, namespace: str = "") -> Pipeline | None: ...

    @abc.abstractmethod
    def list_pipelines(self) -> list[Pipeline]: ...

    @abc.abstractmethod
    def delete_pipeline(self, pipeline_id: str) -> None:
        """Deletes its versions too."""

    @abc.abstractmethod
    def update_pipeline(self, pipeline_id: str, **changes: Any) -> Pipeline:
        """AlreadyExists if a changed name is taken in the namespace."""

    @abc.abstractmethod
    def create_pipeline_version(self, version: PipelineVersion) -> PipelineVersion: ...

    @abc.abstractmethod
    def get_pipeline_version(self, pipeline_version_id: str) -> PipelineVersion: ...

    @abc.abstractmethod
    def list_pipeline_versions(self, pipeline_id: str) -> list[PipelineVersion]: ...

    @abc.abstractmethod
    def update_pipeline_version(self, pipeline_version_id: str, **changes: Any) -> PipelineVersion:
        """AlreadyExists if a changed name is taken in the pipeline."""

    @abc.abstractmethod
    def delete_pipeline_version(self, pipeline_version_id: str) -> None: ...

    # -- runs -----------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(self, run: Run) -> Run:
        """Stores a new run (state PENDING unless set); fills `created_at`. Raises
        AlreadyExists if its recurring run has a run at its `scheduled_at` already."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abc.abstractmethod
    def list_runs(
        self, *, experiment_id: str | None = None, states: Sequence[RunState] | None = None
    ) -> list[Run]: ...

    @abc.abstractmethod
    def update_run(self, run_id: str, *, fence: str | None = None, **changes: Any) -> Run:
        """Changes fields of a run. A change of `state` appends to `state_history` (with
        `error` if given) and sets `finished_at` when the state is terminal. With
        `fence` (a lease owner), only if that owner holds the run's lease, checked in
        the same transaction: LeaseLost otherwise, and nothing changes."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Deletes the run with its tasks, artifacts and events."""

    # -- run leases -------------------------------------------------------------------
    # One orchestrator process at a time drives a run: it claims the run's lease, renews
    # it while driving, and releases it at the end. Each method is one compare-and-set
    # UPDATE, so racing processes are decided by the database. Times come from the
    # caller's clock (the processes' clocks must agree to well within a lease's length).
    @abc.abstractmethod
    def claim_run(
        self,
        run_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        replacing: str | None = None,
    ) -> bool:
        """Make `owner` the run's lease holder until `until`. True iff the run is not
        terminal and its lease is free, held by `owner` already, expired (its
        `lease_expires_at` before `now`), or held by `replacing` (an owner the caller
        knows to be dead). False also for an unknown run."""

    @abc.abstractmethod
    def renew_lease(self, run_id: str, owner: str, *, until: datetime) -> bool:
        """Extend `owner`'s lease to `until`. True iff `owner` holds it. A lease that
        expired but that nobody claimed since is still `owner`'s, and renewing it is
        fine: no other process can have driven the run in between."""

    @abc.abstractmethod
    def release_run(self, run_id: str, owner: str) -> None:
        """Free the run's lease if `owner` holds it; otherwise change nothing."""

    # -- tasks ----------------------------------------------------------------------
    @abc.abstractmethod
    def get_or_create_task(self, task: Task) -> tuple[Task, bool]:
        """The task of `task.run_id` at `task.path`, creating it from `task` if there is
        none. Returns (task, created). Safe to repeat after a crash."""

    @abc.abstractmethod
    def get_task(self, task_id: str) -> Task: ...

    @abc.abstractmethod
    def list_tasks(self, run_id: str) -> list[Task]: ...

    @abc.abstractmethod
    def changed_tasks(
        self, run_id: str, after: int | None = None, *, scope: TaskScope | None = None
    ) -> tuple[list[Task], int]:
        """A run's tasks (in creation order) written after its task revision `after` (all
        of them if None), and the revision this read is complete up to: asked again with
        that number, the next read returns exactly the tasks written since. Every write
        of a run's tasks takes the run's next revision, in commit order. With `scope`,
        only the tasks in that part of the tree, and the revision is that of the last
        of them (or `after`)."""

    @abc.abstractmethod
    def task_tally(self, run_id: str) -> tuple[int, int]:
        """How many task records a run has, and the highest revision among them (0 for
        none): a cheap look before reading them."""

    @abc.abstractmethod
    def task_digests(self, run_id: str) -> list[TaskDigest]:
        """Every task record of a run, in creation order, as the few columns of a
        `TaskDigest`."""

    @abc.abstractmethod
    def get_tasks(self, task_ids: Sequence[str]) -> list[Task]:
        """The tasks with these ids, in the order given; unknown ids are left out."""

    @abc.abstractmethod
    def update_task(self, task_id: str, **changes: Any) -> Task: ...

    @abc.abstractmethod
    def write_tasks(
        self,
        created: Sequence[Task],
        changed: Sequence[Task],
        *,
        artifacts: Sequence[Artifact] = (),
        events: Sequence[Event] = (),
        fence: str | None = None,
    ) -> None:
        """A run driver's batch, in one transaction, all or nothing: insert the `created`
        tasks (in order, so a parent comes before its children), replace every field of
        the `changed` ones (whole records, matched by id), store new `artifacts` and add
        lineage `events` (repeats are ignored). AlreadyExists if a created task's id or
        path is taken, except by this very batch: written again after StoreUnavailable
        (its first COMMIT may have landed), a batch already stored changes nothing and
        is no error. With `fence` (a lease owner), only if that owner holds the lease
        of every run the tasks and artifacts belong to, checked in the same transaction
        (the runs' rows stay locked until it ends): LeaseLost otherwise."""

    @abc.abstractmethod
    def find_cached_task(
        self, fingerprint: str, *, newer_than: datetime | None, namespace: str | None = None
    ) -> Task | None:
        """The most recent task that finished SUCCEEDED with this fingerprint (and, if
        given, finished after `newer_than`), from any run; given `namespace`, from the
        runs of that namespace only (a run's namespace is its experiment's, "" without
        one): one team's results are never another's cache."""

    # -- artifacts and lineage ------------------------------------------------------
    @abc.abstractmethod
    def create_artifact(self, artifact: Artifact) -> Artifact: ...

    @abc.abstractmethod
    def get_artifact(self, artifact_id: str) -> Artifact: ...

    @abc.abstractmethod
    def list_artifacts(self, run_id: str | None = None) -> list[Artifact]: ...

    @abc.abstractmethod
    def get_artifacts(self, artifact_ids: Sequence[str]) -> list[Artifact]:
        """The artifacts with these ids, in the order given; unknown ids are left out."""

    @abc.abstractmethod
    def add_events(self, events: Sequence[Event]) -> None: ...

    @abc.abstractmethod
    def list_events(
        self,
        *,
        task_id: str | None = None,
        artifact_id: str | None = None,
        artifact_ids: Sequence[str] | None = None,
        run_ids: Sequence[str] | None = None,
    ) -> list[Event]:
        """Lineage events, oldest first, matching every filter given: of one task, of one
        artifact or of any of `artifact_ids`, of the tasks of any of `run_ids`."""

    # -- recurring runs -------------------------------------------------------------
    @abc.abstractmethod
    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun: ...

    @abc.abstractmethod
    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun: ...

    @abc.abstractmethod
    def list_recurring_runs(self) -> list[RecurringRun]: ...

    @abc.abstractmethod
    def page_recurring_runs(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> Page[RecurringRun]: ...

    @abc.abstractmethod
    def update_recurring_run(self, recurring_run_id: str, **changes: Any) -> RecurringRun: ...

    @abc.abstractmethod
    def delete_recurring_run(self, recurring_run_id: str) -> None: ...

    # -- secrets and config maps ------------------------------------------------------
    # What tasks read through kfp-kubernetes' settings (use_secret_as_env, ...), by kind,
    # namespace and name. A secret's values leave the store only for a task.
    @abc.abstractmethod
    def put_values(self, values: NamedValues) -> NamedValues:
        """Create the secret or config map, or replace the values of the one with its
        kind, namespace and name (keeping its `created_at`); `updated_at` is now."""

    @abc.abstractmethod
    def get_values(self, kind: ValuesKind, name: str, namespace: str = "") -> NamedValues:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_values(self, kind: ValuesKind, namespace: str = "") -> list[NamedValues]:
        """Those of one kind in one namespace, by name."""

    @abc.abstractmethod
    def delete_values(self, kind: ValuesKind, name: str, namespace: str = "") -> None:
        """Raises NotFound."""

    # -- namespaces and their tokens ---------------------------------------------------
    # A token is stored as its SHA-256 digest only; the service makes and checks tokens.
    @abc.abstractmethod
    def create_namespace(self, name: str) -> Namespace:
        """AlreadyExists if it exists."""

    @abc.abstractmethod
    def get_namespace(self, name: str) -> Namespace:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_namespaces(self) -> list[Namespace]:
        """By name."""

    @abc.abstractmethod
    def delete_namespace(self, name: str) -> None:
        """Delete it and its tokens; NotFound if there is none."""

    @abc.abstractmethod
    def create_token(self, token: ApiToken) -> ApiToken:
        """NotFound if its namespace does not exist."""

    @abc.abstractmethod
    def find_token(self, digest: str) -> ApiToken | None:
        """The token with this digest, revoked or expired ones included."""

    @abc.abstractmethod
    def list_tokens(self, namespace: str | None = None) -> list[ApiToken]:
        """Those of one namespace, or all, by namespace then age."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> ApiToken:
        """Mark it revoked (once: a second call changes nothing); raises NotFound."""

    @abc.abstractmethod
    def has_tokens(self, at: datetime | None = None) -> bool:
        """Whether any token works at `at` (default now): not revoked, not expired."""

    # -- paged listings (KFP's list calls) ---------------------------------------------
    # Filters are evaluated by the database; UsageError names a bad key, value, sort_by,
    # page size or page token.
    @abc.abstractmethod
    def page_runs(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> Page[Run]:
        """Runs of one experiment, or of the experiments of one namespace, or all."""

    @abc.abstractmethod
    def run_metric_keys(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> list[str]:
        """The metric keys ("<task path>/<metric>") of every run `page_runs` would list
        for the same arguments (all its pages), sorted; at most MAX_PAGE_SIZE of them.
        Runs sort by one with sort_by "metric:<key>"."""

    @abc.abstractmethod
    def page_experiments(
        self, query: ListQuery, *, namespace: str | None = None
    ) -> Page[Experiment]: ...

    @abc.abstractmethod
    def page_pipelines(
        self, query: ListQuery, *, namespace: str | None = None
    ) -> Page[Pipeline]: ...

    @abc.abstractmethod
    def page_pipeline_versions(self, pipeline_id: str, query: ListQuery) -> Page[PipelineVersion]:
        """Raises NotFound if there is no such pipeline."""

    @abc.abstractmethod
    def page_artifacts(
        self, query: ListQuery, *, run_id: str | None = None, schema_title: str | None = None
    ) -> Page[Artifact]:
        """Artifacts of one run, or of one type (`system.Metrics`), or all."""

    @abc.abstractmethod
    def close(self) -> None: ...


__all__ = ["MetadataStore", "TaskState"]
