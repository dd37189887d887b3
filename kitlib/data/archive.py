"""Unpacking dataset archives (a Kaggle download, a zip on Google Drive) safely, once.

Example:
>>> folder = extract_archive("anime_faces.zip")          # doctest: +SKIP
>>> ds = image_folder(folder, 64)                        # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
import secrets
import shutil
import tarfile
import zipfile

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def is_archive(path: str | os.PathLike) -> bool:
    """True when ``path`` names a zip or tar archive (by its suffix)."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def extract_archive(path: str | os.PathLike, dest: str | os.PathLike | None = None) -> pathlib.Path:
    """Extracts a zip/tar archive next to it (or into ``dest``) and returns the folder; does nothing if done before.

    Only regular files and folders are extracted, as new files (0644/0755 under the usual umask: the archive's
    setuid/setgid/sticky bits, modes and owners are not restored), like Python's ``tarfile`` ``filter="data"``
    but on every supported Python. Members that would land outside the destination (``../`` paths, absolute paths), links,
    devices and FIFOs are refused, and so is an archive whose members' declared sizes add up to more than the free
    space where it would unpack (a zip bomb), before anything is written. The extraction goes to a temporary folder
    renamed into place at the end, so an interrupted extraction (a Colab disconnect) is redone rather than used
    half-finished.

    Args:
        path: the archive.
        dest: target folder (default: the archive path without its suffix).

    Returns:
        The folder holding the extracted files.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Archive {path} does not exist. Check the path (in Colab, mount Drive first).")
    if not is_archive(path):
        raise ValueError(f"{path} is not a supported archive ({', '.join(ARCHIVE_SUFFIXES)}).")
    name = path.name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    dest = pathlib.Path(dest) if dest is not None else path.with_name(name)
    if dest.is_dir() and any(dest.iterdir()):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}")  # not mkdtemp: the folder gets 0755, not 0700
    tmp.mkdir()
    try:
        root = tmp.resolve()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    _check_member(root, member, path)
                _check_space(path, sum(info.file_size for info in archive.infolist()), tmp)
                archive.extractall(tmp)  # zipfile reads no member past its declared size
        else:
            try:
                archive = tarfile.open(path)
            except tarfile.TarError as err:
                raise ValueError(f"{path} is not a readable archive ({err}). Re-download it.") from None
            with archive:
                _extract_tar(archive, root, path)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _extract_tar(archive: tarfile.TarFile, root: pathlib.Path, path: pathlib.Path) -> None:
    """Writes the regular files and folders of ``archive`` under ``root`` (refusing anything else) with plain modes."""
    members = archive.getmembers()
    for member in members:  # every member is checked before the first byte is written
        if not (member.isfile() or member.isdir()):
            kind = "a link" if member.issym() or member.islnk() else "a device, FIFO or other special file"
            raise ValueError(f"{path} contains {kind} ({member.name}); kitlib extracts regular files and folders only. "
                             "Refusing to extract it.")
        _check_member(root, member.name, path)
    _check_space(path, sum(member.size for member in members), root)
    for member in members:
        target = root / member.name
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.extractfile(member) as src, open(target, "wb") as dst:  # modes of new files (umask)
            shutil.copyfileobj(src, dst)


def _check_space(archive: pathlib.Path, size: int, folder: pathlib.Path) -> None:
    """Raises ``OSError`` naming the archive when ``size`` bytes (its members' declared sizes) exceed the free space
    of the disk holding ``folder``."""
    free = shutil.disk_usage(folder).free
    if size > free:
        raise OSError(f"{archive} would unpack to {size / 1e6:.1f} MB, but only {free / 1e6:.1f} MB are free on "
                      f"the disk of {folder.parent}; nothing was extracted. Free disk space, or extract it elsewhere with "
                      "extract_archive(path, dest=FOLDER) on a larger disk (a huge size for a small archive: a zip "
                      "bomb; delete it).")


def _check_member(root: pathlib.Path, member: str, archive: pathlib.Path) -> None:
    target = (root / member).resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"{archive} has a member that would be written outside the folder: {member!r}. Refusing.")
