"""What keeps an attempt within its bounds on the host that runs it: nothing it starts
outlives it, and it uses no more memory and CPU than its task's limits allow
(`set_memory_limit`, `set_cpu_limit`; requests are not limits and are not enforced).

Belongs here: choosing, per attempt, the mechanism that does each job, and saying when a
task failed for want of memory. Not here: the mechanisms themselves (`cgroups.py`, the
zygote's subreapers in `zygote.py`, the watchdog in `watchdog.py`), or starting and
waiting for the attempt (`lifecycle.py`).

Containment, every descendant killed at the end of an attempt, daemons (`setsid`, double
fork) included:
- an attempt started by the zygote (a lightweight component forked, or any other command
  exec'd from a fork of it) is a child subreaper (Linux's PR_SET_CHILD_SUBREAPER, kept
  across exec): what its children leave behind is adopted by it while it runs, and by
  the zygote (a subreaper too) once it has ended; the zygote kills such leftovers as soon
  as it has them, and everything it has when its input closes (the orchestrator died).
  That costs nothing per attempt, so no cgroup is made for containment here.
- an attempt spawned without the zygote (the fork server off, or unable to start) gets
  a cgroup of its own where one can be made, joined before its command runs, and killed
  at its end; the watchdog kills and removes it if this process dies first. Where no
  cgroup can be made, such an attempt's daemons can outlive it.

Limits, per attempt:
- in a cgroup where this process may make one with the controller (`cgroups.py`):
  memory (swap included) and CPU time (a quota per 100 ms period: 0.5 CPU is 50 ms);
  the kernel kills the attempt when it goes over its memory (its `oom_kill` count rises),
  and it fails with `the task used more than its memory limit of 64 MB (set_memory_limit)
  and was killed`.
- else memory by RLIMIT_DATA, per process: a failing allocation (MemoryError, ENOMEM)
  rather than a kill. RLIMIT_DATA rather than RLIMIT_AS: it counts what a program writes
  to (heap, private anonymous memory), not the address space it maps or reserves, which
  runtimes such as Go's, the JVM's or CUDA's reserve far beyond what they use, and which
  RLIMIT_AS would fail at start. Per process: children each get the same limit, so the
  attempt as a whole may use more. A forked task gets the limit on top of what it shares
  with the zygote (as a cgroup charges it only for what it adds). A failed attempt
  whose log ends with an allocation failure fails with `the task ran out of memory under
  its memory limit of 64 MB (set_memory_limit, held per process by RLIMIT_DATA for want
  of a memory cgroup)`.
- else CPU by affinity: the attempt runs on ceil(limit) of this host's CPUs (0.5 -> 1),
  taken in turn; approximate (a whole CPU, and shared with other attempts).

The cgroup costs (moving a process into one waits for the kernel, `cgroups.py`) are paid
only by attempts with limits, and by spawned ones.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dagyard.executors.cgroups import AttemptCgroup, CgroupTree
from dagyard.executors.limits import Limits, memory_in_words
from dagyard.executors.watchdog import Watchdog

# What an allocation failure leaves at the end of a log (Python, C, C++, Java, Go, Rust).
_OUT_OF_MEMORY = (
    "memoryerror",
    "cannot allocate memory",
    "bad_alloc",
    "out of memory",
    "outofmemoryerror",
    "memory allocation of",
)
_LOG_TAIL_BYTES = 8192


class Isolation:
    """The isolation of the attempts run by one `lifecycle.Host`.

    `cgroups`: whether to make cgroups where this process may (False: never, the
    fallbacks everywhere). `watchdog` gives the host's watchdog, which removes the
    cgroups left when this process dies.
    """

    def __init__(self, *, cgroups: bool, watchdog: Callable[[], Watchdog]) -> None:
        self.cgroups = CgroupTree() if cgroups else None
        self._watchdog = watchdog
        self._turns = itertools.count()

    def confine(self, limits: Limits, *, contained: bool) -> Confinement:
        """How one attempt is held: `contained` when a subreaper already kills what it
        leaves behind (started by the zygote), so a cgroup is made only for its limits."""
        if not limits and contained:
            return Confinement(limits)
        cgroup = None
        if self.cgroups is not None:
            cgroup = self.cgroups.make(memory=limits.memory, cpu=limits.cpu, kill=not contained)
        confinement = Confinement(limits, cgroup=cgroup or None)
        if limits.memory is not None and (cgroup is None or cgroup.memory_limited is None):
            confinement.memory_rlimit = limits.memory
        if limits.cpu is not None and (cgroup is None or cgroup.cpu_limited is None):
            confinement.cpus = self._cpus(limits)
        if cgroup:
            confinement.watch(self._watchdog())
        return confinement

    def _cpus(self, limits: Limits) -> list[int] | None:
        """The CPUs an attempt limited to `limits.cpu` runs on, in turn round the host's."""
        mine = sorted(os.sched_getaffinity(0))
        count = limits.whole_cpus or len(mine)
        if count >= len(mine):
            return None
        start = next(self._turns) * count
        return [mine[(start + i) % len(mine)] for i in range(count)]


