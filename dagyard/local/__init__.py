"""Run components and pipelines now, from Python: kfp.local's interface on Dagyard's engine.

    from dagyard import dsl, local

    local.init(runner=local.SubprocessRunner())
    task = add(a=1, b=2)          # runs at once
    task.output                   # 3

Calling a component or a pipeline outside any pipeline, after `init`, runs it as a run in
the home (`DAGYARD_HOME`), through the same engine and stores as `dagyard run`, so every
control-flow feature works and the run shows in `dagyard up` afterwards. The call
returns a `LocalTask`; a failed task raises `dagyard.errors.TaskFailed`, a RuntimeError
as kfp.local's error is. docs/local.md says what differs from kfp.local.

`config.py` holds the session (`init`, the runners, `shutdown`), `execution.py` turns a
call into a run, `results.py` reads the finished run back.
"""

from dagyard.errors import TaskFailed
from dagyard.local.config import DockerRunner, SubprocessRunner, init, shutdown
from dagyard.local.results import LocalTask

__all__ = ["DockerRunner", "LocalTask", "SubprocessRunner", "TaskFailed", "init", "shutdown"]
