"""Run directories you can trust: one training process at a time, only kitlib's own folders, leftovers cleaned.

``Trainer.fit(run_dir=...)`` calls ``open_run_dir`` before it writes anything: the folder must be empty, missing
or a kitlib run; ``RUN_DIR/.kitlib.lock`` (held with ``flock``, naming the owner's pid and host) keeps a second
process out, and a lock left by a killed process is taken over; ``resume=False`` moves an old run aside first;
temporary files of an interrupted write are removed.

Example:
>>> lock = open_run_dir("runs/dcgan")      # doctest: +SKIP
>>> lock.release()                         # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime
import fcntl
import hashlib
import json
import os
import pathlib
import socket
import time
from typing import Iterable

from kitlib.history import HISTORY_FILE, read_history
from kitlib.train.checkpoint import (CHECKPOINT_DIR, CONFIG_FILE, EXPORT_DIR, META_FILE, read_json,
                                     remove_partial_checkpoints)

LOCK_FILE = ".kitlib.lock"
LOCK_FRESH_SECONDS = 600  # a lock of another host refreshed this recently is that host's training (RunLock.refresh)
SAMPLES_DIR = "samples"


def is_kitlib_run(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder kitlib trained into (``kitlib_meta.json``, a kitlib ``config.json``, or only
    its lock file).

    Example:
    >>> import tempfile; is_kitlib_run(tempfile.mkdtemp())
    False
    """
    path = pathlib.Path(path)
    if (path / META_FILE).is_file():
        return True
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [p.name for p in path.iterdir()] == [LOCK_FILE] if path.is_dir() else False
    return isinstance(config, dict) and {"trainer", "kind", "generators"} <= set(config)


