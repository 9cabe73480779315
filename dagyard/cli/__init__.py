"""The `dagyard` command: thin shells that parse, call one function, and format."""
