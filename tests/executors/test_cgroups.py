"""cgroups.py on this machine's real cgroups (skipped where this process may make none):
an attempt's cgroup with its limits written, a process moved in, killed with everything
it started, the kernel's OOM kills counted, the cgroup removed; the watchdog killing and
removing the cgroups it watches; what dead processes left swept away. And where
hierarchies are found, from the text of /proc/self/cgroup and /proc/self/mountinfo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagyard.executors.cgroups import AttemptCgroup, CgroupTree, Hierarchy, find_hierarchies
from dagyard.executors.watchdog import Watchdog

DEADLINE = 30.0

HYBRID_MOUNTS = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""
HYBRID_CGROUPS = """\
9:name=systemd:/user.slice
4:memory:/process_api/abc
1:cpu,cpuacct:/
0::/user.slice/session-1.scope
"""


def test_hierarchies_of_a_hybrid_machine_are_found_with_our_folder_in_each() -> None:
    found = find_hierarchies(HYBRID_CGROUPS, HYBRID_MOUNTS)
    assert found == [
        Hierarchy(1, frozenset({"name=systemd"}), Path("/sys/fs/cgroup/systemd/user.slice")),
        Hierarchy(1, frozenset({"memory"}), Path("/sys/fs/cgroup/memory/process_api/abc")),
        Hierarchy(1, frozenset({"cpu", "cpuacct"}), Path("/sys/fs/cgroup/cpu,cpuacct")),
        Hierarchy(2, frozenset(), Path("/sys/fs/cgroup/unified/user.slice/session-1.scope")),
    ]


def test_a_hierarchy_mounted_from_below_its_root_is_found_relative_to_its_mount() -> None:
    """A container sees its own cgroup mounted at /sys/fs/cgroup (mountinfo's root names
    where in the hierarchy the mount starts); a cgroup outside the mount is not found."""
    mounts = "50 40 0:30 /docker/c1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n"
    inside = find_hierarchies("0::/docker/c1/job\n", mounts)
    assert inside == [Hierarchy(2, frozenset(), Path("/sys/fs/cgroup/job"))]
    assert find_hierarchies("0::/docker/other\n", mounts) == []


def test_a_mount_point_with_a_space_is_read_unescaped() -> None:
    mounts = r"41 31 0:38 / /mnt/my\040cgroups rw - cgroup2 cgroup2 rw" + "\n"
    found = find_hierarchies("0::/a\n", mounts)
    assert found == [Hierarchy(2, frozenset(), Path("/mnt/my cgroups/a"))]


@pytest.fixture
def tree() -> CgroupTree:
    made = CgroupTree()
    if not made.available():
        pytest.skip("this process may make no cgroup here")
    return made


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process that, once told to (a line on its stdin), starts a daemon of its own
    (setsid) and sleeps."""
    code = (
        "import os, sys, time\n"
        "sys.stdin.readline()\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); print(os.getpid(), flush=True); time.sleep(600)\n"
        "time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        yield process
        process.kill()


def test_an_attempts_cgroup_holds_its_limits_and_kills_all_it_holds(
    tree: CgroupTree, sleeper: subprocess.Popen[bytes]
) -> None:
    cgroup = tree.make(memory=64 << 20, cpu=0.5, kill=False)
    try:
        if cgroup.memory_limited is None or cgroup.cpu_limited is None:
            pytest.skip("no memory or cpu controller here")
        assert _limits(cgroup) == {"memory": 64 << 20, "cpu": (50_000, 100_000)}
        _assert_kill_reaches_a_daemon(cgroup, sleeper)
    finally:
        cgroup.remove()
    assert not any(folder.exists() for folder in _folders(cgroup, tree))


def test_a_kill_only_cgroup_is_made_without_limits(
    tree: CgroupTree, sleeper: subprocess.Popen[bytes]
) -> None:
    assert not tree.make(memory=None, cpu=None, kill=False)
    cgroup = tree.make(memory=None, cpu=None, kill=True)
    try:
        _assert_kill_reaches_a_daemon(cgroup, sleeper)
    finally:
        cgroup.remove()


def test_the_kernels_oom_kills_in_a_cgroup_are_counted(tree: CgroupTree) -> None:
    cgroup = tree.make(memory=32 << 20, cpu=None, kill=False)
    try:
        if cgroup.memory_limited is None:
            pytest.skip("no memory controller here")
        assert cgroup.oom_kills() == 0
        hog = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read(1); bytearray(200 << 20)"],
            stdin=subprocess.PIPE,
        )
        cgroup.join(hog.pid)
        assert hog.stdin is not None
        hog.stdin.write(b"x")
        hog.stdin.close()
        assert hog.wait(timeout=DEADLINE) == -9
        assert cgroup.oom_kills() == 1
    finally:
        cgroup.remove()


