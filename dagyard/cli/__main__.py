"""`python -m dagyard.cli` runs the `dagyard` command."""

from dagyard.cli.main import app

app()