def check_run_dir(path: str | os.PathLike) -> pathlib.Path:
    """Raises a ``ValueError`` naming the fix unless ``path`` is missing, an empty folder or a kitlib run.

    Example:
    >>> import tempfile; check_run_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is a file, not a folder. Pass the path of a new folder (kitlib creates it).")
    if path.is_dir() and any(path.iterdir()) and not is_kitlib_run(path):
        names = sorted(p.name for p in path.iterdir())
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ValueError(f"--out {path} is not empty ({shown}) and is not a kitlib run directory; kitlib only writes "
                         "into an empty folder or its own run. Pass another --out (a new folder).")
    return path


def check_not_inside(out: str | os.PathLike, data: str | os.PathLike) -> None:
    """Refuses a run directory inside the training data (its sample grids would become training images).

    Example:
    >>> check_not_inside("runs/a", "data/faces")
    """
    out, data = pathlib.Path(out).resolve(), pathlib.Path(data).resolve()
    if data.is_dir() and (out == data or data in out.parents):
        raise ValueError(f"--out {out} is inside --data {data}: its sample grids and exports would become training "
                         "images on the next run. Pass an --out outside the data folder.")


class RunLock:
    """An exclusive lock on a run directory: ``RUN_DIR/.kitlib.lock``, held with ``flock`` (released by the kernel
    when the process dies, so a stale lock is taken over) and holding the owner's pid and host for the message.

    ``flock`` does not reach across machines (a run directory on a drive two machines share), so the holder also
    refreshes the file's time (``refresh``) while it trains, and a lock naming another host is refused while it was
    refreshed within ``LOCK_FRESH_SECONDS``; an older one is taken over, and that is said.

    Example:
    >>> import tempfile; lock = RunLock(tempfile.mkdtemp()); lock.acquire(); lock.release()
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.path = pathlib.Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock; raises ``RuntimeError`` naming the owner when another process holds it."""
        while True:
            try:  # never through a link: the lock's JSON would land in the file it points to
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
            except OSError as err:
                if self.path.is_symlink():
                    raise _link_error(self.path) from None
                raise err
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 4096).decode("utf-8", "replace")
                os.close(fd)
                try:
                    owner = "pid {pid} on {host}, since {since}".format(**json.loads(owner))
                except (ValueError, KeyError, TypeError):
                    owner = "owner unknown"
                raise RuntimeError(f"{self.path.parent} is in use by another training process ({owner}). Wait for "
                                   "it to finish or stop it, or pass another --out.") from None
            try:  # the previous owner may have deleted the file between our open and flock: lock the current one
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        try:
            self._check_other_host(fd)
        except BaseException:
            os.close(fd)
            raise
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "since": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(owner).encode())
        self._fd = fd

    def _check_other_host(self, fd: int) -> None:
        """Refuses the lock another host refreshed within ``LOCK_FRESH_SECONDS``; says so when taking over an older
        one."""
        try:
            previous = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            host = previous["host"]
        except (ValueError, KeyError, TypeError):
            return
        if host == socket.gethostname():
            return
        age = time.time() - os.fstat(fd).st_mtime
        owner = f"pid {previous.get('pid')} on {host}"
        if age < LOCK_FRESH_SECONDS:
            raise RuntimeError(f"{self.path.parent} is in use by {owner} (lock refreshed {age:.0f} s ago): another "
                               "machine may be training into this folder (a shared drive). Wait for it to finish or "
                               f"stop it; if it no longer trains, delete {self.path} and rerun, or pass another --out.")
        print(f"Took over the lock of {owner}, not refreshed for {age / 60:.0f} min (that run has stopped).")

    def refresh(self) -> None:
        """Sets the lock file's time to now: tells other machines sharing the folder that this run is alive."""
        if self._fd is not None:
            os.utime(self._fd)

    def release(self) -> None:
        """Deletes the lock file and releases the lock (nothing when not held)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


def is_locked(run_dir: str | os.PathLike) -> bool:
    """True while a process holds the run directory's lock (trains into it); reads, never takes the lock.

    Example:
    >>> import tempfile; is_locked(tempfile.mkdtemp())
    False
    """
    try:
        fd = os.open(pathlib.Path(run_dir) / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # no lock file (or a link: never a lock kitlib holds)
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _link_error(path: pathlib.Path) -> ValueError:
    return ValueError(f"{path} is a symbolic link (to {os.readlink(path)}); kitlib never follows links inside a run "
                      "directory, so it would not write there. Remove the link (what it points to stays) or pass "
                      "another --out.")


def check_run_files(run_dir: str | os.PathLike) -> None:
    """Raises a ``ValueError`` naming the file and the fix, before training starts, when what kitlib would write or
    read in a run directory is a symbolic link, a file where a folder belongs (``samples``, ``export``,
    ``checkpoints``), a ``config.json``/``kitlib_meta.json`` that is not a JSON object, or a ``history.csv`` that
    cannot be read.

    Example:
    >>> import tempfile; check_run_files(tempfile.mkdtemp())
    """
    run_dir = pathlib.Path(run_dir)
    folders = (CHECKPOINT_DIR, EXPORT_DIR, SAMPLES_DIR)
    for name in (LOCK_FILE, CONFIG_FILE, META_FILE, HISTORY_FILE, *folders):
        path = run_dir / name
        if path.is_symlink():
            raise _link_error(path)
        if name in folders and path.exists():
            if not path.is_dir():
                raise ValueError(f"{path} is a file, but kitlib keeps its {name} in a folder of that name. Move the "
                                 "file elsewhere, or pass another --out.")
            for inner in path.iterdir():
                if inner.is_symlink():
                    raise _link_error(inner)
    for name in (CONFIG_FILE, META_FILE):
        if (run_dir / name).exists() and not isinstance(read_json(run_dir / name), dict):
            raise ValueError(f"{run_dir / name} does not hold a JSON object. Restore it from a backup, or pass "
                             "--no-resume to start over (the run is moved aside, not deleted).")
    history = run_dir / HISTORY_FILE
    if history.exists():
        try:
            rows = read_history(history)
        except (ValueError, OSError, csv.Error) as err:
            raise ValueError(f"{history} cannot be read as a table of numbers ({err}). Move it elsewhere (kitlib "
                             "writes a new one) or restore it from a backup.") from None
        if rows and not all("epoch" in row for row in rows):
            raise ValueError(f"{history} has rows without an epoch. Move it elsewhere (kitlib writes a new one) or "
                             "restore it from a backup.")


def clean_leftovers(run_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Removes the temporary files of writes a killed process left in a run directory (``.NAME.*.tmp``,
    ``.NAME.tmp.keras``, TensorFlow's ``ckpt-N_temp`` folders); returns them. Call it holding the run's lock."""
    run_dir = pathlib.Path(run_dir)
    removed = remove_partial_checkpoints(run_dir / CHECKPOINT_DIR)
    for path in run_dir.rglob(".*"):
        if path.is_file() and (path.name.endswith(".tmp") or path.name.endswith(".tmp.keras")):
            path.unlink()
            removed.append(path)
    return removed


