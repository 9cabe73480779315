"""A real Ray cluster on this machine for tests: a head and more nodes, each a separate
`ray start` process in its own process group, with the custom resources a test asks for.

Only those groups are stopped at the end, never `ray stop` (which would stop every Ray
cluster of this user on the machine). The head listens on a free port: Ray's default,
6379, is Redis's too. A test may kill one node's group (`Cluster.kill`) to play a node
dying, or restart the head on its address (`Cluster.restart_head`) to play a head
machine rebooting.
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
from collections.abc import Callable, Iterator, Mapping
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
    # Starts the head again on its port: its `ray start` group.
    start_head: Callable[[], int] | None = None
    # The nodes' environment, also that of the child process that checks one has joined.
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def restart_head(self) -> None:
        """Kill the head (`kill`), wait until all its processes are gone, and start a new
        head on the same address. Without GCS fault tolerance it is a new cluster: the
        other nodes' raylets end themselves when they reach it."""
        assert self.start_head is not None
        head = next(iter(self.groups))
        self.kill(head)
        end = time.monotonic() + 30
        while group_alive(self.groups[head]):
            if time.monotonic() > end:
                pytest.fail("the killed Ray head's processes are still alive")
            time.sleep(0.05)
        self.groups[head] = self.start_head()
        self.nodes[head] = _joined(self.address, set(), head, self.env)

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


_NODES_SCRIPT = """
import json, sys, ray
ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False)
print(json.dumps([n["NodeID"] for n in ray.nodes() if n["Alive"]]))
"""


def _joined(address: str, known: set[str], name: str, env: Mapping[str, str]) -> str:
    """Like `_new_node`, asking from a child process: for a test process that must not
    be a Ray driver itself (Ray ends a driver whose head restarts without fault
    tolerance)."""
    end = time.monotonic() + STARTUP
    while True:
        listed = subprocess.run(
            [sys.executable, "-c", _NODES_SCRIPT, address],
            capture_output=True,
            text=True,
            timeout=STARTUP,
            env=env,
        )
        if listed.returncode == 0:
            for node in json.loads(listed.stdout.strip().splitlines()[-1]):
                if node not in known:
                    return str(node)
        if time.monotonic() > end:
            pytest.fail(f"Ray node {name!r} did not join:\n{listed.stdout}{listed.stderr}")
        time.sleep(0.2)


@contextlib.contextmanager
def ray_cluster(
    nodes: Mapping[str, Mapping[str, float]],
    *,
    env: Mapping[str, str] | None = None,
    connect: bool = True,
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[Cluster]:
    """Start a cluster of `nodes` (name -> custom resources; the first is the head), each
    with one CPU, connect this process to it (`ray.init`) unless `connect` is false, and
    stop it all at the end. `env` adds variables to every node's environment (Ray reads
    `RAY_<setting>`), and to the child process that checks each node has joined.
    `labels`: Ray node labels of some nodes, by name."""
    import ray

    temp = Path(tempfile.mkdtemp(prefix="dgyray-", dir="/tmp"))  # short: socket paths
    temps = [temp]
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
        head_resources = dict(nodes[names[0]])
        if head_resources:
            head = [*head, "--resources", json.dumps(head_resources)]
        head_labels = (labels or {}).get(names[0])
        if head_labels:
            head = [*head, "--labels", ",".join(f"{k}={v}" for k, v in head_labels.items())]

        def start_head() -> int:
            # A new temporary folder: `ray start --head` refuses the port while the other
            # nodes on this machine still name it, as its old folder records.
            new_temp = Path(tempfile.mkdtemp(prefix="dgyray-", dir="/tmp"))
            temps.append(new_temp)
            args = [new_temp if a == str(temp) else a for a in head]
            port_args = ["--dashboard-agent-listen-port", str(free_port())]
            return _start([*map(str, args), *port_args, *common], full_env)

        for index, name in enumerate(names):
            args = head if index == 0 else ["--address", address]
            resources = dict(nodes[name])
            if resources and index > 0:
                args = [*args, "--resources", json.dumps(resources)]
            node_labels = (labels or {}).get(name)
            if node_labels and index > 0:
                args = [*args, "--labels", ",".join(f"{k}={v}" for k, v in node_labels.items())]
            groups[name] = _start(
                [*args, "--dashboard-agent-listen-port", str(free_port()), *common], full_env
            )
            if index == 0 and connect:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            if connect:
                ids[name] = _new_node(ray, set(ids.values()), name)
            else:
                ids[name] = _joined(address, set(ids.values()), name, full_env)
        yield Cluster(address, ids, groups, start_head, full_env)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(list(groups.values()))
        for folder in temps:
            shutil.rmtree(folder, ignore_errors=True)
