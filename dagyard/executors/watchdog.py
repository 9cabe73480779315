"""A watchdog process that kills attempts' process groups when the process that started
them dies, however it dies (SIGKILL included).

Belongs here: starting that process, telling it which groups to watch, stopping it. Not
here: starting or signalling attempts (`local.py`, `ray_attempt.py`).

Why: an attempt runs in a session of its own, so that cancelling it reaches everything it
started; but then nothing kills that group when its parent (an orchestrator with the local
executor, a Ray worker process) is killed outright, and the attempt would run on as an
orphan, writing outputs that a later attempt also writes. A death signal set in the child
(Linux's PR_SET_PDEATHSIG) would reach the group's first process only, not the processes
it started, and fires when the parent's *thread* ends, not the process.

How: the watchdog is `python -c <_PROGRAM>` in a session of its own, reading lines
`+PGID` / `-PGID` from a pipe whose only writer is this process. When this process dies,
the kernel closes the pipe; at that end of input the watchdog sends SIGKILL to every group
still watched, and exits. Standard library only, no polling, on any POSIX system.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading

# The watchdog's program. It ignores SIGINT and SIGTERM: a Ctrl-C or a `kill` aimed at
# the orchestrator's group must not end it before it has done its job.
_PROGRAM = """
import os, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups, pending = set(), b""
while True:
    data = os.read(0, 4096)
    if not data:
        break
    pending += data
    *lines, pending = pending.split(b"\\n")
    for line in lines:
        if line.startswith(b"+"):
            groups.add(int(line[1:]))
        elif line.startswith(b"-"):
            groups.discard(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    """Kills the process groups it watches when this process dies, or when closed.

    Thread-safe. If the watchdog itself is gone (someone killed it), watching goes on
    silently without it: the attempts still run, only without that protection.
    """

    def __init__(self, python: str = sys.executable) -> None:
        self._lock = threading.Lock()
        # -I -S: a fast start that reads nothing of the user's site or environment.
        self._process = subprocess.Popen(
            [python, "-I", "-S", "-c", _PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def watch(self, pgid: int) -> None:
        """Kill group `pgid` if this process dies before `forget(pgid)`."""
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        """Stop watching group `pgid` (its attempt has ended and been cleaned up)."""
        self._send(f"-{pgid}\n")

    def close(self) -> None:
        """Kill the groups still watched, and stop the watchdog."""
        with self._lock:
            stdin = self._process.stdin
            if stdin is not None and not stdin.closed:
                with contextlib.suppress(OSError):
                    stdin.close()
        self._process.wait()

    def _send(self, line: str) -> None:
        with self._lock:
            stdin = self._process.stdin
            if stdin is None or stdin.closed:
                return
            with contextlib.suppress(OSError):  # BrokenPipeError: the watchdog is gone
                stdin.write(line.encode())
                stdin.flush()
