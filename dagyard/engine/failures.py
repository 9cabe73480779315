"""The engine's own signal that one task fails: `TaskFailure`.

Raised while a task is decided, prepared or collected (an input a condition cannot
read, a placeholder with no value, an output the task did not write) and caught by the
run driver, which records the message on that task and goes on with the run. It never
reaches a caller: what the caller got wrong is a `dagyard.errors.RunError`, raised
before anything runs. Nothing else belongs here.
"""

from __future__ import annotations


class TaskFailure(Exception):
    """This task fails, with this message (shown on the task). The run goes on."""
