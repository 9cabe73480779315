"""The artifact store: layout, digests, reading, deleting, errors; on the local file
system (a path or a file:// URL) and on a real S3-compatible server (s3://).

Tasks write the files, not the store: `write` does it as a task's side would, through a
local path or the object store's client.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dagyard.errors import NotFound, StoreError
from dagyard.store.artifact_store import ArtifactStore, leaving_link, open_url


@pytest.fixture(params=["path", "file-url", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "s3":
        return ArtifactStore(request.getfixturevalue("s3_root"))
    root = tmp_path / "artifacts"
    return ArtifactStore(str(root) if request.param == "path" else f"file://{root}")


@pytest.fixture(params=["path", "file-url"])
def local_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """A store on the local file system, for what only it has (local paths)."""
    root = tmp_path / "artifacts"
    return ArtifactStore(str(root) if request.param == "path" else f"file://{root}")


def write(store: ArtifactStore, uri: str, data: bytes) -> None:
    store.prepare_output(uri)
    if store.is_local:
        store.local_path(uri).write_bytes(data)
    else:
        fs, path = open_url(uri)
        fs.pipe_file(path, data)


def test_layout_puts_outputs_and_logs_under_run_and_task(store: ArtifactStore) -> None:
    root = store.root_uri
    assert store.uri_for("run-1", "train", "model") == f"{root}/run-1/train/model"
    assert store.uri_for("run-1", "loop/iteration-2/train", "m") == (
        f"{root}/run-1/loop/iteration-2/train/m"
    )
    assert store.log_uri("run-1", "loop/train", 2) == f"{root}/run-1/loop/train/logs/attempt-2.log"


def test_root_uri_keeps_the_form_it_was_given_in(tmp_path: Path) -> None:
    assert ArtifactStore(str(tmp_path) + "/").root_uri == str(tmp_path)
    assert ArtifactStore(f"file://{tmp_path}").root_uri == f"file://{tmp_path}"


def test_prepare_output_creates_the_parent_folders(local_store: ArtifactStore) -> None:
    store = local_store
    uri = store.uri_for("run-1", "dag/task", "out")
    path = store.local_path(uri)
    assert not path.parent.exists()
    store.prepare_output(uri)
    assert path.parent.is_dir() and not path.exists()


def test_files_are_read_back(store: ArtifactStore) -> None:
    uri = store.uri_for("run-1", "task", "text")
    assert not store.exists(uri)
    write(store, uri, "héllo\n".encode())
    assert store.exists(uri)
    assert store.read_bytes(uri) == "héllo\n".encode()
    assert store.read_text(uri) == "héllo\n"
    assert store.size(uri) == 7


def test_a_log_is_readable_while_it_is_written(local_store: ArtifactStore) -> None:
    store = local_store
    uri = store.log_uri("run-1", "task", 1)
    store.prepare_output(uri)
    with open(store.local_path(uri), "ab", buffering=0) as log:
        log.write(b"first\n")
        assert store.read_text(uri) == "first\n"
        log.write(b"second\n")
        assert store.read_text(uri) == "first\nsecond\n"


def test_file_digest_is_the_sha256_of_its_content(store: ArtifactStore) -> None:
    uri = store.uri_for("run-1", "task", "data")
    assert store.digest(uri) is None
    write(store, uri, b"abc")
    assert store.digest(uri) == hashlib.sha256(b"abc").hexdigest()
    write(store, uri, b"abd")
    assert store.digest(uri) == hashlib.sha256(b"abd").hexdigest()


def test_folder_digest_covers_names_and_contents(store: ArtifactStore) -> None:
    uri = store.uri_for("run-1", "task", "folder")
    files = {"a.txt": b"one", "sub/b.bin": b"two", "sub/deeper/c": b""}
    for name, data in files.items():
        write(store, f"{uri}/{name}", data)
    first = store.digest(uri)
    assert first is not None and first == store.digest(uri)
    assert store.size(uri) == 6

    write(store, f"{uri}/sub/b.bin", b"twO")  # one byte changed
    changed = store.digest(uri)
    assert changed not in (first, None)

    write(store, f"{uri}/sub/b.bin", b"two")
    assert store.digest(uri) == first  # same content, same digest
    fs, path = open_url(uri)
    fs.mv(f"{path}/sub/b.bin", f"{path}/sub/b2.bin")
    assert store.digest(uri) != first  # a name is part of it


def test_empty_folder_and_empty_file_differ(local_store: ArtifactStore) -> None:
    store = local_store
    folder, file = (store.uri_for("run-1", "task", name) for name in ("folder", "file"))
    store.local_path(folder).mkdir(parents=True)
    write(store, file, b"")
    assert store.digest(folder) != store.digest(file)


def test_delete_run_removes_only_that_run(store: ArtifactStore) -> None:
    kept = store.uri_for("run-2", "task", "x")
    write(store, kept, b"keep")
    for uri in (store.uri_for("run-1", "a/b", "x"), store.log_uri("run-1", "a", 1)):
        write(store, uri, b"gone")
    store.delete_run("run-1")
    assert not store.exists(store.uri_for("run-1", "a/b", "x"))
    assert not store.exists(store.uri_for("run-1", "a", "x").rsplit("/", 2)[0])
    assert store.read_bytes(kept) == b"keep"
    store.delete_run("run-1")  # nothing left: no error


def test_is_within_accepts_both_local_spellings_and_nothing_outside(
    local_store: ArtifactStore, tmp_path: Path
) -> None:
    store = local_store
    uri = store.uri_for("run-1", "task", "x")
    path = str(store.local_path(uri))
    assert store.is_within(uri) and store.is_within(path) and store.is_within(f"file://{path}")
    assert store.is_within(store.root_uri)
    assert not store.is_within(str(tmp_path / "elsewhere"))
    assert not store.is_within(str(tmp_path / "artifacts-other" / "x"))
    assert not store.is_within(f"{store.root_uri}/run-1/../../secret")
    assert not store.is_within("s3://bucket/run-1/task/x")


@pytest.mark.parametrize(
    ("run_id", "task_path", "name"),
    [
        ("", "task", "x"),
        ("..", "task", "x"),
        ("a/b", "task", "x"),
        ("run", "", "x"),
        ("run", "a//b", "x"),
        ("run", "a/../b", "x"),
        ("run", "/abs", "x"),
        ("run", "task", "../x"),
        ("run", "task", ""),
    ],
)
def test_bad_path_segments_are_refused(
    store: ArtifactStore, run_id: str, task_path: str, name: str
) -> None:
    with pytest.raises(StoreError, match=r"cannot be a path segment|task path is empty"):
        store.uri_for(run_id, task_path, name)


def test_reading_what_does_not_exist_names_the_uri(store: ArtifactStore) -> None:
    uri = store.uri_for("run-1", "task", "missing")
    for read in (store.read_bytes, store.read_text, store.size):
        with pytest.raises(NotFound, match=f"{uri}.*does not exist"):
            read(uri)


def test_reading_a_folder_as_a_file_is_an_error(store: ArtifactStore) -> None:
    uri = store.uri_for("run-1", "task", "folder")
    write(store, f"{uri}/a", b"1")
    with pytest.raises(StoreError, match=f"{uri}.*folder"):
        store.read_bytes(uri)


def test_unknown_or_unavailable_protocols_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="nosuch://bucket"):
        ArtifactStore("nosuch://bucket/prefix")
    with pytest.raises(StoreError, match="empty"):
        ArtifactStore("")


def test_remote_uris_have_no_local_path(local_store: ArtifactStore) -> None:
    store = local_store
    # memory:// stands in for an object store: fsspec ships it, with no local paths.
    with pytest.raises(StoreError, match="not supported yet"):
        store.local_path("memory://bucket/run-1/task/x")
    remote = ArtifactStore("memory://dagyard-test-bucket")
    with pytest.raises(StoreError, match="not supported yet"):
        remote.local_path(remote.uri_for("run-1", "task", "x"))


def test_a_remote_root_goes_through_fsspec(tmp_path: Path) -> None:
    import fsspec  # type: ignore[import-untyped]

    remote = ArtifactStore(f"memory://dagyard-{tmp_path.name}")
    uri = remote.uri_for("run-1", "task", "folder")
    with fsspec.open(f"{uri}/a", "wb") as f:
        f.write(b"one")
    remote.prepare_output(uri)  # nothing to create on an object store
    assert remote.exists(uri) and remote.read_bytes(f"{uri}/a") == b"one"
    assert remote.digest(f"{uri}/a") == hashlib.sha256(b"one").hexdigest()
    assert remote.digest(uri) is not None and remote.size(uri) == 3
    remote.delete_run("run-1")
    assert not remote.exists(uri) and remote.digest(uri) is None


def test_a_link_leading_out_of_a_local_root_is_refused_by_every_read(
    local_store: ArtifactStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the store")
    uri = local_store.uri_for("run-1", "task", "out")
    local_store.prepare_output(uri)
    local_store.local_path(local_store.task_uri("run-1", "task")).joinpath("out").symlink_to(secret)
    for read in (
        local_store.read_bytes,
        local_store.exists,
        local_store.digest,
        local_store.size,
        lambda u: local_store.read_range(u, 0, 5),
        lambda u: local_store.read_tail(u, 5),
    ):
        with pytest.raises(StoreError, match="outside the artifact store"):
            read(uri)


def test_a_folder_holding_a_link_out_of_the_root_is_refused(
    local_store: ArtifactStore, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("not for the store")
    uri = local_store.uri_for("run-1", "task", "folder")
    write(local_store, uri + "/part-0", b"0")
    local_store.local_path(uri).joinpath("part-1").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(StoreError, match=r"part-1.*outside the artifact store"):
        local_store.digest(uri)


def test_a_link_inside_the_root_is_followed(local_store: ArtifactStore) -> None:
    target = local_store.uri_for("run-1", "task", "data")
    write(local_store, target, b"inside")
    link = local_store.uri_for("run-1", "task", "alias")
    local_store.local_path(link).symlink_to(local_store.local_path(target))
    assert local_store.read_bytes(link) == b"inside"


def test_leaving_link_names_a_link_out_of_its_folder_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    (folder / "out").mkdir(parents=True)
    (folder / "out" / "file").write_text("x")
    (folder / "out" / "near").symlink_to(folder / "out" / "file")
    assert leaving_link(folder / "out", within=folder) is None
    (folder / "out" / "far").symlink_to("/etc")
    assert leaving_link(folder / "out", within=folder) == (folder / "out" / "far", "/etc")
    assert leaving_link(folder / "missing", within=folder) is None


def test_read_tail_returns_the_last_bytes(store: ArtifactStore) -> None:
    uri = store.log_uri("run-1", "task", 0)
    write(store, uri, b"0123456789")
    assert store.read_tail(uri, 4) == b"6789"
    assert store.read_tail(uri, 100) == b"0123456789"
