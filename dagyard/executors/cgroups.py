"""Control groups for attempts: finding where this process may make them, making one per
attempt with its limits, killing everything in it, reading whether it ran out of memory,
and removing it.

Belongs here: the Linux cgroup file system and nothing else. Not here: which attempts
get a cgroup, or what stands in for one where none can be made (`isolation.py`).

Where. `/proc/self/cgroup` names this process's cgroup in each hierarchy and
`/proc/self/mountinfo` where each hierarchy is mounted; an attempt's cgroup is a child of
ours, `dagyard-<our pid>-<n>`, in each hierarchy it needs. Made by this process, which
must be allowed to (root, or a delegated subtree); where it is not, that hierarchy is
dropped for good and the caller falls back.

Which. cgroup v2 is one hierarchy (`cgroup2`, mounted at /sys/fs/cgroup, or at
/sys/fs/cgroup/unified beside v1 ones): `memory.max` (with `memory.swap.max` 0, and
`memory.oom.group` so that the kernel kills the whole attempt), `cpu.max`, the
`oom_kill` count of `memory.events`, and `cgroup.kill` (Linux 5.14). Its controllers are
used only where our cgroup already passes them to its children (`cgroup.subtree_control`):
v2 forbids turning them on in a cgroup that holds processes, as ours does. cgroup v1 has
a hierarchy per controller: `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`,
memory plus swap), the `oom_kill` count of `memory.oom_control`, `cpu.cfs_quota_us` over
`cpu.cfs_period_us`. A hybrid machine mixes them: limits from v1, `cgroup.kill` from v2.

Killing. `cgroup.kill` where the cgroup has one kills every process in it at once;
elsewhere every process listed in `cgroup.procs` gets SIGKILL, again and again until
none is listed (a process forking meanwhile adds children the next round kills). Exited
processes leave the list before they are reaped, so a cgroup can be removed while its
zombies wait for their parent.

Cost. Moving a process into a cgroup waits for the kernel's RCU grace period: 1-2.5 ms
per hierarchy on the machines measured, one move at a time machine-wide. That is why
cgroups are made only for the attempts that need one (`isolation.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path

# How long killing waits for the last process of a cgroup to go, and removing for the
# kernel to let go of the cgroup, before giving up (a process stuck in the kernel).
_KILL_DEADLINE = 10.0
_CPU_PERIOD_US = 100_000
_MIN_CPU_QUOTA_US = 1_000  # the kernel's floor


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """One cgroup hierarchy: its version, the controllers it offers our cgroup's
    children, and our cgroup's folder in it."""

    version: int  # 1 or 2
    controllers: frozenset[str]
    path: Path


def find_hierarchies(proc_cgroup: str, mountinfo: str) -> list[Hierarchy]:
    """The hierarchies this process is in that are mounted where it can see them, from
    the text of /proc/self/cgroup and /proc/self/mountinfo. A v2 hierarchy's controllers
    are not known from these (see `CgroupTree`): left empty here."""
    v2: tuple[str, str] | None = None  # (root, mount point)
    v1: list[tuple[set[str], str, str]] = []  # (mount options, root, mount point)
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields[5:]:
            continue
        dash = fields.index("-", 5)
        if len(fields) < dash + 4:
            continue
        kind, options = fields[dash + 1], set(fields[dash + 3].split(","))
        root, point = _unescape(fields[3]), _unescape(fields[4])
        if kind == "cgroup2" and v2 is None:
            v2 = (root, point)
        elif kind == "cgroup":
            v1.append((options, root, point))
    found = []
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        names, _, path = rest.partition(":")
        controllers = set(names.split(",")) - {""}
        if not path.startswith("/"):
            continue
        if number == "0" and not controllers:
            mount = v2
        else:  # a v1 hierarchy is mounted with its controllers among the options
            mount = next(((r, p) for o, r, p in v1 if controllers and controllers <= o), None)
        if mount is None:
            continue
        root, point = mount
        if root != "/" and not (path == root or path.startswith(root.rstrip("/") + "/")):
            continue  # our cgroup is outside what is mounted
        inside = path[len(root) :] if root != "/" else path
        folder = Path(point, inside.lstrip("/"))
        version = 2 if mount is v2 else 1
        found.append(Hierarchy(version, frozenset(controllers), folder))
    return found


