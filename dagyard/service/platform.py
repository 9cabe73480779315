"""The composition root: the concrete stores and executor picked from `Settings`."""

from __future__ import annotations

import dataclasses

from dagyard.executors.base import Executor
from dagyard.settings import Settings
from dagyard.store.artifact_store import ArtifactStore
from dagyard.store.metadata import MetadataStore


@dataclasses.dataclass
class Platform:
    settings: Settings
    store: MetadataStore
    artifacts: ArtifactStore
    executor: Executor

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        from dagyard.executors.environments import EnvironmentCache
        from dagyard.executors.local import LocalExecutor
        from dagyard.store.sql import SqlMetadataStore

        settings.home.mkdir(parents=True, exist_ok=True)
        executor: Executor
        if settings.executor == "ray":
            # Imported here: `ray` is an optional extra, needed only when chosen.
            from dagyard.executors.ray import RayExecutor

            executor = RayExecutor(
                settings.ray_address,
                environments_root=settings.environments_root,
                container_runtime=settings.container_runtime,
                task_isolation=settings.task_isolation,
            )
        else:
            executor = LocalExecutor(
                environments=EnvironmentCache(settings.environments_root),
                container_runtime=settings.container_runtime,
                task_isolation=settings.task_isolation,
                cgroups=settings.task_cgroups,
            )
        try:
            store = SqlMetadataStore(settings.database_url)
        except BaseException:
            executor.close()
            raise
        return cls(
            settings=settings,
            store=store,
            artifacts=ArtifactStore(settings.artifact_root),
            executor=executor,
        )

    def close(self) -> None:
        self.executor.close()
        self.store.close()
