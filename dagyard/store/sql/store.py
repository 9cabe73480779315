"""`SqlMetadataStore`: the metadata store on SQLite, PostgreSQL or MySQL/MariaDB.

Every method is one short transaction on a session of its own, committed before it
returns, so one store may serve several threads (the engine's loop, a progress view, the
API). An update locks its row first (SELECT ... FOR UPDATE; SQLite locks the database at
BEGIN IMMEDIATE), so concurrent updates of a run lose no state change. The plumbing shared
by the methods (sessions, error translation, generic create/get/update/delete) is in
`transactions.py`; run leases are in `leases.py`, secrets and config maps in `values.py`,
tasks and the run driver's batched writes in `tasks.py`; backend differences are in
`database.py` and `columns.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dagyard.errors import AlreadyExists
from dagyard.store.listing import ListQuery, Operation, Page, Predicate
from dagyard.store.metadata import MetadataStore
from dagyard.store.records import (
    Artifact,
    Event,
    Experiment,
    Pipeline,
    PipelineVersion,
    RecurringRun,
    Run,
    RunState,
)
from dagyard.store.sql import listing, rows
from dagyard.store.sql.leases import LeaseStorage, lease_lost
from dagyard.store.sql.metrics import record_metrics
from dagyard.store.sql.schema import (
    ArtifactRow,
    EventRow,
    ExperimentRow,
    PipelineRow,
    PipelineVersionRow,
    RecurringRunRow,
    RunRow,
    TaskRow,
)
from dagyard.store.sql.tasks import TaskStorage
from dagyard.store.sql.tenancy import TenancyStorage
from dagyard.store.sql.transactions import Conflict, chunks, now, stamped
from dagyard.store.sql.values import ValuesStorage


class SqlMetadataStore(TaskStorage, LeaseStorage, ValuesStorage, TenancyStorage, MetadataStore):
    """The metadata store on the database at `url`, migrated to the newest schema on
    open. Raises StoreError, saying how to fix it, when the database cannot be used.

    Beyond the interface: `create_run` records the initial state in `state_history` and
    moves the experiment's `last_run_created_at`; `add_events` ignores events recorded
    before (so repeating it after a crash is harmless); deleting an unknown id raises
    NotFound.
    """

    # -- experiments ----------------------------------------------------------------
    def create_experiment(self, experiment: Experiment) -> Experiment:
        experiment = stamped(experiment, "created_at")
        return self._create(
            experiment,
            ExperimentRow,
            unique=f"An experiment named {experiment.display_name!r} exists already in "
            f"namespace {experiment.namespace!r}; choose another name, or use that one.",
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._fetch(ExperimentRow, experiment_id, Experiment)

    def find_experiment(self, display_name: str, namespace: str = "") -> Experiment | None:
        found = self._list(
            Experiment,
            sa.select(ExperimentRow).where(
                ExperimentRow.display_name == display_name, ExperimentRow.namespace == namespace
            ),
        )
        return found[0] if found else None

    def list_experiments(self) -> list[Experiment]:
        return self._list(
            Experiment,
            sa.select(ExperimentRow).order_by(
                ExperimentRow.created_at, ExperimentRow.experiment_id
            ),
        )

    def update_experiment(self, experiment_id: str, **changes: Any) -> Experiment:
        return self._update(ExperimentRow, experiment_id, Experiment, changes)

    def delete_experiment(self, experiment_id: str) -> None:
        self._delete(ExperimentRow, experiment_id)

    # -- pipelines ------------------------------------------------------------------
    def create_pipeline(self, pipeline: Pipeline) -> Pipeline:
        pipeline = stamped(pipeline, "created_at")
        return self._create(
            pipeline,
            PipelineRow,
            unique=f"A pipeline named {pipeline.name!r} exists already in namespace "
            f"{pipeline.namespace!r}; choose another name, or add a version to it.",
        )

    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        return self._fetch(PipelineRow, pipeline_id, Pipeline)

    def update_pipeline(self, pipeline_id: str, **changes: Any) -> Pipeline:
        return self._update(PipelineRow, pipeline_id, Pipeline, changes)

    def find_pipeline(self, name: str, namespace: str = "") -> Pipeline | None:
        found = self._list(
            Pipeline,
            sa.select(PipelineRow).where(
                PipelineRow.name == name, PipelineRow.namespace == namespace
            ),
        )
        return found[0] if found else None

    def list_pipelines(self) -> list[Pipeline]:
        return self._list(
            Pipeline,
            sa.select(PipelineRow).order_by(PipelineRow.created_at, PipelineRow.pipeline_id),
        )

    def delete_pipeline(self, pipeline_id: str) -> None:
        self._delete(PipelineRow, pipeline_id)

    def create_pipeline_version(self, version: PipelineVersion) -> PipelineVersion:
        version = stamped(version, "created_at")
        return self._create(
            version,
            PipelineVersionRow,
            parent=(PipelineRow, version.pipeline_id),
            unique=f"Pipeline {version.pipeline_id!r} has a version named {version.name!r} "
            "already; choose another version name.",
        )

    def get_pipeline_version(self, pipeline_version_id: str) -> PipelineVersion:
        return self._fetch(PipelineVersionRow, pipeline_version_id, PipelineVersion)

    def list_pipeline_versions(self, pipeline_id: str) -> list[PipelineVersion]:
        with self._session() as session:
            self._require(session, PipelineRow, pipeline_id)
            found = session.scalars(
                sa.select(PipelineVersionRow)
                .where(PipelineVersionRow.pipeline_id == pipeline_id)
                .order_by(PipelineVersionRow.created_at, PipelineVersionRow.pipeline_version_id)
            )
            versions = [rows.to_record(row, PipelineVersion) for row in found]
        return versions

    def update_pipeline_version(self, pipeline_version_id: str, **changes: Any) -> PipelineVersion:
        return self._update(PipelineVersionRow, pipeline_version_id, PipelineVersion, changes)

    def delete_pipeline_version(self, pipeline_version_id: str) -> None:
        self._delete(PipelineVersionRow, pipeline_version_id)

    # -- runs -----------------------------------------------------------------------
    def create_run(self, run: Run) -> Run:
        """AlreadyExists also when the run's (recurring_run_id, scheduled_at) is taken."""
        run = stamped(run, "created_at")
        if not run.state_history:
            entry = _history_entry(run.created_at or now(), run.state, run.error)
            run = dataclasses.replace(run, state_history=[entry])
        row = rows.to_row(RunRow, run)
        if run.state is RunState.RUNNING:
            row.started_at = run.created_at
        try:
            with self._session(write=True) as session:
                session.add(row)
                session.flush()
                if run.experiment_id is not None:
                    _touch_experiment(session, run.experiment_id, row.created_at)
                created = rows.to_record(row, Run)
        except Conflict:
            if self._scheduled_run_exists(run):
                raise AlreadyExists(
                    f"Recurring run {run.recurring_run_id!r} has a run scheduled at "
                    f"{run.scheduled_at} already; each due time runs once."
                ) from None
            raise self._id_taken(RunRow, run.run_id) from None
        return created

    def _scheduled_run_exists(self, run: Run) -> bool:
        """Whether another run has the due time (recurring run and scheduled_at) of `run`."""
        if run.recurring_run_id is None or run.scheduled_at is None:
            return False
        query = sa.select(RunRow.run_id).where(
            RunRow.recurring_run_id == run.recurring_run_id,
            RunRow.scheduled_at == run.scheduled_at,
        )
        with self._session() as session:
            return session.scalar(query) is not None

    def get_run(self, run_id: str) -> Run:
        return self._fetch(RunRow, run_id, Run)

    def list_runs(
        self, *, experiment_id: str | None = None, states: Sequence[RunState] | None = None
    ) -> list[Run]:
        query = sa.select(RunRow).order_by(RunRow.created_at, RunRow.run_id)
        if experiment_id is not None:
            query = query.where(RunRow.experiment_id == experiment_id)
        if states is not None:
            wanted = [rows.check_value(RunRow, "state", state) for state in states]
            query = query.where(RunRow.state.in_(wanted))
        return self._list(Run, query)

    def update_run(self, run_id: str, *, fence: str | None = None, **changes: Any) -> Run:
        rows.check_changes(RunRow, Run, changes)
        with self._session(write=True) as session:
            row = self._get(session, RunRow, run_id, lock=True)
            if fence is not None and row.lease_owner != fence:
                raise lease_lost(run_id, fence, row.lease_owner)
            state: RunState | None = changes.get("state")
            if state == row.state:
                state = None  # not a change of state
            when = now()
            if state is not None and state.terminal:
                changes.setdefault("finished_at", when)
            if state is RunState.RUNNING and row.started_at is None:
                row.started_at = when
            for name, value in changes.items():
                setattr(row, rows.attribute(name), value)
            if state is not None:
                entry = _history_entry(when, state, changes.get("error"))
                row.state_history = [*row.state_history, entry]
            session.flush()
            updated = rows.to_record(row, Run)
        return updated

    def delete_run(self, run_id: str) -> None:
        self._delete(RunRow, run_id)

    # -- artifacts and lineage ------------------------------------------------------
    def create_artifact(self, artifact: Artifact) -> Artifact:
        artifact = stamped(artifact, "created_at")
        return self._create(artifact, ArtifactRow, parent=(RunRow, artifact.run_id))

    def get_artifact(self, artifact_id: str) -> Artifact:
        return self._fetch(ArtifactRow, artifact_id, Artifact)

    def list_artifacts(self, run_id: str | None = None) -> list[Artifact]:
        query = sa.select(ArtifactRow).order_by(ArtifactRow.created_at, ArtifactRow.artifact_id)
        if run_id is not None:
            query = query.where(ArtifactRow.run_id == run_id)
        return self._list(Artifact, query)

    def get_artifacts(self, artifact_ids: Sequence[str]) -> list[Artifact]:
        found: dict[str, Artifact] = {}
        for chunk in chunks(artifact_ids):
            query = sa.select(ArtifactRow).where(ArtifactRow.artifact_id.in_(chunk))
            found.update((a.artifact_id, a) for a in self._list(Artifact, query))
        return [found[i] for i in dict.fromkeys(artifact_ids) if i in found]

    def add_events(self, events: Sequence[Event]) -> None:
        new: dict[tuple[Any, ...], EventRow] = {}
        for event in events:
            row = rows.to_row(EventRow, stamped(event, "created_at"))
            new.setdefault((row.task_id, row.artifact_id, row.kind, row.key, row.index), row)
        try:
            with self._session(write=True) as session:
                added = []
                for key, row in new.items():
                    if session.get(EventRow, key) is None:
                        session.add(row)
                        added.append(row)
                session.flush()
                record_metrics(session.connection(), [rows.to_record(r, Event) for r in added])
        except Conflict:
            with self._session() as session:
                for task_id, artifact_id, *_ in new:
                    self._require(session, TaskRow, task_id)
                    self._require(session, ArtifactRow, artifact_id)
            raise

    def list_events(
        self,
        *,
        task_id: str | None = None,
        artifact_id: str | None = None,
        artifact_ids: Sequence[str] | None = None,
        run_ids: Sequence[str] | None = None,
    ) -> list[Event]:
        query = sa.select(EventRow)
        if task_id is not None:
            query = query.where(EventRow.task_id == task_id)
        if artifact_id is not None:
            query = query.where(EventRow.artifact_id == artifact_id)
        if run_ids is not None:
            query = query.join(TaskRow, TaskRow.task_id == EventRow.task_id)
        # Long id lists go in pieces: databases limit the parameters of one statement.
        found: list[Event] = []
        for artifacts in [None] if artifact_ids is None else chunks(artifact_ids):
            for runs in [None] if run_ids is None else chunks(run_ids):
                part = query
                if artifacts is not None:
                    part = part.where(EventRow.artifact_id.in_(artifacts))
                if runs is not None:
                    part = part.where(TaskRow.run_id.in_(runs))
                found += self._list(Event, part)
        return sorted(found, key=_event_order)

    # -- paged listings -------------------------------------------------------------
    def page_runs(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> Page[Run]:
        with self._session() as session:
            scope = _run_scope(session, experiment_id, namespace)
            return listing.fetch(session, listing.RUNS, Run, query, scope)

    def run_metric_keys(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> list[str]:
        with self._session() as session:
            scope = _run_scope(session, experiment_id, namespace)
            return listing.metric_keys(session, query, scope)

    def page_experiments(
        self, query: ListQuery, *, namespace: str | None = None
    ) -> Page[Experiment]:
        scope = () if namespace is None else (_equals("namespace", namespace),)
        with self._session() as session:
            return listing.fetch(session, listing.EXPERIMENTS, Experiment, query, scope)

    def page_pipelines(self, query: ListQuery, *, namespace: str | None = None) -> Page[Pipeline]:
        scope = () if namespace is None else (_equals("namespace", namespace),)
        with self._session() as session:
            return listing.fetch(session, listing.PIPELINES, Pipeline, query, scope)

    def page_pipeline_versions(self, pipeline_id: str, query: ListQuery) -> Page[PipelineVersion]:
        with self._session() as session:
            self._require(session, PipelineRow, pipeline_id)
            scope = (_equals("pipeline_id", pipeline_id),)
            return listing.fetch(session, listing.PIPELINE_VERSIONS, PipelineVersion, query, scope)

    def page_artifacts(
        self, query: ListQuery, *, run_id: str | None = None, schema_title: str | None = None
    ) -> Page[Artifact]:
        scope: tuple[Predicate, ...] = ()
        if run_id is not None:
            scope += (_equals("run_id", run_id),)
        if schema_title is not None:
            scope += (_equals("schema_title", schema_title),)
        with self._session() as session:
            return listing.fetch(session, listing.ARTIFACTS, Artifact, query, scope)

    # -- recurring runs -------------------------------------------------------------
    def page_recurring_runs(
        self, query: ListQuery, *, experiment_id: str | None = None, namespace: str | None = None
    ) -> Page[RecurringRun]:
        scope: tuple[Predicate, ...] = ()
        if experiment_id is not None:
            scope += (_equals("experiment_id", experiment_id),)
        if namespace is not None:
            scope += (_equals("namespace", namespace),)
        with self._session() as session:
            return listing.fetch(session, listing.RECURRING_RUNS, RecurringRun, query, scope)

    def create_recurring_run(self, recurring_run: RecurringRun) -> RecurringRun:
        recurring_run = stamped(recurring_run, "created_at")
        if recurring_run.updated_at is None:
            recurring_run = dataclasses.replace(recurring_run, updated_at=recurring_run.created_at)
        return self._create(recurring_run, RecurringRunRow)

    def get_recurring_run(self, recurring_run_id: str) -> RecurringRun:
        return self._fetch(RecurringRunRow, recurring_run_id, RecurringRun)

    def list_recurring_runs(self) -> list[RecurringRun]:
        return self._list(
            RecurringRun,
            sa.select(RecurringRunRow).order_by(
                RecurringRunRow.created_at, RecurringRunRow.recurring_run_id
            ),
        )

    def update_recurring_run(self, recurring_run_id: str, **changes: Any) -> RecurringRun:
        changes.setdefault("updated_at", now())
        return self._update(RecurringRunRow, recurring_run_id, RecurringRun, changes)

    def delete_recurring_run(self, recurring_run_id: str) -> None:
        self._delete(RecurringRunRow, recurring_run_id)


def _history_entry(when: datetime, state: RunState, error: str | None) -> dict[str, Any]:
    """One `state_history` item, as KFP's REST API shows it (RFC 3339 time in UTC)."""
    return {
        "update_time": when.isoformat().replace("+00:00", "Z"),
        "state": rows.enum_value(state),
        "error": error,
    }


def _event_order(event: Event) -> tuple[Any, ...]:
    return (event.created_at, event.task_id, str(event.kind), event.key, event.index)


def _equals(key: str, value: str) -> Predicate:
    return Predicate(key, Operation.EQUALS, value)


def _touch_experiment(session: Session, experiment_id: str, created_at: datetime) -> None:
    latest = ExperimentRow.last_run_created_at
    session.execute(
        sa.update(ExperimentRow)
        .where(ExperimentRow.experiment_id == experiment_id)
        .where(sa.or_(latest.is_(None), latest < created_at))
        .values(last_run_created_at=created_at)
    )


def _run_scope(
    session: Session, experiment_id: str | None, namespace: str | None
) -> tuple[Predicate, ...]:
    """The predicates holding a run listing to one experiment, or to the experiments of
    one namespace (runs belong to a namespace through their experiment)."""
    scope: tuple[Predicate, ...] = ()
    if experiment_id is not None:
        scope += (_equals("experiment_id", experiment_id),)
    if namespace is not None:
        in_namespace = session.scalars(
            sa.select(ExperimentRow.experiment_id).where(ExperimentRow.namespace == namespace)
        )
        scope += (Predicate("experiment_id", Operation.IN, sorted(in_namespace)),)
    return scope