def _unescape(text: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    for code in ("040", "011", "012", "134"):
        text = text.replace(f"\\{code}", chr(int(code, 8)))
    return text


class CgroupTree:
    """Where this process makes its attempts' cgroups, found on first use; thread-safe.

    `hierarchies` replaces what /proc says (tests); each is dropped the first time a
    cgroup cannot be made in it.
    """

    def __init__(self, hierarchies: Iterable[Hierarchy] | None = None) -> None:
        self._given = None if hierarchies is None else list(hierarchies)
        self._lock = threading.Lock()
        self._found: list[Hierarchy] | None = None
        self._numbers = itertools.count(1)
        self._prefix = f"dagyard-{os.getpid()}-"

    def available(self) -> list[Hierarchy]:
        """The hierarchies still usable."""
        with self._lock:
            if self._found is None:
                self._found = _usable(self._given if self._given is not None else _ours())
                for hierarchy in self._found:
                    _sweep(hierarchy.path)
            return list(self._found)

    def make(self, *, memory: int | None, cpu: float | None, kill: bool) -> AttemptCgroup:
        """A cgroup for one attempt: with `memory` bytes and `cpu` CPUs at most where a
        controller for them can be had, and where `kill`, in one hierarchy at least even
        without limits. What it could not have, it reports as None (`memory_limited`,
        `cpu_limited`); with nothing at all it holds no folder."""
        wanted: dict[Path, tuple[Hierarchy, set[str]]] = {}
        hierarchies = self.available()
        for controller, asked in (("memory", memory), ("cpu", cpu)):
            if asked is None:
                continue
            # v1 first: on a hybrid machine its controllers are the real ones.
            for hierarchy in sorted(hierarchies, key=lambda h: h.version):
                if controller in hierarchy.controllers:
                    wanted.setdefault(hierarchy.path, (hierarchy, set()))[1].add(controller)
                    break
        if kill and not wanted and hierarchies:
            # cgroup.kill (v2) kills best; else any hierarchy can list what to kill.
            best = max(hierarchies, key=lambda h: (h.version, "pids" in h.controllers))
            wanted[best.path] = (best, set())
        name = f"{self._prefix}{next(self._numbers)}"
        made = AttemptCgroup(name)
        for hierarchy, controllers in wanted.values():
            folder = hierarchy.path / name
            try:
                folder.mkdir()
            except OSError:
                self._drop(hierarchy)
                continue
            made.folders.append(folder)
            try:
                if "memory" in controllers and memory is not None:
                    _limit_memory(folder, hierarchy.version, memory)
                    made.memory_limited = memory
                    made.memory_version = hierarchy.version
                if "cpu" in controllers and cpu is not None:
                    _limit_cpu(folder, hierarchy.version, cpu)
                    made.cpu_limited = cpu
            except OSError:
                made.remove()
                self._drop(hierarchy)
                return self.make(memory=memory, cpu=cpu, kill=kill)
        return made

    def _drop(self, hierarchy: Hierarchy) -> None:
        with self._lock:
            if self._found is not None and hierarchy in self._found:
                self._found.remove(hierarchy)


@dataclasses.dataclass(eq=False)
class AttemptCgroup:
    """One attempt's cgroup: a folder in each hierarchy it uses (the same name in each),
    every process of the attempt in all of them."""

    name: str
    folders: list[Path] = dataclasses.field(default_factory=list)
    # The limits it enforces (None: not by this cgroup), and the version of the
    # hierarchy enforcing memory (where its oom_kill count is read).
    memory_limited: int | None = None
    memory_version: int = 0
    cpu_limited: float | None = None

    def __bool__(self) -> bool:
        return bool(self.folders)

    @property
    def procs_files(self) -> list[str]:
        """The files to write a pid to (0: the writer's own) to move it in."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def join(self, pid: int) -> None:
        """Move process `pid` in (OSError if the kernel refuses)."""
        for procs in self.procs_files:
            _write(Path(procs), str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in it for want of memory."""
        if self.memory_limited is None:
            return 0
        folder = next(f for f in self.folders if (f / _OOM_FILE[self.memory_version]).exists())
        return _oom_kills(folder / _OOM_FILE[self.memory_version])

    def kill(self) -> None:
        """SIGKILL every process in it, and wait until none is left."""
        if self.folders:
            kill_cgroup(self.folders[0], _KILL_DEADLINE)

    def remove(self) -> None:
        """Remove its folders (each once empty); what cannot be removed is left."""
        for folder in self.folders:
            _remove(folder, _KILL_DEADLINE)
        self.folders.clear()


_OOM_FILE = {1: "memory.oom_control", 2: "memory.events"}
# The v1 controllers worth a cgroup: for limits, or to list an attempt's processes.
_V1_USED = frozenset({"memory", "cpu", "pids", "freezer"})


def kill_cgroup(folder: Path, deadline: float) -> None:
    """SIGKILL every process in cgroup `folder` until none is left, or `deadline`
    seconds have passed."""
    end = time.monotonic() + deadline
    killer = folder / "cgroup.kill"
    if killer.exists():
        with contextlib.suppress(OSError):
            _write(killer, "1")
    pause = 0.0005
    while True:
        pids = _pids(folder)
        if not pids or time.monotonic() > end:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause)  # for the kernel to take the killed processes out
        pause = min(pause * 2, 0.05)


