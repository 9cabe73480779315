"""`dagyard secrets` and `dagyard configmaps`, run as a user runs them (a real child
process on a real home): a secret's values are stored but never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagyard.service.platform import Platform
from dagyard.settings import Settings
from dagyard.store.records import ValuesKind

DAGYARD = [sys.executable, "-m", "dagyard.cli"]


def dagyard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGYARD_HOME": str(home)}
    return subprocess.run([*DAGYARD, *args], capture_output=True, text=True, env=env, check=False)


def test_a_secret_is_set_listed_by_its_keys_and_deleted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = dagyard("secrets", "set", "db", "password=hunter2=x", "user=admin", home=home)
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout and "password, user" in done.stdout
    dagyard("secrets", "set", "db", "password=other", "--namespace", "team", home=home)
    listed = dagyard("secrets", "list", home=home)
    assert listed.stdout.strip() == "db: password, user"
    platform = Platform.open(Settings(container_runtime="off", home=home))
    try:
        stored = platform.store.get_values(ValuesKind.SECRET, "db")
        assert stored.data == {"password": "hunter2=x", "user": "admin"}
        assert platform.store.get_values(ValuesKind.SECRET, "db", "team").data == {
            "password": "other"
        }
    finally:
        platform.close()
    assert dagyard("secrets", "delete", "db", home=home).returncode == 0
    again = dagyard("secrets", "delete", "db", home=home)
    assert again.returncode != 0 and "No secret named 'db'" in again.stderr


def test_a_config_map_is_listed_with_its_values(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert dagyard("configmaps", "set", "settings", "mode=fast", home=home).returncode == 0
    assert dagyard("configmaps", "list", home=home).stdout.strip() == "settings: mode=fast"


def test_bad_names_keys_and_pairs_are_refused_without_showing_values(tmp_path: Path) -> None:
    home = tmp_path / "home"
    no_equals = dagyard("secrets", "set", "db", "hunter2", home=home)
    assert no_equals.returncode != 0
    assert "Value argument 1 has no '='" in no_equals.stderr
    assert "hunter2" not in no_equals.stderr
    bad_name = dagyard("secrets", "set", "Db_1", "k=v", home=home)
    assert "'Db_1' cannot name a secret" in bad_name.stderr
    bad_key = dagyard("secrets", "set", "db", "../x=v", home=home)
    assert "'../x' cannot be a key of a secret" in bad_key.stderr
