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
import signal
import threading
import time
from typing import Callable

import keras
import numpy as np

from kitlib.history import read_history  # noqa: F401  (re-exported: train.read_history)
from kitlib.train.checkpoint import Checkpointer, KeepEpochs, prunable_epoch_exports


def _float(value) -> float:
    return float(np.asarray(value))


class BatchTimes(keras.callbacks.Callback):
    """Records ``time.monotonic()`` at the end of every batch in ``times`` (throughput measurements)."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.monotonic())


class StepCounter(keras.callbacks.Callback):
    """Counts finished train steps in ``model.global_step`` (added by ``GANTrainer.fit`` itself)."""

    def on_train_batch_end(self, batch, logs=None):
        self.model.global_step.assign_add(1)


class RunCheckpoint(keras.callbacks.Callback):
    """Checkpoints every ``every_steps`` steps and at each epoch end, and exports the generators each epoch.

    Added by ``GANTrainer.fit(run_dir=...)``. Each epoch also writes ``export/NAME_epoch_0001.keras`` (notebook 01's
    epoch picker) and then deletes the per-epoch exports ``keep_epochs`` (a ``KeepEpochs``) does not keep; None keeps
    none. Non-finite (NaN/inf) weights are neither saved nor exported: training stops and ``refused`` says why
    (``fit`` then raises).
    """

    def __init__(self, checkpointer: Checkpointer, *, every_steps: int | None = None,
                 keep_epochs: KeepEpochs | None = KeepEpochs()):
        super().__init__()
        self.checkpointer = checkpointer
        self.every_steps = every_steps
        self.keep_epochs = keep_epochs
        self.refused: str | None = None

    def _save(self) -> bool:
        if self.refused or not self.checkpointer.weights_finite():
            self.refused = self.refused or f"non-finite (NaN/inf) weights at step {int(self.model.global_step.numpy())}"
            self.model.stop_training = True
            return False
        self.checkpointer.save()
        return True

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps and int(self.model.global_step.numpy()) % self.every_steps == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        if self._save():
            self.export(epoch + 1)

    def export(self, epoch: int) -> None:
        """Exports the generators (latest and, with ``keep_epochs``, ``epoch``'s), records it, then removes the
        per-epoch exports the policy does not keep."""
        model, run_dir = self.checkpointer.trainer, self.checkpointer.run_dir
        model.export(run_dir)
        if self.keep_epochs is not None:
            model.export(run_dir, suffix=f"_epoch_{epoch:04d}")
        self.checkpointer.mark_exported()
        if self.keep_epochs is not None:
            for path in prunable_epoch_exports(run_dir, model.generators(), self.keep_epochs):
                path.unlink()


class CheckpointOnInterrupt(keras.callbacks.Callback):
    """Ctrl-C (SIGINT) during ``fit(run_dir=...)``: training stops after the running step, which Keras then ends like
    an epoch (checkpoint at the exact step, exports, sample grid, history row), and ``interrupted_at`` holds the step
    (``fit`` then raises ``KeyboardInterrupt`` saying how to continue). A second Ctrl-C stops at once. Added last by
    ``Trainer.fit``; only in the main thread, where Python delivers signals."""

    def __init__(self):
        super().__init__()
        self.requested = False
        self.interrupted_at: int | None = None
        self._previous = None

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._request)

    def _request(self, signum, frame):
        if self.requested:  # the second Ctrl-C: at once, as without this callback
            self._restore()
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this step and checkpointing it (Ctrl-C again stops at once, unsaved).",
              flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.requested and self.interrupted_at is None:
            self.interrupted_at = int(self.model.global_step.numpy())
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self._restore()

    def _restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


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
        tmp = self.path.with_name(".history.csv.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.path)


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
        self.message: str | None = None

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
                self.message = (f"NaNGuard: {self.tripped}; training stopped, {where}. "
                                "Try a lower learning rate, another loss, or precision='float32'.")
                print(self.message)
                return


class TensorBoard(keras.callbacks.TensorBoard):
    """``keras.callbacks.TensorBoard`` with a clear error when tensorboard is not installed."""

    def __init__(self, log_dir: str | os.PathLike, **kwargs):
        from kitlib.runtime import check_environment

        check_environment(tensorboard=True)
        super().__init__(log_dir=str(log_dir), **kwargs)


class GANHealth(keras.callbacks.Callback):
    """Flags the three states the seed report (notebook 01) checked by hand, once per epoch.

    - ``equilibrium``: D accuracy on real and on fake both within ``acc_band`` of 50% for ``patience`` epochs
      (D can no longer tell; often the sign that G plateaued, or that training is balanced);
    - ``d_wins``: D loss below ``d_loss_floor`` (D separates perfectly, G gets no useful gradient);
    - ``mode_collapse``: the pairwise diversity of ``model.sample_images()`` falls below ``diversity_floor`` times
      the diversity of the real images.

    Adds ``diversity_ratio`` to the epoch logs (so it lands in history.csv when listed before ``LossHistory``),
    keeps every flag in ``self.flags`` and prints it. ``stop_on`` names flags that stop training.

    Args:
        real_images: a batch of real images (uint8 or [-1, 1]) for the reference diversity.
    """

    FLAGS = ("equilibrium", "d_wins", "mode_collapse")

    def __init__(self, real_images, *, patience: int = 3, acc_band: float = 0.1, d_loss_floor: float = 1e-3,
                 diversity_floor: float = 0.35, stop_on: tuple[str, ...] = ()):
        super().__init__()
        from kitlib.eval.diversity import pairwise_diversity

        unknown = set(stop_on) - set(self.FLAGS)
        if unknown:
            raise ValueError(f"stop_on must name flags among {self.FLAGS}. Received: {sorted(unknown)}")
        self.real_diversity = pairwise_diversity(real_images)
        self.patience, self.acc_band = patience, acc_band
        self.d_loss_floor, self.diversity_floor = d_loss_floor, diversity_floor
        self.stop_on = tuple(stop_on)
        self.flags: list[dict] = []
        self._streak = 0

    def on_epoch_end(self, epoch, logs=None):
        from kitlib.eval.diversity import pairwise_diversity

        logs = logs if logs is not None else {}
        ratio = pairwise_diversity(np.asarray(self.model.sample_images())) / max(self.real_diversity, 1e-8)
        logs["diversity_ratio"] = ratio
        found = []
        acc_real, acc_fake = logs.get("d_acc_real"), logs.get("d_acc_fake")
        if acc_real is not None and acc_fake is not None:
            near = abs(_float(acc_real) - 0.5) <= self.acc_band and abs(_float(acc_fake) - 0.5) <= self.acc_band
            self._streak = self._streak + 1 if near else 0
            if self._streak >= self.patience:
                found.append(("equilibrium", f"D accuracy ~50% on real and fake for {self._streak} epochs"))
        if "d_loss" in logs and _float(logs["d_loss"]) < self.d_loss_floor:
            found.append(("d_wins", f"D loss {_float(logs['d_loss']):.2e} < {self.d_loss_floor}"))
        if ratio < self.diversity_floor:
            found.append(("mode_collapse", f"sample diversity is {ratio:.2f}x that of real images"))
        for flag, why in found:
            self.flags.append({"epoch": epoch + 1, "flag": flag, "why": why})
            print(f"GANHealth epoch {epoch + 1}: {flag} — {why}")
            if flag in self.stop_on:
                self.model.stop_training = True


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``minutes`` of wall-clock time have passed since the callback was made.

    Make it before loading data and building models, so the budget covers the whole run. Training stops after the
    batch that crosses the budget; Keras still ends that epoch's callbacks, so the run directory gets its checkpoint
    (at the exact step), exported generators, sample grid and history row, and a later ``fit`` on the same run
    directory (with more ``epochs``, or another budget) resumes from that step. ``minutes=None`` sets no limit (a
    notebook's ``MINUTES = None``), so a caller can always pass ``TimeBudget(MINUTES)``.

    Example:
    >>> budget = TimeBudget(8)                          # 8 minutes from now
    >>> budget.expired, TimeBudget(None).expired
    (False, False)
    >>> trainer.fit(ds, epochs=1000, run_dir="runs/dcgan", callbacks=[budget])   # doctest: +SKIP
    """

    def __init__(self, minutes: float | None):
        super().__init__()
        import time

        if minutes is not None and not minutes > 0:
            raise ValueError(f"minutes must be > 0, or None for no limit. Received: minutes={minutes!r}")
        self.minutes = None if minutes is None else float(minutes)
        self._clock = time.monotonic
        self.deadline = math.inf if self.minutes is None else self._clock() + 60.0 * self.minutes
        self.stopped_at_step: int | None = None

    @property
    def expired(self) -> bool:
        return self._clock() >= self.deadline

    def on_train_batch_end(self, batch, logs=None):
        if self.stopped_at_step is None and self.expired:
            self.stopped_at_step = int(self.model.global_step.numpy())
            self.model.stop_training = True
            print(f"TimeBudget: {self.minutes:g} min used; stopping at step {self.stopped_at_step} "
                  f"(checkpointed and exported; train again on this run directory to continue).")


class SnapshotClock:
    """A training clock with snapshot marks at ``budgets`` (minutes), for time-to-quality curves (``kitlib.quality``).

    ``tick(step, snapshot)`` after every training step: for each mark the clock has passed, it pauses, calls
    ``snapshot(path)`` (``path`` = ``folder/NNNN.NNmin`` without a suffix; the caller adds its own) and records the
    step and the clock time; the saving time is not counted. It returns True once the last mark is passed: stop.
    Framework-free (the PyTorch anchors tick it too); ``SnapshotCallback`` ticks it from Keras ``fit``.

    Example:
    >>> fake_time = iter([0.0, 40.0, 40.0, 42.0, 70.0, 70.0, 71.0]).__next__   # seconds; each snapshot takes 1-2 s
    >>> clock = SnapshotClock([0.5, 1.0], "/tmp/snapshots", clock=fake_time)
    >>> clock.start()
    >>> clock.tick(1, lambda path: None), clock.tick(2, lambda path: None)
    (False, True)
    >>> [(s["minutes"], s["step"]) for s in clock.snapshots]
    [(0.5, 1), (1.0, 2)]
    """

    def __init__(self, budgets, folder, *, clock: Callable[[], float] = time.monotonic):
        self.marks = sorted(float(b) for b in budgets)
        if not self.marks or self.marks[0] <= 0:
            raise ValueError(f"budgets must be minutes > 0. Received: {budgets!r}")
        self.folder = pathlib.Path(folder)
        self._clock = clock
        self._start: float | None = None
        self._paused = 0.0
        self.snapshots: list[dict] = []

    def start(self) -> None:
        self._start = self._clock()

    def seconds(self) -> float:
        """Training seconds so far (snapshot time excluded)."""
        if self._start is None:
            raise RuntimeError("SnapshotClock.start() was not called")
        return self._clock() - self._start - self._paused

    @property
    def done(self) -> bool:
        return len(self.snapshots) == len(self.marks)

    def tick(self, step: int, snapshot: Callable[[pathlib.Path], object]) -> bool:
        seconds = self.seconds()
        while not self.done and seconds >= 60.0 * self.marks[len(self.snapshots)]:
            minutes = self.marks[len(self.snapshots)]
            paused_at = self._clock()
            path = self.folder / f"{minutes:07.2f}min"
            path.parent.mkdir(parents=True, exist_ok=True)
            snapshot(path)
            self.snapshots.append({"minutes": minutes, "step": int(step), "seconds": seconds, "path": str(path)})
            self._paused += self._clock() - paused_at
        return self.done


class SnapshotCallback(keras.callbacks.Callback):
    """Ticks a ``SnapshotClock`` after every batch of ``fit`` and stops training after its last mark."""

    def __init__(self, clock: SnapshotClock, snapshot: Callable[[pathlib.Path], object]):
        super().__init__()
        self.clock, self.snapshot, self.step = clock, snapshot, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.clock.tick(self.step, self.snapshot):
            self.model.stop_training = True
