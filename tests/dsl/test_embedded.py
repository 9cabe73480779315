"""What `embedded_artifact_path` packs: the same bytes for the same files, whenever and
wherever they are packed (a component's bytes are its cache key), and only the user's
files."""

import base64
import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from dagyard.dsl import embedded
from dagyard.errors import DslError


def _names(packed: embedded.Embedded) -> list[str]:
    data = gzip.decompress(base64.b64decode(packed.archive))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "assets"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("b")
    (folder / "sub" / "a.py").write_text("A = 1\n")
    (folder / "sub" / "__pycache__").mkdir()
    (folder / "sub" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0bytecode")
    return folder


def test_the_same_files_pack_to_the_same_bytes_whatever_their_times(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = embedded.pack(folder, component="c", what="embedded_artifact_path")
    for path in folder.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    assert embedded.pack(folder, component="c", what="embedded_artifact_path") == first
    assert first.file is None


def test_a_folder_packs_its_files_without_bytecode(tmp_path: Path) -> None:
    packed = embedded.pack(_folder(tmp_path), component="c", what="embedded_artifact_path")
    assert _names(packed) == ["b.txt", "sub", "sub/a.py"]


def test_a_file_packs_under_its_own_name_and_is_what_embedded_input_gets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("the\n")
    packed = embedded.pack(path, component="c", what="embedded_artifact_path")
    assert (_names(packed), packed.file) == (["stop.txt"], "stop.txt")


def test_a_folder_too_large_is_refused_naming_the_limit(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(20):
        (folder / f"{i:02}.bin").write_bytes(os.urandom(16 * 1024))
    with pytest.raises(DslError, match=r"'big-model'.*at most 90 KiB") as refused:
        embedded.pack(folder, component="big-model", what="embedded_artifact_path")
    assert str(folder) in str(refused.value)
