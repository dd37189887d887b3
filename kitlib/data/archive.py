"""Unpacking dataset archives (a Kaggle download, a zip on Google Drive) safely, once.

Example:
>>> folder = extract_archive("anime_faces.zip")          # doctest: +SKIP
>>> ds = image_folder(folder, 64)                        # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tarfile
import tempfile
import zipfile

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def is_archive(path: str | os.PathLike) -> bool:
    """True when ``path`` names a zip or tar archive (by its suffix)."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def extract_archive(path: str | os.PathLike, dest: str | os.PathLike | None = None) -> pathlib.Path:
    """Extracts a zip/tar archive next to it (or into ``dest``) and returns the folder; does nothing if done before.

    Members that would land outside the destination (``../`` paths, absolute paths, links) are refused. The
    extraction goes to a temporary folder renamed into place at the end, so an interrupted extraction (a Colab
    disconnect) is redone rather than used half-finished.

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
    tmp = pathlib.Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        root = tmp.resolve()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    _check_member(root, member, path)
                archive.extractall(tmp)
        else:
            try:
                archive = tarfile.open(path)
            except tarfile.TarError as err:
                raise ValueError(f"{path} is not a readable archive ({err}). Re-download it.") from None
            with archive:
                for member in archive.getmembers():
                    if member.issym() or member.islnk():
                        raise ValueError(f"{path} contains a link ({member.name}); refusing to extract it.")
                    _check_member(root, member.name, path)
                archive.extractall(tmp)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _check_member(root: pathlib.Path, member: str, archive: pathlib.Path) -> None:
    target = (root / member).resolve()
    if root != target and root not in target.parents:
        raise ValueError(f"{archive} has a member that would be written outside the folder: {member!r}. Refusing.")