def _remove(folder: Path, deadline: float) -> None:
    end = time.monotonic() + deadline
    pause = 0.0005
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY: a process killed a moment ago is still leaving
            if time.monotonic() > end:
                return
            kill_cgroup(folder, end - time.monotonic())
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _pids(folder: Path) -> list[int]:
    try:
        return [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _oom_kills(path: Path) -> int:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _limit_memory(folder: Path, version: int, size: int) -> None:
    if version == 2:
        _write(folder / "memory.max", str(size))
        for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
            if (folder / name).exists():
                _write(folder / name, value)
        return
    _write(folder / "memory.limit_in_bytes", str(size))
    if (folder / "memory.memsw.limit_in_bytes").exists():  # swap accounting is on
        _write(folder / "memory.memsw.limit_in_bytes", str(size))


def _limit_cpu(folder: Path, version: int, cpus: float) -> None:
    quota = max(_MIN_CPU_QUOTA_US, round(cpus * _CPU_PERIOD_US))
    if version == 2:
        _write(folder / "cpu.max", f"{quota} {_CPU_PERIOD_US}")
        return
    _write(folder / "cpu.cfs_period_us", str(_CPU_PERIOD_US))
    _write(folder / "cpu.cfs_quota_us", str(quota))


def _write(path: Path, text: str) -> None:
    # One write(2): a cgroup file takes each write as one command.
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def hybrid() -> bool:
    """Whether this process is in cgroups of both versions (a hybrid machine)."""
    return {h.version for h in _ours()} == {1, 2}


def _ours() -> list[Hierarchy]:
    try:
        with open("/proc/self/cgroup") as a, open("/proc/self/mountinfo") as b:
            return find_hierarchies(a.read(), b.read())
    except OSError:  # not Linux, or no procfs
        return []


def _usable(hierarchies: list[Hierarchy]) -> list[Hierarchy]:
    """Those we may make cgroups in, a v2 one with the controllers its children get."""
    usable = []
    for hierarchy in hierarchies:
        if hierarchy.version == 1 and not hierarchy.controllers & _V1_USED:
            continue  # named ones (systemd's) and controllers of no use here
        if not os.access(hierarchy.path, os.W_OK):
            continue
        if hierarchy.version == 2:
            try:
                passed = (hierarchy.path / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            # Only the controllers a limit needs; the others do not matter here.
            controllers = frozenset(passed) & {"memory", "cpu", "pids"}
            hierarchy = dataclasses.replace(hierarchy, controllers=controllers)
        usable.append(hierarchy)
    return usable


def _sweep(folder: Path) -> None:
    """Remove the empty cgroups that dead Dagyard processes left in `folder` (killed
    with their watchdog); a cgroup still holding a process cannot be removed."""
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.name.startswith("dagyard-")]
    except OSError:
        return
    for name in names:
        owner = name.split("-")[1]
        if not owner.isdigit() or int(owner) == os.getpid() or _alive(int(owner)):
            continue
        with contextlib.suppress(OSError):
            (folder / name).rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
