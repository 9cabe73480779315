"""The body of the Ray executor's task, on the cluster host that runs it: the attempt
lives there as `lifecycle.py` says, on a `lifecycle.Host` kept by the Ray worker process.

Belongs here: the host each Ray worker process keeps for its attempts (Ray reuses a
worker process for task after task, so one warm zygote and one watchdog serve them all:
a fork costs milliseconds where a fresh interpreter costs tens of them) and how a cancel
reaches the attempt. Not here: submitting or scheduling (`ray_driver.py`), or anything an
attempt does on its host (`lifecycle.py`). `ray` itself is imported only to read the id
of the host, inside the Ray task.

Nothing an attempt starts outlives its Ray task. A cancel, or Ray stopping the worker
process gracefully (SIGTERM, e.g. when the orchestrator that submitted the task has died
and Ray ends its job), raises in the thread that waits for the attempt, and the
attempt's group is killed, with the grace period, before the exception goes on to Ray.
If the Ray worker process is killed outright (SIGKILL, the OOM killer, Ray's own
force-kill after its grace), nothing here runs: the worker's watchdog sees its end of
its pipe close and kills the attempt's whole group, and a forked attempt's zygote does
the same when its input from the worker closes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from dagyard.executors.base import Launch, Outcome
from dagyard.executors.lifecycle import Attempt, Host, default_environments

# How often a waiting attempt runs Python code: a cancel (KeyboardInterrupt raised by Ray
# in this thread) is only seen between two waits.
_POLL = 0.05


def run_attempt(
    launch: Launch,
    environments_root: str | None,
    kill_grace: float,
    container_runtime: str = "off",
    task_isolation: str = "host",
) -> Outcome:
    """Run one attempt to its end on this host; the body of the executor's Ray task.

    A cancel arrives as KeyboardInterrupt: the attempt's process group gets SIGTERM, then
    SIGKILL after `kill_grace` seconds, and the interrupt goes on to Ray.
    """
    host = _host(environments_root, kill_grace, container_runtime, task_isolation)
    return Attempt(host, launch).run()


@functools.cache
def _host(
    environments_root: str | None, kill_grace: float, container_runtime: str, task_isolation: str
) -> Host:
    """This Ray worker process's host, one per setting (in practice, one)."""
    return Host(
        name=_ray_node_id(),
        environments=default_environments(Path(environments_root) if environments_root else None),
        kill_grace=kill_grace,
        container_runtime=container_runtime,
        task_isolation=task_isolation,
        poll=_POLL,
    )


def _ray_node_id() -> str | None:
    try:
        import ray

        return str(ray.get_runtime_context().get_node_id())
    except Exception:  # not inside a Ray worker (a direct call in a test)
        return None