def test_closing_the_watchdog_kills_and_removes_the_cgroups_it_watches(
    tree: CgroupTree, sleeper: subprocess.Popen[bytes]
) -> None:
    cgroup = tree.make(memory=None, cpu=None, kill=True)
    watchdog = Watchdog()
    try:
        daemon = _joined_with_daemon(cgroup, sleeper)
        for folder in cgroup.folders:
            watchdog.watch_cgroup(str(folder))
        watchdog.close()
        assert sleeper.wait(timeout=DEADLINE) == -9
        assert _gone(daemon)
        assert not any(folder.exists() for folder in cgroup.folders)
    finally:
        watchdog.close()
        cgroup.remove()


def test_empty_cgroups_of_dead_dagyard_processes_are_swept_away(tree: CgroupTree) -> None:
    """A cgroup left by a process killed with its watchdog is removed by the next
    process's first look; a live process's is left alone."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tree.available()[0].path
    left, live = folder / f"dagyard-{dead.pid}-1", folder / f"dagyard-{os.getppid()}-1"
    left.mkdir()
    live.mkdir()
    try:
        CgroupTree().available()
        assert not left.exists()
        assert live.exists()
    finally:
        for made in (left, live):
            if made.exists():
                made.rmdir()


def _assert_kill_reaches_a_daemon(cgroup: AttemptCgroup, sleeper: subprocess.Popen[bytes]) -> None:
    daemon = _joined_with_daemon(cgroup, sleeper)
    cgroup.kill()
    assert sleeper.wait(timeout=DEADLINE) == -9
    assert _gone(daemon)


def _joined_with_daemon(cgroup: AttemptCgroup, sleeper: subprocess.Popen[bytes]) -> int:
    """Move `sleeper` in before it forks; the pid of the daemon it then starts."""
    cgroup.join(sleeper.pid)
    assert sleeper.stdin is not None and sleeper.stdout is not None
    sleeper.stdin.write(b"fork\n")
    sleeper.stdin.flush()
    return int(sleeper.stdout.readline())


def _limits(cgroup: AttemptCgroup) -> dict[str, object]:
    found: dict[str, object] = {}
    for folder in cgroup.folders:
        if (folder / "memory.max").exists():
            found["memory"] = int((folder / "memory.max").read_text())
        elif (folder / "memory.limit_in_bytes").exists():
            found["memory"] = int((folder / "memory.limit_in_bytes").read_text())
        if (folder / "cpu.max").exists():
            quota, period = (folder / "cpu.max").read_text().split()
            found["cpu"] = (int(quota), int(period))
        elif (folder / "cpu.cfs_quota_us").exists():
            quota_us = int((folder / "cpu.cfs_quota_us").read_text())
            found["cpu"] = (quota_us, int((folder / "cpu.cfs_period_us").read_text()))
    return found


def _folders(cgroup: AttemptCgroup, tree: CgroupTree) -> list[Path]:
    return [hierarchy.path / cgroup.name for hierarchy in tree.available()]


def _gone(pid: int) -> bool:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.02)
    return False
