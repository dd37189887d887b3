"""Dataset archives: zip/tar extraction, idempotence, and refusal of paths escaping the folder."""

import io
import stat
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


def _tar_with(path, *members):
    with tarfile.open(path, "w") as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_special_files_are_refused(tmp_path, kind):
    good = tarfile.TarInfo("data/a.txt")
    good.size = 2
    special = tarfile.TarInfo("data/special")
    special.type, special.devmajor, special.devminor, special.linkname = kind, 1, 3, "data/a.txt"
    path = _tar_with(tmp_path / "evil.tar", (good, b"hi"), (special, None))
    with pytest.raises(ValueError, match="regular files and folders only"):
        extract_archive(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar"]


def test_mode_bits_of_the_archive_are_not_restored(tmp_path):
    folder = tarfile.TarInfo("data")
    folder.type, folder.mode = tarfile.DIRTYPE, 0o1777
    setuid = tarfile.TarInfo("data/tool")
    setuid.size, setuid.mode = 2, 0o6777
    path = _tar_with(tmp_path / "modes.tar", (folder, None), (setuid, b"hi"))
    out = extract_archive(path)
    mode = stat.S_IMODE((out / "data" / "tool").stat().st_mode)
    assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_IWGRP | stat.S_IWOTH) and mode & stat.S_IRUSR
    assert not stat.S_IMODE((out / "data").stat().st_mode) & (stat.S_ISVTX | stat.S_IWOTH)
    assert not stat.S_IMODE(out.stat().st_mode) & stat.S_IWOTH and stat.S_IMODE(out.stat().st_mode) & stat.S_IROTH
    assert (out / "data" / "tool").read_bytes() == b"hi"


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_larger_than_the_free_space_is_refused_first(tmp_path, monkeypatch, kind):
    """issue 28: a zip bomb no longer fills the disk before failing: declared sizes are checked against free space."""
    import collections

    from kitlib.data import archive as archive_module

    path = tmp_path / f"bomb.{kind}"
    payload = tmp_path / "zeros.bin"
    payload.write_bytes(bytes(3_000_000))
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(payload, "a/zeros.bin")
    else:
        with tarfile.open(path, "w:gz") as tar:
            tar.add(payload, "a/zeros.bin")
    payload.unlink()
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(archive_module.shutil, "disk_usage", lambda folder: usage(10**9, 10**9 - 1_000_000, 1_000_000))
    with pytest.raises(OSError, match=r"bomb\.(zip|tar\.gz) would unpack to 3\.0 MB.*only 1\.0 MB"):
        archive_module.extract_archive(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing written