def folder_size(path: str | os.PathLike) -> int:
    """Bytes of the files under ``path`` (links are counted as links, never followed).

    Example:
    >>> import tempfile; folder_size(tempfile.mkdtemp())
    0
    """
    total = 0
    for folder, _, files in os.walk(path):  # os.walk does not enter linked folders
        total += sum(os.lstat(os.path.join(folder, name)).st_size for name in files)
    return total


def format_size(size: int) -> str:
    """``size`` bytes in MB (GB from 1 GB on), as ``kitlib runs`` prints them.

    Example:
    >>> format_size(12_345_678), format_size(2_500_000_000)
    ('12.3 MB', '2.50 GB')
    """
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def size_report(run_dir: str | os.PathLike) -> str:
    """One line: the run directory's size and that of its ``export/`` and ``checkpoints/`` (printed by ``fit``).

    Example:
    >>> import tempfile; size_report(tempfile.mkdtemp()).endswith("0.0 MB (export/ 0.0 MB, checkpoints/ 0.0 MB).")
    True
    """
    run_dir = pathlib.Path(run_dir)
    parts = ", ".join(f"{name}/ {format_size(folder_size(run_dir / name))}" for name in (EXPORT_DIR, CHECKPOINT_DIR))
    return f"Run directory {run_dir}: {format_size(folder_size(run_dir))} ({parts})."


