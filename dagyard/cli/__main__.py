"""`python -m dagyard.cli` runs the `dagyard` command (as `python -m dagyard` does)."""

from dagyard.cli.main import app

app(prog_name="dagyard")
