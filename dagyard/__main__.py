"""`python -m dagyard` runs the `dagyard` command."""

from dagyard.cli.main import app

app(prog_name="dagyard")
