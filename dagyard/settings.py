"""Settings, read in this one place: `DAGYARD_*` environment variables (command-line
flags override them in `dagyard.cli`). Everything else receives a `Settings`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from dagyard.errors import UsageError

# The executors a setting can name (dagyard.service.platform builds them).
EXECUTORS = ("local", "ray")
# The most bytes a task attempt's log keeps unless DAGYARD_TASK_LOG_LIMIT says otherwise.
DEFAULT_TASK_LOG_LIMIT = 100 << 20
# A run with more task records than this is read by the UI as an outline unless
# DAGYARD_TASK_OUTLINE_OVER says otherwise.
DEFAULT_TASK_OUTLINE_OVER = 1000
# Where lightweight Python components run (DAGYARD_TASK_ISOLATION).
TASK_ISOLATIONS = ("host", "image")
# Suffixes of a size in bytes (DAGYARD_TASK_LOG_LIMIT): powers of 1024.
_SIZE_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where Dagyard keeps its state and how it runs tasks.

    home            DAGYARD_HOME, default ~/.dagyard
    database_url    DAGYARD_DATABASE_URL, default sqlite:///<home>/dagyard.db
    artifact_root   DAGYARD_ARTIFACT_ROOT, default <home>/artifacts
    max_parallel    DAGYARD_MAX_PARALLEL, default: the number of CPUs
    cache_enabled   DAGYARD_CACHE (0/false turns caching off everywhere), default on
    max_cache_staleness_seconds  DAGYARD_MAX_CACHE_STALENESS (seconds), default: none
    container_runtime  DAGYARD_CONTAINER_RUNTIME: auto (the default: the first of podman and
                    docker whose engine answers, looked up at the first container task),
                    podman, docker, a path, or off; container components run in their image
                    with it, and on this machine (with a warning on the task) without one
    task_isolation  DAGYARD_TASK_ISOLATION: host (the default: lightweight Python components
                    run on this machine's Python, the fast path) or image (they run in their
                    base image too, with the container runtime)
    lease_seconds   DAGYARD_LEASE_SECONDS, default 15: how long a process's claim on a run
                    lasts unless renewed (renewed every third of it); a dead process's runs
                    are taken over by another within about this time
    store_outage_seconds  DAGYARD_STORE_OUTAGE_SECONDS, default 120: how long a run's driver
                    waits out a metadata database that does not answer (its running tasks
                    go on) before it leaves the run unfinished, to be resumed
    executor        DAGYARD_EXECUTOR: local (child processes here, the default) or ray
    ray_address     DAGYARD_RAY_ADDRESS: the Ray cluster's head, HOST:PORT (or "auto"),
                    for the ray executor
    allowed_hosts   DAGYARD_ALLOWED_HOSTS: comma-separated names (or addresses, "*.domain",
                    "*") the API server may be reached under besides the loopback names
    task_log_limit  DAGYARD_TASK_LOG_LIMIT, default 100M: the most bytes each task attempt's
                    log keeps (its first and last halves, with a line saying how much was
                    cut between them); a number of bytes, or with a suffix K, M, G (powers
                    of 1024); 0 or "none": no cap
    namespace_max_runs  DAGYARD_NAMESPACE_MAX_RUNS: at most this many runs of one namespace
                    run at once (a run's namespace is its experiment's); the others wait
                    PENDING, saying why, and start as those end, so that one team's queue
                    does not hold another's back. 0 (the default): no limit
    namespace_max_tasks  DAGYARD_NAMESPACE_MAX_TASKS: at most this many tasks of the runs of
                    one namespace run at once on this machine's executor, whatever their
                    runs (each run also has its own DAGYARD_MAX_PARALLEL); the others wait,
                    saying why. 0 (the default): no limit
    user_header     DAGYARD_USER_HEADER: the request header in which an authenticating proxy
                    in front of the server names the user (KFP's kubeflow-userid); off
                    (empty) by default. Each user's namespaces and roles come from
                    `user_namespaces`; `dagyard up` takes the header only from loopback
                    or from the proxies named in `trusted_proxies`
    user_namespaces DAGYARD_USER_NAMESPACES: a JSON file {"USER": {"NAMESPACE": "edit" or
                    "view", ...}, ...}
    trusted_proxies DAGYARD_TRUSTED_PROXIES: comma-separated addresses of the proxies
                    whose user header is believed (besides loopback ones)
    task_cgroups    DAGYARD_TASK_CGROUPS: auto (the default) gives a task attempt a cgroup of
                    its own where this process may make one (for its memory and CPU limits,
                    and to kill what it leaves behind); off never does (limits then hold
                    per process through RLIMIT_DATA and CPU affinity)
    task_outline_over  DAGYARD_TASK_OUTLINE_OVER, default 1000: a run with more task
                    records than this is read by the UI as an outline (the tasks outside
                    loop iterations, the rest counted by state: docs/api.md), not whole
    """

    home: Path
    database_url: str = ""
    artifact_root: str = ""
    max_parallel: int = 0
    cache_enabled: bool = True
    max_cache_staleness_seconds: float | None = None
    container_runtime: str = "auto"
    task_isolation: str = "host"
    lease_seconds: float = 15.0
    store_outage_seconds: float = 120.0
    executor: str = "local"
    ray_address: str = ""
    allowed_hosts: tuple[str, ...] = ()
    task_log_limit: int = DEFAULT_TASK_LOG_LIMIT
    task_cgroups: bool = True
    namespace_max_runs: int = 0
    namespace_max_tasks: int = 0
    user_header: str = ""
    user_namespaces: Path | None = None
    trusted_proxies: tuple[str, ...] = ()
    task_outline_over: int = DEFAULT_TASK_OUTLINE_OVER

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.home / 'dagyard.db'}")
        if not self.artifact_root:
            object.__setattr__(self, "artifact_root", str(self.home / "artifacts"))
        if self.max_parallel <= 0:
            object.__setattr__(self, "max_parallel", os.cpu_count() or 1)
        if self.task_outline_over < 0:
            raise UsageError(
                f"DAGYARD_TASK_OUTLINE_OVER must be 0 or more task records, not "
                f"{self.task_outline_over}."
            )
        if self.task_log_limit < 0:
            raise UsageError(
                f"The task log limit must be 0 (no cap) or a number of bytes, not "
                f"{self.task_log_limit}."
            )
        if self.lease_seconds <= 0:
            raise UsageError(f"The lease length must be positive, not {self.lease_seconds} s.")
        if self.store_outage_seconds < 0:
            raise UsageError(
                f"DAGYARD_STORE_OUTAGE_SECONDS must be 0 or more seconds, not "
                f"{self.store_outage_seconds}."
            )
        if self.task_isolation not in TASK_ISOLATIONS:
            raise UsageError(
                f"DAGYARD_TASK_ISOLATION={self.task_isolation!r} is not known; choose host (the "
                "default) or image."
            )
        if self.user_header and self.user_namespaces is None:
            raise UsageError(
                "DAGYARD_USER_HEADER needs DAGYARD_USER_NAMESPACES: the JSON file that gives "
                'each user its namespaces, such as {"alice@example.com": {"team-a": "edit"}}.'
            )
        if self.executor not in EXECUTORS:
            raise UsageError(
                f"Executor {self.executor!r} is not known; choose one of {', '.join(EXECUTORS)}."
            )
        if self.executor == "ray" and not self.ray_address:
            raise UsageError(
                "The ray executor needs the cluster's address: set DAGYARD_RAY_ADDRESS or "
                "pass --ray-address HOST:PORT."
            )

    @property
    def work_root(self) -> Path:
        """Scratch folders of task attempts (executor input/output files)."""
        return self.home / "work"

    @property
    def volumes_root(self) -> Path:
        """Folders of volume claims (kfp-kubernetes' CreatePVC, mount_pvc)."""
        return self.home / "volumes"

    @property
    def environments_root(self) -> Path:
        """Cached virtual environments for `packages_to_install`."""
        return self.home / "envs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("DAGYARD_HOME") or Path.home() / ".dagyard").expanduser()
        outage = _float(env, "DAGYARD_STORE_OUTAGE_SECONDS")
        return cls(
            home=home,
            database_url=env.get("DAGYARD_DATABASE_URL", ""),
            artifact_root=env.get("DAGYARD_ARTIFACT_ROOT", ""),
            max_parallel=_int(env, "DAGYARD_MAX_PARALLEL", 0),
            cache_enabled=env.get("DAGYARD_CACHE", "1").strip().lower()
            not in ("0", "false", "no", "off"),
            max_cache_staleness_seconds=_float(env, "DAGYARD_MAX_CACHE_STALENESS"),
            container_runtime=env.get("DAGYARD_CONTAINER_RUNTIME", "").strip() or "auto",
            task_isolation=env.get("DAGYARD_TASK_ISOLATION", "").strip().lower() or "host",
            lease_seconds=_float(env, "DAGYARD_LEASE_SECONDS") or Settings.lease_seconds,
            store_outage_seconds=(Settings.store_outage_seconds if outage is None else outage),
            executor=env.get("DAGYARD_EXECUTOR", "").strip().lower() or "local",
            ray_address=env.get("DAGYARD_RAY_ADDRESS", "").strip(),
            allowed_hosts=tuple(
                h.strip() for h in env.get("DAGYARD_ALLOWED_HOSTS", "").split(",") if h.strip()
            ),
            task_log_limit=_size(env, "DAGYARD_TASK_LOG_LIMIT", DEFAULT_TASK_LOG_LIMIT),
            task_cgroups=_auto_or_off(env, "DAGYARD_TASK_CGROUPS"),
            namespace_max_runs=_int(env, "DAGYARD_NAMESPACE_MAX_RUNS", 0),
            namespace_max_tasks=_int(env, "DAGYARD_NAMESPACE_MAX_TASKS", 0),
            user_header=env.get("DAGYARD_USER_HEADER", "").strip().lower(),
            user_namespaces=(
                Path(env["DAGYARD_USER_NAMESPACES"]).expanduser()
                if env.get("DAGYARD_USER_NAMESPACES", "").strip()
                else None
            ),
            trusted_proxies=tuple(
                p.strip() for p in env.get("DAGYARD_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            task_outline_over=_int(env, "DAGYARD_TASK_OUTLINE_OVER", DEFAULT_TASK_OUTLINE_OVER),
        )


def _auto_or_off(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in ("", "auto", "on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no"):
        return False
    raise UsageError(f"Setting {name}={text!r} must be auto or off.")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise UsageError(f"Setting {name}={text!r} must be a whole number.")
    return int(text)


def _float(env: Mapping[str, str], name: str) -> float | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as e:
        raise UsageError(f"Setting {name}={text!r} must be a number of seconds.") from e


def _size(env: Mapping[str, str], name: str, default: int) -> int:
    """A size in bytes: a whole number, maybe with a suffix K, M, G or T (powers of 1024,
    "MiB" and "MB" alike); 0 or "none" for no limit."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if text.lower() in ("none", "off"):
        return 0
    upper = text.upper().removesuffix("B").removesuffix("I")
    number, suffix = upper.rstrip("KMGT"), upper[len(upper.rstrip("KMGT")) :]
    if not number.strip().isdigit() or suffix not in _SIZE_SUFFIXES:
        raise UsageError(
            f"Setting {name}={text!r} must be a number of bytes, maybe with a suffix K, M, "
            "G or T (e.g. 100M), or 0 or none for no limit."
        )
    return int(number) * _SIZE_SUFFIXES[suffix]