@dataclasses.dataclass(eq=False)
class Confinement:
    """One attempt's bounds: its cgroup (if any), and what stands in for one."""

    limits: Limits
    cgroup: AttemptCgroup | None = None
    # RLIMIT_DATA in bytes, where no cgroup limits memory.
    memory_rlimit: int | None = None
    # The CPUs it may run on, where no cgroup limits CPU time.
    cpus: list[int] | None = None
    oom_killed: bool = False
    _watchdog: Watchdog | None = None

    def watch(self, watchdog: Watchdog) -> None:
        """Have `watchdog` kill and remove the cgroup if this process dies."""
        assert self.cgroup is not None
        self._watchdog = watchdog
        for folder in self.cgroup.folders:
            watchdog.watch_cgroup(str(folder))

    def zygote_fields(self) -> dict[str, Any]:
        """What the zygote's child applies to itself before it runs anything
        (`zygote.py`'s request fields `cgroups`, `rlimit_data`, `cpus`)."""
        fields: dict[str, Any] = {}
        if self.cgroup:
            fields["cgroups"] = self.cgroup.procs_files
        if self.memory_rlimit is not None:
            fields["rlimit_data"] = self.memory_rlimit
        if self.cpus is not None:
            fields["cpus"] = self.cpus
        return fields

    def admit(self, pid: int) -> None:
        """Apply the bounds to process `pid`, which has not run its command yet (held at
        the watchdog's gate); OSError if the kernel refuses."""
        if self.cgroup:
            self.cgroup.join(pid)
        if self.memory_rlimit is not None:
            limit = self.memory_rlimit
            resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
        if self.cpus is not None:
            os.sched_setaffinity(pid, self.cpus)

    def close(self) -> None:
        """At the attempt's end: note whether the kernel killed for memory, kill what is
        left in the cgroup, remove it."""
        cgroup = self.cgroup
        if not cgroup:
            return
        self.oom_killed = cgroup.oom_kills() > 0
        folders = [str(folder) for folder in cgroup.folders]
        cgroup.kill()
        cgroup.remove()
        if self._watchdog is not None:
            for folder in folders:
                self._watchdog.forget_cgroup(folder)

    def memory_failure(self, detail: str, log_path: Path) -> str | None:
        """Why a failed attempt failed, if that was its memory limit (after `close`);
        `detail` says how it ended."""
        memory = self.limits.memory
        if memory is None:
            return None
        words = memory_in_words(memory)
        if self.oom_killed:
            return (
                f"the task used more than its memory limit of {words} (set_memory_limit) "
                f"and was killed ({detail})"
            )
        if self.memory_rlimit is not None and _ran_out_of_memory(log_path):
            return (
                f"the task ran out of memory under its memory limit of {words} "
                "(set_memory_limit, held per process by RLIMIT_DATA for want of a memory "
                f"cgroup) ({detail})"
            )
        return None


def _ran_out_of_memory(log_path: Path) -> bool:
    """Whether the end of the log tells of a failed allocation."""
    try:
        with open(log_path, "rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _LOG_TAIL_BYTES))
            tail = log.read().decode(errors="replace").lower()
    except OSError:
        return False
    return any(sign in tail for sign in _OUT_OF_MEMORY)
