"""Pipelines whose one task leaves a daemon behind, for tests/faults/test_task_containment.py
(in-process, and through `dagyard run --function ...`).

The daemon is made as the textbook makes one: fork, setsid, fork again, the middle process
exits; it ignores SIGTERM, writes its pid to `pid_file` (atomically) and sleeps. The task
waits for that file, then ends (`hold` false) or sleeps until it is stopped (`hold` true).

- forked: a lightweight component, which the local executor forks from its warm zygote.
- execd: a container component running `sh`, which the local executor execs.
- limited: `forked` with a memory limit, which puts it in a cgroup where one can be made.
"""

from dagyard import dsl


@dsl.component
def daemonize(pid_file: str, hold: bool) -> str:
    import os
    import signal
    import time

    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            with open(pid_file + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.replace(pid_file + ".tmp", pid_file)
            time.sleep(600)
        os._exit(0)
    os.wait()
    while not os.path.exists(pid_file):
        time.sleep(0.01)
    if hold:
        time.sleep(600)
    return "left a daemon"


# The subshell forks `setsid`, which (not leading a group) makes a session and execs the
# daemon's shell; the subshell then exits, so the daemon's parent is gone.
DAEMON_SCRIPT = """
( setsid sh -c 'trap "" TERM; echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 600' "$0" & )
while [ ! -e "$0" ]; do sleep 0.01; done
case "$1" in [Tt]rue) exec sleep 600 ;; esac
"""


@dsl.container_component
def daemonize_execd(pid_file: str, hold: bool):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(
        image="alpine:3.20", command=["sh", "-c", DAEMON_SCRIPT], args=[pid_file, hold]
    )


@dsl.pipeline
def forked(pid_file: str, hold: bool = False) -> None:
    daemonize(pid_file=pid_file, hold=hold).set_caching_options(False)


@dsl.pipeline
def execd(pid_file: str, hold: bool = False) -> None:
    daemonize_execd(pid_file=pid_file, hold=hold).set_caching_options(False)


@dsl.pipeline
def limited(pid_file: str, hold: bool = False) -> None:
    task = daemonize(pid_file=pid_file, hold=hold).set_caching_options(False)
    task.set_memory_limit("256Mi").set_cpu_limit("1")
