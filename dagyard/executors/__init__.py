"""Executors run one attempt of a task somewhere: `local` (child processes) now, Ray
later. The engine talks to them only through `base.Executor`."""
