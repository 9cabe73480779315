"""A full disk, named: which folder of an attempt's sits on a disk with no space left,
in words a user can act on.

Belongs here: telling a full disk from the errors it causes (`no_space`), and, when an
attempt failed, whether a disk it writes on is full now (`full_disk`), from the space
the file system reports. A task that fills a disk seldom says so itself: the log it
would say it in is on the same disk. Not here: what an attempt does about it
(`lifecycle.py` puts `name_full_disk`'s error in the attempt's log too, if it can).
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Sequence
from pathlib import Path

from dagyard.executors.base import Launch, Outcome

# A disk with less than this many bytes free for unprivileged writers counts as full:
# no task's output fits there any more.
FULL_BELOW = 1 << 20

# What a system says when a disk, or the user's share of it, is full.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, is a disk with no space left."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _NO_SPACE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def full_disk(folders: Sequence[tuple[Path, str]]) -> str | None:
    """The sentence naming the first of `folders` (each with what it is, e.g. "the
    artifact root") whose disk is full; None if none is (or none can be checked)."""
    for folder, what in folders:
        existing = _existing(folder)
        if existing is None:
            continue
        try:
            found = os.statvfs(existing)
        except OSError:
            continue
        if found.f_bavail * found.f_frsize < FULL_BELOW:
            return disk_full_message(folder, what)
    return None


def disk_full_message(folder: Path, what: str) -> str:
    """The sentence for a full disk under `folder` (`what` it is to the attempt)."""
    return (
        f"the disk holding {folder} ({what}) is full (no space left on device): free "
        "space on it, then retry the run"
    )


def name_full_disk(outcome: Outcome, launch: Launch) -> Outcome:
    """`outcome`, its error naming a full disk `launch` writes on if it failed and one
    is (`outcome` itself otherwise)."""
    if outcome.ok:
        return outcome
    full = full_disk(attempt_folders(launch))
    if full is None:
        return outcome
    detail = outcome.error or f"exited with code {outcome.exit_code}"
    return dataclasses.replace(outcome, error=f"{detail}: {full}")


def attempt_folders(launch: Launch) -> list[tuple[Path, str]]:
    """The folders an attempt writes in, each with what it is, the artifact root first:
    of the folders its command's paths point into (`Launch.mounts`), the one holding its
    log but not its work folder is the artifact root (on an object-store root there is
    none: the log is written in the work folder)."""
    workdir, log_path = launch.workdir, launch.log_path
    folders = [
        (mount, "the artifact root")
        for mount in launch.mounts
        if log_path.is_relative_to(mount) and not workdir.is_relative_to(mount)
    ]
    folders.append((workdir, "the task's work folder"))
    folders.append((log_path.parent, "the folder of the task's log"))
    return folders


def _existing(path: Path) -> Path | None:
    """`path`, or the nearest folder above it that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return None
