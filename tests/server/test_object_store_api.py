"""The API over runs whose artifacts and logs live on a real S3-compatible server: the
same tests as for a local artifact folder (imported here, so they run again with this
module's `platform`), plus deleting a run's objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_artifacts_api import (
    lineage,
    test_a_runs_tasks_and_artifacts_show_who_made_and_read_what,  # noqa: F401
    test_artifact_content_is_served_in_pieces_and_never_as_active_content,  # noqa: F401
)
from test_logs_api import (
    finished,
    submit,
    test_a_running_task_log_is_tailed_until_complete,  # noqa: F401
    test_each_attempt_has_its_own_log,  # noqa: F401
)

from dagyard.service.platform import Platform
from dagyard.service.worker import RunWorker
from dagyard.settings import Settings


@pytest.fixture
def platform(tmp_path: Path, s3_root: str) -> Iterator[Platform]:
    opened = Platform.open(
        Settings(
            container_runtime="off", home=tmp_path / "home", max_parallel=2, artifact_root=s3_root
        )
    )
    yield opened
    opened.close()


def test_deleting_a_run_deletes_its_objects(
    api: httpx.Client, worker: RunWorker, platform: Platform, tmp_path: Path
) -> None:
    run_id = submit(api, lineage)
    assert finished(api, run_id) == "SUCCEEDED"
    # Metrics have no file, only metadata: the rest are objects.
    uris = [a.uri for a in platform.store.list_artifacts(run_id) if a.digest is not None]
    logs = [t.log_uri for t in platform.store.list_tasks(run_id) if t.log_uri]
    assert len(uris) == 2 and len(logs) == 4  # make, use and two squares
    assert all(u.startswith(platform.artifacts.root_uri + "/") for u in uris + logs)
    assert [u for u in uris + logs if not platform.artifacts.exists(u)] == []
    assert api.delete(f"/runs/{run_id}").status_code == 200
    assert not any(platform.artifacts.exists(u) for u in uris + logs)
    # Tasks worked on local copies in the scratch folder; nothing landed in a local store.
    assert not (tmp_path / "home" / "artifacts").exists()
