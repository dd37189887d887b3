"""Reading a run directory's ``history.csv`` (one row per epoch: ``epoch``, ``step`` and every logged value).

Bottom layer (no kitlib imports): ``train.LossHistory`` writes the file, ``viz.plot_history`` and notebooks read it.

Example:
>>> import pathlib, tempfile
>>> run = pathlib.Path(tempfile.mkdtemp())
>>> _ = (run / "history.csv").write_text("epoch,step,g_loss\\n1,10,0.5\\n2,20,\\n")
>>> read_history(run)
[{'epoch': 1.0, 'step': 10.0, 'g_loss': 0.5}, {'epoch': 2.0, 'step': 20.0}]
"""

from __future__ import annotations

import csv
import os
import pathlib

HISTORY_FILE = "history.csv"


def read_history(path: str | os.PathLike) -> list[dict]:
    """Reads ``history.csv`` (or the one inside a run directory) into a list of dicts of floats (empty cells left out)."""
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / HISTORY_FILE
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


__all__ = ["HISTORY_FILE", "read_history"]
