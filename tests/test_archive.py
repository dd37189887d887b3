"""Dataset archives: zip/tar extraction, idempotence, and refusal of paths escaping the folder."""

import tarfile
import zipfile

import pytest

from kitlib.data.archive import extract_archive, is_archive


def test_zip_is_extracted_once(tmp_path):
    path = tmp_path / "faces.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("faces/a.png", b"not really a png")
    folder = extract_archive(path)
    assert folder == tmp_path / "faces" and (folder / "faces" / "a.png").exists()
    (folder / "faces" / "a.png").write_bytes(b"changed")
    assert extract_archive(path) == folder and (folder / "faces" / "a.png").read_bytes() == b"changed"


def test_tar_gz(tmp_path):
    src = tmp_path / "x.txt"
    src.write_text("hi")
    path = tmp_path / "data.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        t.add(src, arcname="inner/x.txt")
    assert is_archive(path)
    assert (extract_archive(path, tmp_path / "out") / "inner" / "x.txt").read_text() == "hi"


def test_path_traversal_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../escape.txt", b"x")
    with pytest.raises(ValueError, match="outside the folder"):
        extract_archive(path)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "evil").exists()


def test_missing_and_wrong_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        extract_archive(tmp_path / "nope.zip")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="not a supported archive"):
        extract_archive(tmp_path / "a.txt")