def move_aside(run_dir: str | os.PathLike) -> pathlib.Path:
    """Renames ``run_dir`` to a free ``NAME.old-YYYYmmdd-HHMMSS`` next to it and returns the new path."""
    run_dir = pathlib.Path(run_dir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = run_dir.with_name(f"{run_dir.name}.old-{stamp}"), 1
    while target.exists():
        n += 1
        target = run_dir.with_name(f"{run_dir.name}.old-{stamp}-{n}")
    os.rename(run_dir, target)
    return target


def open_run_dir(run_dir: str | os.PathLike, *, resume: bool = True) -> RunLock:
    """Checks, locks and prepares ``run_dir`` for training; returns the held ``RunLock`` (release it when done).

    Refuses a file or a folder that is neither empty nor a kitlib run, and a run whose files are links or damaged
    (``check_run_files``); with ``resume=False`` a previous run is moved aside (``NAME.old-DATE``, printed) so the new one starts clean; temporary files left by a killed
    process are removed.
    """
    run_dir = check_run_dir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        if not resume and any(p.name != LOCK_FILE for p in run_dir.iterdir()):
            old = move_aside(run_dir)  # our lock moves with it, so nobody starts in the old run meanwhile
            lock.path = old / LOCK_FILE
            run_dir.mkdir(exist_ok=True)
            new = RunLock(run_dir)
            new.acquire()
            lock.release()
            lock = new
            print(f"Started a new run in {run_dir}; the previous one was moved to {old}.")
        check_run_files(run_dir)
        clean_leftovers(run_dir)
    except BaseException:
        lock.release()
        raise
    return lock


# data folders up to this size also get a hash of their contents (reading 64 MB takes well under a second from a
# local disk, a few seconds from Colab's Drive); larger ones are fingerprinted by names and sizes only
CONTENT_HASH_MAX_BYTES = 64 * 2**20


def files_identity(files: Iterable[str | os.PathLike], root: str | os.PathLike, *,
                   content_max_bytes: int = CONTENT_HASH_MAX_BYTES) -> dict:
    """``{"num_files", "files_sha256"[, "content_sha256"]}`` of a list of data files: the count, a hash of their
    paths (relative to ``root``) and sizes, and, when they hold at most ``content_max_bytes`` together, a hash of
    their bytes, so that resuming on other or changed files is refused (an image edited in place keeping its size
    is caught in small folders only).

    Example:
    >>> files_identity([], ".")
    {'num_files': 0, 'files_sha256': 'e3b0c44298fc1c14', 'content_sha256': 'e3b0c44298fc1c14'}
    """
    root = pathlib.Path(root).resolve()
    names, content = hashlib.sha256(), hashlib.sha256()
    paths = sorted(pathlib.Path(f).resolve() for f in files)
    sizes = [path.stat().st_size for path in paths]
    for path, size in zip(paths, sizes):
        name = path.relative_to(root).as_posix() if root in path.parents else path.as_posix()
        names.update(f"{name}\0{size}\n".encode())
    identity = {"num_files": len(paths), "files_sha256": names.hexdigest()[:16]}
    if sum(sizes) <= content_max_bytes:
        for path in paths:
            content.update(hashlib.sha256(path.read_bytes()).digest())
        identity["content_sha256"] = content.hexdigest()[:16]
    return identity


def data_paths(spec: str | None) -> list[pathlib.Path]:
    """The folders/files a data spec names: a folder, an archive, ``A,B`` folder pairs, ``inpaint:FOLDER``; none for
    ``toy:`` (embedded) data.

    Example:
    >>> data_paths("toy:faces")
    []
    """
    if not spec or spec.startswith("toy:"):
        return []
    spec = spec[len("inpaint:"):] if spec.startswith("inpaint:") else spec
    return [pathlib.Path(part).resolve() for part in spec.split(",") if part]


def data_identity(spec: str | None, info: dict | None = None) -> dict:
    """What a run trains on, for ``fit(..., run_info={"data": data_identity(DATA), ...})``: ``info`` (default:
    ``{"source": spec}``) plus the count and fingerprint of the files behind ``spec`` (hidden files ignored;
    ``files_identity``: names and sizes, and the bytes too up to 64 MB), so that resuming on other or changed data
    is refused. ``toy:`` specs get no file fingerprint (their images are a
    function of the spec, count and seed, which belong in ``info``).

    Example:
    >>> data_identity("toy:faces", {"source": "toy:faces", "num_images": 64})
    {'source': 'toy:faces', 'num_images': 64}
    """
    info = dict(info) if info is not None else {"source": spec}
    paths = data_paths(spec)
    if not paths:
        return info
    files = [f for p in paths for f in (p.rglob("*") if p.is_dir() else [p])
             if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p.parent).parts)]
    return {**info, **files_identity(files, os.path.commonpath([p.parent for p in paths]))}


def run_info(data, info: dict | None = None, *, batch_size: int, **settings) -> dict:
    """``fit(..., run_info=run_info(DATA, batch_size=BATCH_SIZE, image_size=IMAGE_SIZE))``: what a run trains on,
    written to ``RUN_DIR/config.json``. Its data (``data_identity``: the spec and a fingerprint of the files behind
    it) and batch size are part of the run's identity: resuming on other data or with another batch size is refused
    with a ``RunMismatchError`` naming both values.

    Args:
        data: the data spec (``None`` for a notebook's embedded data, ``"toy:faces"``, a folder, an archive, ``A,B``
            folders, or a tuple of folders).
        info: the loader's description of the data (default: ``{"source": data}``).
        batch_size: the batch size.
        **settings: other settings to record (``image_size=...``).

    Example:
    >>> run_info("toy:faces", batch_size=64, image_size=32)
    {'data': {'source': 'toy:faces'}, 'batch_size': 64, 'image_size': 32}
    """
    if isinstance(data, (tuple, list)):
        data = ",".join(str(part) for part in data)
    elif isinstance(data, os.PathLike):
        data = os.fspath(data)
    return {"data": data_identity(data, info), "batch_size": batch_size, **settings}
