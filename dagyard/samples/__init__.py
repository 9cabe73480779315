"""Small example pipelines shipped with Dagyard (used by `dagyard demo`)."""
