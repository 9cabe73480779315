"""How `dagyard` is started and how it ends: `python -m dagyard`, the installed script,
`--version`, shell completion, and the exit codes of docs/cli.md. Real child processes,
and a real bash for completion."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dagyard import __version__
from dagyard.cli import exit_codes

SCRIPT = str(Path(sys.executable).with_name("dagyard"))
MODULE = [sys.executable, "-m", "dagyard"]


def run(command: list[str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("command", [MODULE, [SCRIPT]], ids=["python -m dagyard", "script"])
def test_version_option_and_command_print_the_version(command: list[str]) -> None:
    option = run(command, "--version")
    assert option.returncode == 0, option.stderr
    assert option.stdout == f"dagyard {__version__}\n"
    assert run(command, "version").stdout.strip() == __version__


def test_python_m_dagyard_shows_the_commands_under_the_dagyard_name() -> None:
    helped = run(MODULE, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage: dagyard [OPTIONS] COMMAND" in helped.stdout
    for command in ("run", "runs", "up", "compile"):
        assert f" {command} " in helped.stdout


def test_an_unknown_option_is_bad_input() -> None:
    done = run(MODULE, "run", "--no-such-option")
    assert done.returncode == exit_codes.BAD_INPUT == 2
    assert "No such option" in done.stderr


def in_bash(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`command` run by bash (`; true` keeps bash from exec'ing it: the shell stays its
    parent, where completion looks for the user's shell)."""
    return subprocess.run(
        ["bash", "-c", f"{command}; true"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{Path(SCRIPT).parent}:{os.environ['PATH']}", **env},
        check=False,
        timeout=60,
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_installed_bash_completion_completes_commands_and_subcommands(tmp_path: Path) -> None:
    installed = in_bash("dagyard --install-completion", HOME=str(tmp_path))
    assert "bash completion installed" in installed.stdout, installed.stderr
    script = tmp_path / ".bash_completions" / "dagyard.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()

    def complete(*words: str) -> list[str]:
        done = in_bash(
            f"source '{script}'; COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}; "
            '_dagyard_completion dagyard; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        assert done.stderr == ""
        return done.stdout.split()

    assert complete("dagyard", "ru") == ["run", "runs"]
    assert complete("dagyard", "runs", "lo") == ["logs"]
    assert "--follow" in complete("dagyard", "run", "--fo")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_show_completion_prints_the_script_for_the_users_shell() -> None:
    shown = in_bash("dagyard --show-completion")
    assert "_DAGYARD_COMPLETE=complete_bash" in shown.stdout, shown.stderr
    assert "complete -o default -F _dagyard_completion dagyard" in shown.stdout


BROKEN_IMPORT = """
from dagyard import dsl
import helper

@dsl.pipeline
def p() -> None:
    pass
"""
HELPER = """
def explode():
    raise ValueError("the settings file is missing")

explode()
"""


@pytest.mark.parametrize("command", ["run", "compile"])
def test_an_error_in_the_users_file_exits_3_with_only_the_users_frames(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "pipe.py").write_text(BROKEN_IMPORT)
    (tmp_path / "helper.py").write_text(HELPER)
    args = [command, str(tmp_path / "pipe.py")]
    if command == "compile":
        args += ["-o", str(tmp_path / "out.yaml")]
    done = run(MODULE, *args, DAGYARD_HOME=str(tmp_path / "home"))
    assert done.returncode == exit_codes.USER_CODE_ERROR == 3, done.stderr
    assert done.stderr.startswith("Traceback (most recent call last):\n")
    frames = [line.strip() for line in done.stderr.splitlines() if line.startswith("  File ")]
    assert frames == [
        f'File "{tmp_path / "pipe.py"}", line 3, in <module>',
        f'File "{tmp_path / "helper.py"}", line 5, in <module>',
        f'File "{tmp_path / "helper.py"}", line 3, in explode',
    ]
    assert "ValueError: the settings file is missing" in done.stderr
    assert f"error: '{tmp_path / 'pipe.py'}' raised ValueError while it was loaded" in (done.stderr)
    assert not (tmp_path / "out.yaml").exists()


def test_a_syntax_error_in_the_users_file_exits_3_pointing_at_the_line(tmp_path: Path) -> None:
    source = tmp_path / "pipe.py"
    source.write_text("from dagyard import dsl\n\ndef broken(:\n    pass\n")
    done = run(MODULE, "run", str(source), DAGYARD_HOME=str(tmp_path / "home"))
    assert done.returncode == exit_codes.USER_CODE_ERROR, done.stderr
    assert f'File "{source}", line 3' in done.stderr
    assert "SyntaxError" in done.stderr
    assert "importlib" not in done.stderr and "dagyard/" not in done.stderr.replace(
        str(tmp_path), ""
    )


def test_a_database_that_does_not_answer_exits_4(tmp_path: Path) -> None:
    done = run(
        MODULE,
        "runs",
        "list",
        "--local",
        DAGYARD_HOME=str(tmp_path),
        DAGYARD_DATABASE_URL="postgresql://user:secret@127.0.0.1:9/dagyard",
    )
    assert done.returncode == exit_codes.UNAVAILABLE == 4, done.stderr
    assert "Cannot use the metadata database postgresql+psycopg://user:***@127.0.0.1:9" in (
        done.stderr
    )
    assert "secret" not in done.stderr


def test_a_database_that_fails_rather_than_being_away_exits_70(tmp_path: Path) -> None:
    # A real SQLite home whose runs table was dropped behind Dagyard's back: the database
    # answers, with an error that is nobody's input (StoreFailure), so it is ours.
    home = tmp_path / "home"
    assert run(MODULE, "runs", "list", "--local", DAGYARD_HOME=str(home)).returncode == 0
    with sqlite3.connect(home / "dagyard.db") as db:
        db.execute("DROP TABLE runs")
    done = run(MODULE, "runs", "list", "--local", DAGYARD_HOME=str(home))
    assert done.returncode == exit_codes.INTERNAL_ERROR == 70, done.stderr
    assert "no such table: runs" in done.stderr


def test_an_unforeseen_error_is_a_bug_with_its_own_exit_code() -> None:
    # A command that fails in a way no command handles, registered in a real child.
    program = (
        "import sys\n"
        "from dagyard.cli.main import app\n"
        "@app.command('explode')\n"
        "def explode() -> None:\n"
        "    raise RuntimeError('nobody foresaw this')\n"
        "sys.argv = ['dagyard', 'explode']\n"
        "app()\n"
    )
    done = run([sys.executable, "-c", program])
    assert done.returncode == exit_codes.INTERNAL_ERROR == 70
    assert "RuntimeError: nobody foresaw this" in done.stderr
    assert "this is a bug in Dagyard" in done.stderr
