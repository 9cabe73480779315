"""The executor interface: submit an attempt, wait for attempts to finish, cancel one;
optionally, say which submitted attempts have not started yet and why.

An executor knows nothing of pipelines: it gets a fully resolved command, an
environment and a place for logs, and reports an exit code. Everything KFP-specific
(placeholders, executor input, outputs, which commands are Python functions) is the
engine's job: the kind of command comes typed (`Command` or `PythonFunction`), and no
executor reads a command line to find it out. What an attempt does on the host that runs
it is `lifecycle.py`'s; an executor only places attempts. One contract suite
(tests/executors) runs against every implementation.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dagyard.executors.staging import Staging

if TYPE_CHECKING:
    from dagyard.ir.pipeline import Resources


@dataclasses.dataclass(frozen=True)
class Command:
    """A command line run as it is: a container component's, a shell command."""

    argv: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PythonFunction:
    """A lightweight Python component: a function that runs on any Python with its
    `packages`, so an executor chooses (or builds) that Python instead of installing them
    per task.

    `runner` says whose command it is: ours (`dagyard.runtime.embed`, which a warm
    zygote may fork) or kfp's (a shell script calling `python3`).
    """

    # The whole command line as compiled, install step included: what runs in an image.
    argv: tuple[str, ...]
    runner: Literal["dagyard", "kfp"]
    # pip requirement strings the Python must satisfy, in the order given.
    packages: tuple[str, ...] = ()
    # Package index URLs; the first is the main index, the others extra ones.
    index_urls: tuple[str, ...] = ()
    # What runs the function once its packages are there: for ours, the arguments after
    # the interpreter; for kfp's, the whole command line after the install step.
    body: tuple[str, ...] = ()
    # Those of `packages` installed without their dependencies, after the others: kfp's
    # install step puts kfp itself in with pip's `--no-deps` on top of the component's
    # packages, which it installs first, with theirs.
    no_deps: tuple[str, ...] = ()
    # kfp's only: the component's source and the executor's arguments when `body` is
    # kfp's own runner script (`sh -ec SCRIPT SOURCE ARGS...`: write SOURCE to
    # `ephemeral_component.py` in a new `mktemp -d` folder, then `python3 -m
    # kfp.dsl.executor_main --component_module_path THAT_FILE ARGS...`), which an executor
    # may then do itself, from a warm Python; None when the body is anything else.
    kfp_program: tuple[str, ...] | None = None

    def argv_for(self, python: str) -> list[str]:
        """The command line that runs the function on `python`, installing nothing.

        Ours runs on `python` itself, without its package options: the executor has made
        sure of the packages, and a runtime that checked again would call pip for
        requirements it cannot judge (URLs), in an environment without pip. kfp's runner
        calls `python3`, so it needs `python` first on PATH instead
        (`environments.bin_dir_for`).
        """
        if self.runner == "kfp":
            return list(self.body)
        return [python, *self.body]


@dataclasses.dataclass(frozen=True)
class Bind:
    """A host folder `source` that the task sees at `target` (a Kubernetes volume's
    mount path), and only there: `dagyard.executors.mounts` says how."""

    source: Path
    target: str
    read_only: bool = False


