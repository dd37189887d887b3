"""Keras callbacks of the training engine: step counting, checkpoints, sample grids, history, NaN/collapse guard.

Example:
>>> cbs = [SampleGrid("runs/dcgan"), LossHistory("runs/dcgan"), NaNGuard()]          # doctest: +SKIP
>>> trainer.fit(ds, epochs=10, run_dir="runs/dcgan", callbacks=cbs)                   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
import os
import pathlib

import keras
import numpy as np

from kitlib.train.checkpoint import Checkpointer


def _float(value) -> float:
    return float(np.asarray(value))


class StepCounter(keras.callbacks.Callback):
    """Counts finished train steps in ``model.global_step`` (added by ``GANTrainer.fit`` itself)."""

    def on_train_batch_end(self, batch, logs=None):
        self.model.global_step.assign_add(1)


class RunCheckpoint(keras.callbacks.Callback):
    """Checkpoints every ``every_steps`` steps and at each epoch end, and exports the generators each epoch.

    Added by ``GANTrainer.fit(run_dir=...)``; ``keep_epoch_generators`` also keeps ``export/NAME_epoch_0001.keras``
    for every epoch (notebook 01's epoch picker).
    """

    def __init__(self, checkpointer: Checkpointer, *, every_steps: int | None = None, keep_epoch_generators: bool = True):
        super().__init__()
        self.checkpointer = checkpointer
        self.every_steps = every_steps
        self.keep_epoch_generators = keep_epoch_generators

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps and int(self.model.global_step.numpy()) % self.every_steps == 0:
            self.checkpointer.save()

    def on_epoch_end(self, epoch, logs=None):
        self.checkpointer.save()
        self.model.export(self.checkpointer.run_dir)
        if self.keep_epoch_generators:
            self.model.export(self.checkpointer.run_dir, suffix=f"_epoch_{epoch + 1:04d}")


class LossHistory(keras.callbacks.Callback):
    """Appends one row per epoch to ``RUN_DIR/history.csv`` (kept across resumes; read by ``viz.plot_history``)."""

    def __init__(self, run_dir: str | os.PathLike):
        super().__init__()
        self.path = pathlib.Path(run_dir) / "history.csv"

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, "step": int(self.model.global_step.numpy())}
        row.update({k: _float(v) for k, v in (logs or {}).items()})
        rows = read_history(self.path) if self.path.exists() else []
        rows = [r for r in rows if int(r["epoch"]) < row["epoch"]] + [row]
        keys = list(dict.fromkeys(k for r in rows for k in r))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.path)


def read_history(path: str | os.PathLike) -> list[dict]:
    """Reads ``history.csv`` (or the one inside a run directory) into a list of dicts of floats."""
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / "history.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]


class SampleGrid(keras.callbacks.Callback):
    """Saves ``model.sample_images()`` as a grid PNG every ``every_epochs`` epochs and shows it inline.

    Args:
        run_dir: grids go to ``RUN_DIR/samples/epoch_0001.png``.
        every_epochs: how often.
        show: display inline when running in IPython/Jupyter.
        ncols: grid columns.
    """

    def __init__(self, run_dir: str | os.PathLike, *, every_epochs: int = 1, show: bool = True, ncols: int = 8):
        super().__init__()
        self.folder = pathlib.Path(run_dir) / "samples"
        self.every_epochs = every_epochs
        self.show = show
        self.ncols = ncols

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs:
            return
        from kitlib import viz

        images = self.model.sample_images()
        path = viz.save_grid(images, self.folder / f"epoch_{epoch + 1:04d}.png", ncols=self.ncols)
        if self.show:
            viz.show_file(path, title=f"epoch {epoch + 1}")


class NaNGuard(keras.callbacks.Callback):
    """Stops training when a reported loss is NaN/inf (or any ``watch`` value exceeds ``max_value``) and restores
    the last good checkpoint, so the run directory never ends on broken weights.

    Args:
        watch: names of logged values to check (default: all).
        max_value: optional bound on the absolute value of watched losses (divergence).
    """

    def __init__(self, *, watch: tuple[str, ...] | None = None, max_value: float | None = None):
        super().__init__()
        self.watch = watch
        self.max_value = max_value
        self.tripped: str | None = None

    def on_train_batch_end(self, batch, logs=None):
        for k, v in (logs or {}).items():
            if self.watch and k not in self.watch:
                continue
            value = _float(v)
            if not math.isfinite(value) or (self.max_value is not None and abs(value) > self.max_value):
                self.tripped = f"{k}={value} at step {int(self.model.global_step.numpy())}"
                self.model.stop_training = True
                checkpointer = getattr(self.model, "checkpointer", None)
                restored = checkpointer.restore() if checkpointer and checkpointer.latest else None
                where = f"restored the checkpoint of step {restored}" if restored is not None else "no checkpoint to restore"
                print(f"NaNGuard: {self.tripped}; training stopped, {where}. "
                      "Try a lower learning rate, another loss, or precision='float32'.")
                return


class TensorBoard(keras.callbacks.TensorBoard):
    """``keras.callbacks.TensorBoard`` with a clear error when tensorboard is not installed."""

    def __init__(self, log_dir: str | os.PathLike, **kwargs):
        from kitlib.runtime import check_environment

        check_environment(tensorboard=True)
        super().__init__(log_dir=str(log_dir), **kwargs)
