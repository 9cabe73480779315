"""A real Ray cluster on this machine for tests: a head and more nodes, each a separate
`ray start` process in its own process group, with the custom resources a test asks for.

Only those groups are stopped at the end, never `ray stop` (which would stop every Ray
cluster of this user on the machine). The head listens on a free port: Ray's default,
6379, is Redis's too. A test may kill one node's group (`Cluster.kill`) to play a node
dying.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

RAY = str(Path(sys.executable).parent / "ray")
STARTUP = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


@dataclasses.dataclass
class Cluster:
    address: str
    # Ray node ids, and the process group of each node's `ray start` daemons, by the
    # name the test gave the node.
    nodes: dict[str, str]
    groups: dict[str, int]

    def kill(self, name: str) -> None:
        """Kill every process of node `name` at once, as a machine losing power: its
        `ray start` group and everything those processes started (Ray workers, and the
        tasks they run in sessions of their own). All are frozen first, so that none
        reports anything while the others die."""
        machine = _descendants(self.groups[name])
        for signum in (signal.SIGSTOP, signal.SIGKILL):
            for pid in machine:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)


def _processes() -> dict[int, tuple[int, int]]:
    """(parent pid, process group) of every live process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            found[int(entry)] = (int(fields[1]), int(fields[2]))
    return found


def _descendants(pgid: int) -> list[int]:
    """The processes of group `pgid` and every process they started, at any depth."""
    processes = _processes()
    members = {pid for pid, (_, group) in processes.items() if group == pgid}
    found = []
    for pid in processes:
        ancestor = pid
        while ancestor > 1 and ancestor not in members:
            ancestor = processes.get(ancestor, (0, 0))[0]
        if ancestor in members:
            found.append(pid)
    return found


def _start(args: list[str], env: dict[str, str]) -> int:
    # Its own session: every daemon `ray start` leaves behind stays in this group.
    process = subprocess.Popen(
        [RAY, "start", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=STARTUP)
    except subprocess.TimeoutExpired:
        _stop([process.pid])
        raise
    if process.returncode != 0:
        _stop([process.pid])
        pytest.fail(f"ray start {' '.join(args)} failed:\n{output.decode(errors='replace')}")
    return process.pid


def _stop(groups: list[int]) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    end = time.monotonic() + 5
    while any(group_alive(g) for g in groups) and time.monotonic() < end:
        time.sleep(0.1)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    end = time.monotonic() + 10
    while any(group_alive(g) for g in groups) and time.monotonic() < end:
        time.sleep(0.1)
    leaked = [g for g in groups if group_alive(g)]
    assert not leaked, f"Ray processes of groups {leaked} are still alive"


def _new_node(ray: Any, known: set[str], name: str) -> str:
    end = time.monotonic() + STARTUP
    while True:
        for node in ray.nodes():
            if node["Alive"] and node["NodeID"] not in known:
                return str(node["NodeID"])
        if time.monotonic() > end:
            pytest.fail(f"Ray node {name!r} did not join: {ray.nodes()}")
        time.sleep(0.1)


@contextlib.contextmanager
def ray_cluster(
    nodes: Mapping[str, Mapping[str, float]], *, env: Mapping[str, str] | None = None
) -> Iterator[Cluster]:
    """Start a cluster of `nodes` (name -> custom resources; the first is the head), each
    with one CPU, connect this process to it (`ray.init`), and stop it all at the end.
    `env` adds variables to every node's environment (Ray reads `RAY_<setting>`)."""
    import ray

    temp = Path(tempfile.mkdtemp(prefix="dgyray-", dir="/tmp"))  # short: socket paths
    full_env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})}
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    names = list(nodes)
    groups: dict[str, int] = {}
    ids: dict[str, str] = {}
    try:
        head = [
            "--head",
            "--port",
            str(port),
            "--temp-dir",
            str(temp),
            "--include-dashboard=false",
            "--ray-client-server-port",
            str(free_port()),
        ]
        for index, name in enumerate(names):
            args = head if index == 0 else ["--address", address]
            resources = dict(nodes[name])
            if resources:
                args = [*args, "--resources", json.dumps(resources)]
            groups[name] = _start(
                [*args, "--dashboard-agent-listen-port", str(free_port()), *common], full_env
            )
            if index == 0:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            ids[name] = _new_node(ray, set(ids.values()), name)
        yield Cluster(address, ids, groups)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(list(groups.values()))
        shutil.rmtree(temp, ignore_errors=True)