@dataclasses.dataclass(frozen=True)
class Launch:
    """One attempt of one task, ready to run."""

    task_id: str
    run_id: str
    attempt: int
    # The container's command + args with every placeholder already replaced, and what
    # kind of command that is.
    command: Command | PythonFunction
    image: str
    # Variables the task sets (set_env_variable), on top of the executor's own environment.
    env: dict[str, str]
    # A scratch folder for this attempt (it exists; the executor may use it as cwd).
    workdir: Path
    # Where stdout and stderr go, merged, written as they come: a local file path.
    log_path: Path
    # The task's resource settings (the IR's `container.resources`, typed), for
    # executors that schedule by them; None when the task sets none.
    resources: Resources | None = None
    # Host folders the command's paths point into (artifact store, scratch): an executor
    # that runs the command in a container mounts them at the same paths.
    mounts: tuple[Path, ...] = ()
    # Copies to make on the host that runs the attempt, around the command: with an
    # object-store artifact root the command only sees local paths. With a local root
    # there is nothing to copy (the default).
    staging: Staging = dataclasses.field(default_factory=Staging)
    # At most this many attempts of the launch's run run at once: an executor that
    # `holds_slots` starts the others as soon as one ends, without waiting for the engine.
    # None: no limit here (the engine's own is enough).
    slots: int | None = None
    # At most `namespace_slots` attempts of the runs of `namespace` (the run's) run at
    # once, whatever their runs (DAGYARD_NAMESPACE_MAX_TASKS); None: no such limit.
    namespace: str = ""
    namespace_slots: int | None = None
    # The most bytes the log keeps: its first and last halves, with a line between them
    # saying how many bytes were cut (`logs.CappedLog`). 0: no cap.
    log_limit: int = 0
    # Folders the task sees at paths of its own (its Kubernetes volumes), never the
    # host's folders at those paths.
    binds: tuple[Bind, ...] = ()
    # The labels of the node it must run on (kfp-kubernetes' node selector): an executor
    # that places by labels honours them, else it reports them in `Outcome.warnings`.
    node_selector: dict[str, str] = dataclasses.field(default_factory=dict)
    # When a task that runs in its image pulls it (kfp-kubernetes' set_image_pull_policy):
    # Always, IfNotPresent or Never; None: unset (IfNotPresent).
    pull_policy: str | None = None

    @property
    def argv(self) -> list[str]:
        """The command line as the engine resolved it."""
        return list(self.command.argv)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How an attempt ended. `exit_code` is None when it could not start or was killed
    by a signal; `error` then says what happened.

    `lost` means the attempt's result is unknown because the machine under it went away
    (a cluster node died, or the worker process that ran it crashed), not because the
    command failed: the engine runs it again as a system retry, which does not count
    against the task's retry policy. Only executors that run attempts on other machines
    report it; the local executor never does (a task process killed on this machine is
    a failed attempt, like any other exit).
    """

    exit_code: int | None
    error: str | None = None
    # The host the attempt ran on (its Ray node id, or this machine's name); the task
    # record keeps it in its permanent `node` field.
    host: str | None = None
    lost: bool = False
    # What the executor could not honour of the launch (a node selector no node
    # matches, ...), one sentence each; the engine adds them to the task's warnings.
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Executor(abc.ABC):
    """Runs attempts. Handles are opaque strings, unique per executor instance."""

    # Whether `Launch.slots` is honoured: the engine then submits a few attempts ahead of
    # free slots, and the executor starts each the moment a slot frees (no round trip
    # through the engine's loop, whose bookkeeping otherwise leaves the slot empty).
    holds_slots: bool = False

    @abc.abstractmethod
    def submit(self, launch: Launch) -> str:
        """Start the attempt without waiting for it; returns its handle."""

    @abc.abstractmethod
    def wait(self, handles: Collection[str], timeout: float | None) -> dict[str, Outcome]:
        """Block until at least one of `handles` has finished or `timeout` seconds pass;
        return the finished ones (empty after a timeout). A finished handle is reported
        once, then forgotten."""

    def waiting(self, handles: Collection[str]) -> dict[str, str]:
        """Which of `handles` were submitted but have not started yet because the
        executor is waiting for capacity, each with the reason in words (e.g. the
        resource no node has free). Cheap enough to call on every turn of the engine's
        loop: an executor that must ask a cluster batches and caches. An attempt that
        has started is never reported again.

        The default reports nothing: an executor whose capacity the engine already
        limits (`max_parallel`), like the local one, starts what it is given at once."""
        return {}

    @abc.abstractmethod
    def cancel(self, handle: str) -> None:
        """Stop the attempt (and its children); `wait` then reports it as finished."""

    @abc.abstractmethod
    def close(self) -> None:
        """Cancel everything still running and release resources."""
