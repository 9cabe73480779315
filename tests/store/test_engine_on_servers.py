"""The engine on every metadata backend: the same pipeline runs to the same result with
its state in SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_backends import Backend

from dagyard import dsl
from dagyard.compiler import compile_to_dict
from dagyard.dsl import Dataset, Input, Output
from dagyard.service import runs
from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import RunState, TaskState


@dsl.component
def part(i: int, out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(str(i * i))


@dsl.component
def add_parts(parts: Input[list[Dataset]]) -> int:
    total = 0
    for p in parts:
        with open(p.path) as f:
            total += int(f.read())
    return total


@dsl.pipeline
def squares_sum(n: list[int] = [1, 2, 3]) -> int:  # noqa: B006
    with dsl.ParallelFor(n) as i:
        made = part(i=i)
    return add_parts(parts=dsl.Collected(made.outputs["out"])).output


@pytest.mark.parametrize("backend_name", ["sqlite_backend", "postgres_backend", "mysql_backend"])
def test_a_run_and_its_cache_on_each_backend(
    backend_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend: Backend = request.getfixturevalue(backend_name)
    settings = Settings(
        container_runtime="off",
        home=tmp_path,
        database_url=backend.new_database_url(),
        max_parallel=2,
    )
    platform = Platform.open(settings)
    try:
        spec = compile_to_dict(squares_sum)
        first = runs.drive_run(platform, runs.submit_run(platform, spec, parameters={}).run_id)
        assert first.state == RunState.SUCCEEDED, first.error
        assert first.outputs == {"Output": 14}
        again = runs.drive_run(platform, runs.submit_run(platform, spec, parameters={}).run_id)
        cached = [t for t in platform.store.list_tasks(again.run_id) if t.name == "add-parts"]
        assert cached[0].state == TaskState.CACHED
        assert again.outputs == {"Output": 14}
    finally:
        platform.close()
