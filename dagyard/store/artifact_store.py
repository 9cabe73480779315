"""The artifact store: where the bytes of artifacts and task logs live, through fsspec.

Belongs here: the layout of a run's files under one root (a local folder by default, an
object-store URL such as `s3://bucket/prefix` when scaled out), reading, digesting and
deleting them. Not here: what an artifact *is* (its record, type and lineage live in the
metadata store) and anything about running tasks.

Layout under the root:

    <root>/<run_id>/<task_path>/<name>                  an output artifact
    <root>/<run_id>/<task_path>/logs/attempt-<n>.log    the merged stdout+stderr of an attempt

`task_path` may contain '/' (tasks inside sub-DAGs and loop iterations). A URI of a local
root is a plain absolute path when the root was given as a path, and a `file://` URL when it
was given as one; the task runtime accepts both.

Containment: on a local root, whatever a URI under the root names must really be under it.
A symbolic link there whose target lies outside (a task's output linked to /etc/passwd)
is refused with a `StoreError` by every read, digest and listing, so nothing outside the
root is ever served as an artifact. `leaving_link` finds such links when outputs are
collected, so that the task that made one fails.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import fsspec  # type: ignore[import-untyped]
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from dagyard.errors import NotFound, StoreError, StoreFailure, StoreUnavailable

_CHUNK = 1 << 20
# Folder digests start with this, so that no folder shares a digest with a file.
_FOLDER_DIGEST_PREFIX = b"dagyard-folder-digest/1\0"


class ArtifactStore:
    """Files of runs under one root folder or URL. Errors are `StoreError`s naming the URI."""

    def __init__(self, root: str) -> None:
        if not root:
            raise StoreError("The artifact store root is empty; give a folder path or a URL.")
        try:
            fs, path = fsspec.core.url_to_fs(root, **_options(root))
        except (ImportError, ValueError) as e:
            hint = ""
            if isinstance(e, ImportError) and root.startswith(("s3://", "s3a://")):
                hint = " Install the S3 support: pip install 'dagyard[s3]'."
            reason = str(e).rstrip(".")
            raise StoreError(f"Cannot open the artifact store at {root!r}: {reason}.{hint}") from e
        self._fs: Any = fs
        self._local = isinstance(fs, LocalFileSystem)
        self._root_path: str = path.rstrip("/") or "/"
        if self._local and "://" not in root:
            self._root_uri = self._root_path
        elif self._local:
            self._root_uri = "file://" + self._root_path
        else:
            self._root_uri = root.rstrip("/")

    @property
    def root_uri(self) -> str:
        """The root every URI of this store starts with."""
        return self._root_uri

    # Layout

    @property
    def is_local(self) -> bool:
        """Whether the store is a folder of this machine (else an object store or other
        remote file system, which tasks reach through staged copies)."""
        return bool(self._local)

    def task_uri(self, run_id: str, task_path: str) -> str:
        """The folder of the task at `task_path` in run `run_id`: its outputs live in it."""
        parts = [_segment(run_id, "run id"), *_task_segments(task_path)]
        return "/".join([self._root_uri, *parts])

    def uri_for(self, run_id: str, task_path: str, name: str) -> str:
        """The URI of output `name` of the task at `task_path` in run `run_id`."""
        return self.task_uri(run_id, task_path) + "/" + _segment(name, "name")

    def relative(self, uri: str) -> str | None:
        """`uri` relative to the root ("" for the root itself), or None if outside it."""
        return self._relative(uri)

    def log_uri(self, run_id: str, task_path: str, attempt: int) -> str:
        """The URI of the log of `attempt` of the task at `task_path` in run `run_id`."""
        if attempt < 0:
            raise StoreError(f"Attempt number {attempt} is negative; attempts count from 0.")
        parts = [_segment(run_id, "run id"), *_task_segments(task_path), "logs"]
        return "/".join([self._root_uri, *parts, f"attempt-{attempt}.log"])

    def is_within(self, uri: str) -> bool:
        """Whether `uri` names something under this store's root."""
        return self._relative(uri) is not None

    # Local access

    def local_path(self, uri: str) -> Path:
        """The local file path of `uri`, for processes that read and write files directly."""
        fs, path = self._resolve(uri)
        if not isinstance(fs, LocalFileSystem):
            raise StoreError(
                f"Local paths of {uri!r} are not supported yet: only artifact stores on the "
                "local file system can hand out paths."
            )
        return Path(path)

    def prepare_output(self, uri: str) -> None:
        """Make sure `uri` can be written: create its parent folders (object stores have none)."""
        fs, path = self._resolve(uri)
        if isinstance(fs, LocalFileSystem):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"Cannot create the folder for {uri!r}: {e}") from e

    # Reading

    def exists(self, uri: str) -> bool:
        """Whether a file or folder exists at `uri`."""
        fs, path = self._resolve(uri)
        return bool(self._call(uri, fs.exists, path))

    def is_folder(self, uri: str) -> bool:
        """Whether `uri` is a folder (a file, or nothing, is not)."""
        fs, path = self._resolve(uri)
        return bool(self._call(uri, fs.isdir, path))

    def read_bytes(self, uri: str) -> bytes:
        """The content of the file at `uri`, as far as it is written (logs grow while read)."""
        fs, path = self._resolve(uri)
        return self._cat(uri, fs, path)

    def read_range(self, uri: str, start: int, end: int) -> bytes:
        """Bytes `start` to `end` (exclusive) of the file at `uri`, fewer if it is shorter."""
        if end <= start:
            return b""
        fs, path = self._resolve(uri)
        return self._cat(uri, fs, path, start=start, end=end)

    def read_tail(self, uri: str, size: int) -> bytes:
        """The last `size` bytes of the file at `uri` (all of it if shorter): read from the
        end, so memory stays flat whatever the file's length."""
        length = self.size(uri)
        return self.read_range(uri, max(0, length - size), length)

    def read_text(self, uri: str) -> str:
        """The content of the file at `uri` as UTF-8 text (undecodable bytes replaced)."""
        return self.read_bytes(uri).decode("utf-8", errors="replace")

    def size(self, uri: str) -> int:
        """The size in bytes of a file, or of all files in a folder."""
        fs, path = self._resolve(uri)
        if self._call(uri, fs.isdir, path):
            return sum(int(info["size"]) for info in self._files(uri, fs, path).values())
        return int(self._call(uri, fs.size, path))

    def digest(self, uri: str) -> str | None:
        """The sha256 hex digest of a file, or of a folder (the relative paths and contents
        of its files in sorted order); None if nothing exists at `uri`."""
        fs, path = self._resolve(uri)
        if not self._call(uri, fs.exists, path):
            return None
        if not self._call(uri, fs.isdir, path):
            sha = hashlib.sha256()
            self._feed(sha, uri, fs, path)
            return sha.hexdigest()
        sha = hashlib.sha256(_FOLDER_DIGEST_PREFIX)
        for relative, info in sorted(self._files(uri, fs, path).items()):
            # Length-prefixed, so that moving bytes between a name and a content changes it.
            sha.update(f"{len(relative.encode())}:{relative}:{int(info['size'])}:".encode())
            self._feed(sha, uri, fs, info["name"])
        return sha.hexdigest()

    # Deleting

    def delete_run(self, run_id: str) -> None:
        """Remove every file of run `run_id` (artifacts and logs); nothing if there is none."""
        uri = "/".join([self._root_uri, _segment(run_id, "run id")])
        fs, path = self._resolve(uri)
        if self._call(uri, fs.exists, path):
            self._call(uri, fs.rm, path, recursive=True)

    # Internals

    def _relative(self, uri: str) -> str | None:
        """`uri` relative to the root ("" for the root itself), or None if outside it."""
        candidates = [self._root_uri]
        if self._local:  # the same local file may be named as a path or as a file:// URL
            candidates += [self._root_path, "file://" + self._root_path]
        for root in candidates:
            if uri == root:
                return ""
            prefix = root.rstrip("/") + "/"
            if uri.startswith(prefix):
                relative = uri[len(prefix) :]
                if ".." in relative.split("/"):
                    return None
                return relative
        return None

    def _resolve(self, uri: str) -> tuple[Any, str]:
        """The file system and its path for `uri`: under the root, or any URL fsspec knows."""
        relative = self._relative(uri)
        if relative is not None:
            path = self._root_path.rstrip("/") + "/" + relative if relative else self._root_path
            if self._local:
                self._contain(uri, path)
            return self._fs, path
        return open_url(uri)

    def _contain(self, uri: str, path: str) -> None:
        """Refuse `path` (of `uri`) if its real path is outside the root's real path."""
        real = os.path.realpath(path)
        if not _inside(real, os.path.realpath(self._root_path)):
            raise StoreError(
                f"Cannot access {uri!r}: it is a symbolic link (or under one) to {real!r}, "
                "outside the artifact store; only files inside the store are served."
            )

    def _files(self, uri: str, fs: Any, path: str) -> dict[str, dict[str, Any]]:
        """The files under folder `path`, keyed by their '/'-separated relative path."""
        found: dict[str, dict[str, Any]] = self._call(uri, fs.find, path, detail=True)
        base = path.rstrip("/") + "/"
        if self._local:
            for name in found:
                self._contain(uri + "/" + name[len(base) :], name)
        return {name[len(base) :]: info for name, info in found.items() if info["type"] == "file"}

    def _feed(self, sha: Any, uri: str, fs: Any, path: str) -> None:
        try:
            with fs.open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    sha.update(chunk)
        except OSError as e:
            raise _access_error("Cannot read", uri, e) from e

    def _cat(self, uri: str, fs: Any, path: str, **kwargs: Any) -> bytes:
        try:
            data: bytes = fs.cat_file(path, **kwargs)
            return data
        except FileNotFoundError as e:
            # Object stores have no folders to refuse reading: a prefix just has no object.
            if self._call(uri, fs.isdir, path):
                raise StoreError(f"Cannot access {uri!r}: it is a folder, not a file") from e
            raise _access_error("Cannot access", uri, e) from e
        except OSError as e:
            raise _access_error("Cannot access", uri, e) from e

    @staticmethod
    def _call(uri: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except OSError as e:
            raise _access_error("Cannot access", uri, e) from e


def open_url(uri: str) -> tuple[Any, str]:
    """The fsspec file system and path of any URL or local path; StoreError if none."""
    try:
        fs, path = fsspec.core.url_to_fs(uri, **_options(uri))
    except (ImportError, ValueError) as e:
        raise StoreError(f"Cannot open {uri!r}: {e}") from e
    return fs, str(path)


def leaving_link(path: Path, *, within: Path) -> tuple[Path, str] | None:
    """The first symbolic link at or under `path` whose target is outside `within`, with
    that target; None if there is none (or nothing at `path`). Links are not followed
    while walking, so a link to a folder is judged by where it points."""
    top = os.path.realpath(within)
    candidates = [path]
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            candidates += [Path(folder, name) for name in dirs + files]
    for candidate in candidates:
        if candidate.is_symlink() and not _inside(os.path.realpath(candidate), top):
            return candidate, os.readlink(candidate)
    return None


def _inside(real: str, top: str) -> bool:
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _options(uri: str) -> dict[str, Any]:
    # No cached listings on object stores: other processes and nodes write there all the
    # time, and a stale listing would hide their files.
    protocol = fsspec.core.split_protocol(uri)[0]
    return {} if protocol in (None, "file", "local") else {"use_listings_cache": False}


def _access_error(what: str, uri: str, error: OSError) -> StoreError:
    """A failed read as the error of whoever is at fault (see `dagyard.errors`): nothing
    at `uri` is NotFound (404), a folder read as a file the caller's (400), a store that
    does not answer StoreUnavailable (503), anything else (a permission, a disk error)
    StoreFailure, ours (500)."""
    message = f"{what} {uri!r}: {_reason(error)}"
    if isinstance(error, FileNotFoundError):
        return NotFound(message)
    if isinstance(error, IsADirectoryError | NotADirectoryError):
        return StoreError(message)
    if isinstance(error, ConnectionError | TimeoutError):
        return StoreUnavailable(f"{message}. Check that the artifact store is reachable.")
    return StoreFailure(message)


def _reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "it does not exist"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    return error.strerror or str(error)


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in (".", "..") or os.sep in value:
        raise StoreError(
            f"The {what} {value!r} cannot be a path segment: it must be non-empty, without "
            "'/', and not '.' or '..'."
        )
    return value


def _task_segments(task_path: str) -> list[str]:
    if not task_path:
        raise StoreError("The task path is empty; give the task's name (or 'dag/task').")
    try:
        return [_segment(part, "task path segment") for part in task_path.split("/")]
    except StoreError as e:
        raise StoreError(f"Task path {task_path!r} is invalid: {e}") from e
