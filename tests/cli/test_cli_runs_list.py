"""`dagyard runs list`, newest first and within an 80-column terminal: with --local over
the home's database, and against a real server on loopback. Real child processes with
COLUMNS=80; the short run ids printed for the home are accepted back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from api_pipelines import compiled, sum_and_write
from api_server import Server, open_platform

from dagyard.cli import exit_codes
from dagyard.client import Client
from dagyard.service.platform import Platform
from dagyard.store.records import Run

DAGYARD = [sys.executable, "-m", "dagyard"]
PIPELINES = Path(__file__).resolve().parents[1] / "pipelines" / "run_cli.py"


def dagyard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGYARD_HOME": str(home), "COLUMNS": "80"}
    env.pop("DAGYARD_ENDPOINT", None)
    return subprocess.run(
        [*DAGYARD, *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def table_rows(table: str) -> list[list[str]]:
    """The cells of each body row of a rich table (the lines after the header rule)."""
    lines = table.splitlines()
    body = lines[next(i for i, line in enumerate(lines) if "━" in line) + 1 :]
    return [[cell.strip() for cell in line.split("│")] for line in body]


def test_local_runs_list_is_newest_first_fits_80_columns_and_its_ids_work(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    made = []
    for n in (1, 2, 3):
        done = dagyard("run", str(PIPELINES), "--function", "squares", "-p", f"n={n}", home=home)
        assert done.returncode == 0, done.stderr
        made.append(done.stderr.splitlines()[0].removeprefix("run "))

    listed = dagyard("runs", "list", "--local", home=home)
    assert listed.returncode == 0, listed.stderr
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80, listed.stdout
    rows = table_rows(listed.stdout)
    assert [row[0] for row in rows] == [run_id[:8] for run_id in reversed(made)]
    assert {row[2] for row in rows} == {"SUCCEEDED"}

    as_json = dagyard("runs", "list", "--local", "-o", "json", home=home)
    assert [r["run_id"] for r in json.loads(as_json.stdout)["runs"]] == made[::-1]
    oldest_first = dagyard(
        "runs", "list", "--home", str(home), "--sort-by", "created_at", "-o", "json", home=tmp_path
    )
    assert [r["run_id"] for r in json.loads(oldest_first.stdout)["runs"]] == made

    why = dagyard("runs", "why", rows[0][0], "total", home=home)
    assert why.returncode == 0, why.stderr
    assert why.stdout.startswith("total: ")


def test_a_run_id_start_must_be_unique_and_at_least_4_characters(tmp_path: Path) -> None:
    platform = open_platform(tmp_path / "home")
    try:
        for run_id in ("abcd1" + "0" * 27, "abcd2" + "0" * 27):
            platform.store.create_run(
                Run(run_id=run_id, display_name=run_id[:5], pipeline_spec={}, created_at=_now())
            )
    finally:
        platform.close()
    home = tmp_path / "home"

    ambiguous = dagyard("runs", "why", "abcd", "total", home=home)
    assert ambiguous.returncode == exit_codes.BAD_INPUT
    assert "Run id 'abcd' is ambiguous: abcd1" in ambiguous.stderr
    # A unique start finds the run (which has no task 'total').
    unique = dagyard("runs", "why", "ABCD2", "total", home=home)
    assert unique.returncode == exit_codes.BAD_INPUT
    assert f"Run {'abcd2' + '0' * 27} has no task 'total'" in unique.stderr
    too_short = dagyard("runs", "why", "abc", "total", home=home)
    assert too_short.returncode == exit_codes.BAD_INPUT
    assert "too short; give at least 4 characters" in too_short.stderr
    unknown = dagyard("runs", "resume", "abce", home=home)
    assert unknown.returncode == exit_codes.BAD_INPUT
    assert "No run has an id that starts with 'abce'" in unknown.stderr

    listed = dagyard("runs", "list", "--local", home=home)
    # Printed ids grow past 8 characters where two runs share their start.
    assert [row[0] for row in table_rows(listed.stdout)] == ["abcd2000", "abcd1000"]


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = open_platform(tmp_path / "server-home")
    yield opened
    opened.close()


def test_server_runs_list_is_newest_first_and_fits_80_columns_with_whole_ids(
    platform: Platform, tmp_path: Path
) -> None:
    server = Server(platform).start()
    try:
        package = compiled(sum_and_write, tmp_path)
        with Client(host=server.url) as client:
            made = [
                client.create_run_from_pipeline_package(str(package), {"a": 1}, name).run_id
                for name in ("first", "second", "a-rather-long-run-name-that-must-fold")
            ]
        listed = dagyard("runs", "list", "--endpoint", server.url, home=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert max(len(line) for line in listed.stdout.splitlines()) <= 80, listed.stdout
        ids = [row[0] for row in table_rows(listed.stdout) if row[0]]
        assert ids == made[::-1]  # whole ids, never folded, newest first
        given = dagyard(
            "runs",
            "list",
            "--endpoint",
            server.url,
            "--sort-by",
            "name",
            "-o",
            "json",
            home=tmp_path,
        )
        names = [r["display_name"] for r in json.loads(given.stdout)["runs"]]
        assert names == sorted(names)
    finally:
        server.stop()
