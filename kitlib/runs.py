"""``python -m kitlib runs [ROOT]``: the run directories under a folder, their size, method, steps and status, and
a safe way to make them smaller (``--prune``).

Pruning removes only what kitlib wrote and can do without: the per-epoch exports ``export/NAME_epoch_NNNN.keras``
that the keep policy (``kitlib.train.checkpoint.KeepEpochs``: the first, every 5th and the last 3 epochs by default)
does not keep, and the checkpoints older than the newest (kept only when the newest is readable). Never the latest export
``NAME.keras``, samples, history or any other file, never through a symbolic link, never in a run that a process
is training into. It is a dry run unless ``apply=True`` (``--yes``).

Example:
>>> import tempfile; find_runs(tempfile.mkdtemp())
[]
>>> print(format_table([]))        # doctest: +NORMALIZE_WHITESPACE
RUN  SIZE  METHOD  STEPS  STATUS
0 runs, 0.0 MB
"""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass

from kitlib.method import UNTIL_BUDGET_EPOCHS
from kitlib.train.checkpoint import (CHECKPOINT_DIR, CONFIG_FILE, META_FILE, KeepEpochs, prunable_checkpoints,
                                     prunable_epoch_exports, read_json, remove_old_checkpoints)
from kitlib.train.run_dir import RunLock, folder_size, format_size, is_kitlib_run, is_locked


@dataclass
class RunSummary:
    """One run directory as ``kitlib runs`` lists it. ``planned`` is None when unknown (a time-budget run)."""

    path: pathlib.Path
    size: int
    method: str
    step: int
    planned: int | None
    status: str  # "complete", "incomplete", "stopped" (exported, length unknown) or "training"


def find_runs(root: str | os.PathLike) -> list[pathlib.Path]:
    """The kitlib run directories at or under ``root``, sorted (linked folders are not entered).

    Raises:
        FileNotFoundError: when ``root`` is not a folder.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder. Pass the folder holding your run directories (default: "
                                "runtime.run_root(), 'runs' here).")
    found = []
    for folder, subfolders, _ in os.walk(root):
        if is_kitlib_run(folder):
            found.append(pathlib.Path(folder))
            subfolders.clear()  # a run's own folders hold no runs
        else:
            subfolders.sort()
    return sorted(found)


def _json(path: pathlib.Path) -> dict:
    try:
        value = read_json(path)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def summarize(run_dir: str | os.PathLike) -> RunSummary:
    """Size, method, steps done and planned, and status of a run directory, read from its files."""
    run_dir = pathlib.Path(run_dir)
    config, meta = _json(run_dir / CONFIG_FILE), _json(run_dir / META_FILE)
    step = int(meta.get("step") or 0)
    steps_per_epoch = (meta.get("identity") or {}).get("steps_per_epoch")
    planned = config.get("planned_steps")
    if planned is None and steps_per_epoch and config.get("epochs"):
        planned = config["epochs"] * steps_per_epoch
    if planned is not None and steps_per_epoch and planned >= UNTIL_BUDGET_EPOCHS * steps_per_epoch:
        planned = None  # a time-budget run: its length is its budget
    exported = step > 0 and meta.get("exported_step") == step
    if is_locked(run_dir):
        status = "training"
    elif exported and planned is not None and step >= planned:
        status = "complete"
    else:
        status = "stopped" if exported and planned is None else "incomplete"
    return RunSummary(run_dir, folder_size(run_dir), config.get("method") or config.get("trainer") or "?", step,
                      planned, status)


def format_table(summaries: list[RunSummary], root: str | os.PathLike = ".") -> str:
    """The listing ``kitlib runs`` prints: one line per run (its path relative to ``root``) and a total."""
    root = pathlib.Path(root)
    rows = [("RUN", "SIZE", "METHOD", "STEPS", "STATUS")]
    for s in summaries:
        name = str(s.path.relative_to(root)) if s.path != root and root in s.path.parents else str(s.path)
        rows.append((name, format_size(s.size), s.method, f"{s.step}/{s.planned if s.planned else '?'}", s.status))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    total = sum(s.size for s in summaries)
    lines.append(f"{len(summaries)} run{'' if len(summaries) == 1 else 's'}, {format_size(total)}")
    return "\n".join(lines)


def prunable(run_dir: str | os.PathLike, keep: KeepEpochs) -> tuple[list[pathlib.Path], list[pathlib.Path]]:
    """``(exports, checkpoints)``: what ``prune`` would delete in ``run_dir``, the per-epoch exports of its
    generators (``config.json``) that ``keep`` does not keep and the files of the checkpoints older than the newest.

    Raises:
        ValueError: when the run cannot be pruned safely (its ``config.json`` unreadable, ``export/`` or
            ``checkpoints/`` a symbolic link).
    """
    run_dir = pathlib.Path(run_dir)
    names = read_json(run_dir / CONFIG_FILE).get("generators") or {}
    return prunable_epoch_exports(run_dir, names, keep), prunable_checkpoints(run_dir / CHECKPOINT_DIR)


def prune(run_dir: str | os.PathLike, keep: KeepEpochs, *, apply: bool = False) -> list[tuple[pathlib.Path, int]]:
    """``(path, bytes)`` of what ``prunable`` names; deleted only with ``apply=True``, holding the run's lock (so no
    training starts meanwhile). Raises ``ValueError`` (see ``prunable``) or ``RuntimeError`` (a process trains into
    the run)."""
    run_dir = pathlib.Path(run_dir)
    if not apply:
        if is_locked(run_dir):
            raise RuntimeError(f"{run_dir} is in use by a training process; prune it once training has stopped.")
        return [(path, path.lstat().st_size) for files in prunable(run_dir, keep) for path in files]
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        exports, checkpoints = prunable(run_dir, keep)
        removed = [(path, path.lstat().st_size) for path in exports + checkpoints]
        for path in exports:
            path.unlink()
        remove_old_checkpoints(run_dir / CHECKPOINT_DIR)
    finally:
        lock.release()
    return removed


def list_runs(root: str | os.PathLike, *, prune_keep: KeepEpochs | None = None, apply: bool = False) -> str:
    """The text of ``python -m kitlib runs ROOT``: the table and, with ``prune_keep``, what pruning frees (or would
    free: a dry run unless ``apply``)."""
    runs = find_runs(root)
    text = [format_table([summarize(run) for run in runs], root)]
    if prune_keep is None:
        return "\n".join(text)
    freed = 0
    for run in runs:
        try:
            files = prune(run, prune_keep, apply=apply)
        except (ValueError, RuntimeError) as err:
            text.append(f"{run}: skipped ({err})")
            continue
        for path, size in files:
            text.append(f"{'removed' if apply else 'would remove'} {path.relative_to(run.parent)}  {format_size(size)}")
        freed += sum(size for _, size in files)
    if apply:
        text.append(f"Freed {format_size(freed)}.")
    else:
        text.append(f"Would free {format_size(freed)} (keeping {prune_keep}). Nothing was deleted: pass --yes to "
                    "delete.")
    return "\n".join(text)
