"""The size of a run's workspace (`dsl.PipelineConfig(workspace=WorkspaceConfig(size=...))`),
held to on one machine.

KFP gives a run a volume claim of that size, mounted in every task that uses the
workspace. Here the workspace is a folder, `<work root>/<run id>/.workspace`, on
whatever disk holds the work root, so the size is held to in two checks, not as a
quota: before anything runs, the disk must have the size free (counting what a resumed
run's workspace holds already: `shortfall`); after each attempt that succeeds, the
workspace must hold no more than the size, else that attempt fails saying so
(`overflow`). A task may thus write past the size while it runs; the run does not go on
as if it had not.

Belongs here: the two checks and their words. Not here: making the folder (launches)
or failing the run or the attempt (the driver's).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagyard.errors import ExecutorError
from dagyard.executors.limits import memory_quantity


def size_in_bytes(size: str) -> int:
    """The bytes of a workspace size ("10Gi"); ExecutorError naming it when it is not a
    quantity (only a hand-written IR holds such a size; both compilers refuse it)."""
    try:
        return memory_quantity(size)
    except ExecutorError as e:
        raise ExecutorError(
            f"The pipeline's workspace size {size!r} is not a Kubernetes quantity; compile "
            "it with a size such as WorkspaceConfig(size='10Gi')."
        ) from e


def shortfall(folder: Path, size: str) -> str | None:
    """Why a run whose workspace is `folder` cannot have `size` on this disk, or None
    when it can."""
    try:
        needed = size_in_bytes(size)
    except ExecutorError as e:
        return str(e)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    held = used_bytes(folder)
    if free + held >= needed:
        return None
    return (
        f"The pipeline's workspace needs {size}, but the disk holding {probe} has "
        f"{_words(free + held)} free for it; free space there (or move DAGYARD_HOME to a "
        "larger disk), or give the pipeline a smaller WorkspaceConfig(size=...)."
    )


def overflow(folder: Path, size: str) -> str | None:
    """Why the workspace `folder` is over `size` after a task, or None when it is not."""
    held = used_bytes(folder)
    try:
        if held <= size_in_bytes(size):
            return None
    except ExecutorError as e:
        return str(e)
    return (
        f"The task filled the run's workspace past its size: it holds {_words(held)}, "
        f"more than the {size} of the pipeline's WorkspaceConfig; write less there, or "
        "give the pipeline a larger WorkspaceConfig(size=...)."
    )


def used_bytes(folder: Path) -> int:
    """The bytes the files under `folder` take (0 when it does not exist); a file that
    goes while it is counted counts nothing."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except OSError:
                continue
    return total


def _words(size: int) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"
