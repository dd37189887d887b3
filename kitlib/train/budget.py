"""Training for a time budget: ``MINUTES = N`` (``--minutes N``) means N minutes of training, not an epoch count.

``budget_epochs(EPOCHS, MINUTES)`` gives ``fit`` its epochs: ``EPOCHS`` without a budget, else
``UNTIL_BUDGET_EPOCHS`` (more than any budget holds), so the ``TimeBudget`` among the callbacks ends the run.
``fit_for_budget`` is ``fit`` for a trainer whose learning-rate schedule depends on the run's length (CycleGAN's
linear decay): with a budget it first measures how many epochs fit, then compiles the schedule for them. The
notebooks and ``kitlib.recipes`` (``python -m kitlib train ... --minutes N``) both use them.

Example:
>>> budget_epochs(6, None), budget_epochs(6, 20)
(6, 100000)
"""

from __future__ import annotations

import pathlib
import time
from typing import Callable

import keras

from kitlib.method import UNTIL_BUDGET_EPOCHS
from kitlib.train.callbacks import TimeBudget
from kitlib.train.checkpoint import CONFIG_FILE, read_json


def budget_epochs(epochs: int, minutes: float | None) -> int:
    """The epochs to give ``fit``: ``epochs`` when ``minutes`` is None, else ``UNTIL_BUDGET_EPOCHS``, so that a
    ``TimeBudget(minutes)`` ends the run after ``minutes`` of training, whatever epoch count a profile chose.

    Example:
    >>> budget_epochs(6, None), budget_epochs(6, 0.5) == UNTIL_BUDGET_EPOCHS
    (6, True)
    """
    return epochs if minutes is None else UNTIL_BUDGET_EPOCHS


def saved_epochs(run_dir) -> int | None:
    """The epochs a run directory was planned or started with (``budget_plan``, else ``epochs`` of config.json),
    None for a new run or a budget run stopped before its plan was made.

    Example:
    >>> saved_epochs("runs/no_such_run") is None
    True
    """
    path = pathlib.Path(run_dir) / CONFIG_FILE
    if not path.exists() or not (pathlib.Path(run_dir) / "checkpoints").exists():
        return None
    config = read_json(path)
    if "budget_plan" in config:
        return config["budget_plan"].get("epochs")
    return config.get("epochs")


def plan_epochs(epochs_done: int, seconds_per_epoch: float, seconds_left: float, restart_seconds: float) -> int:
    """The epochs that fit in a budget run in all: the ``epochs_done`` + the whole epochs that fit in what is left of
    the budget once a new ``fit`` has started (``restart_seconds``: a start-up, tracing included).

    Example:
    >>> plan_epochs(3, 60.0, 600.0, 20.0), plan_epochs(3, 60.0, 30.0, 20.0)
    (12, 3)
    """
    return epochs_done + max(0, int((seconds_left - restart_seconds) // seconds_per_epoch))


class _ConstantHalf(keras.callbacks.Callback):
    """The first half of a budget run: the learning rate is constant there whatever the run's length, so the run
    trains on, measures its epochs (the first one, which traces, left out) and stops once the epochs done are the
    constant half of all the epochs that fit; ``epochs`` is then the plan (``epochs - epochs // 2 == epochs
    done``), None if the budget or another callback stopped it first."""

    def __init__(self, budget: TimeBudget, steps_per_epoch: int):
        super().__init__()
        self.budget, self.steps_per_epoch = budget, steps_per_epoch
        self.started, self.first_batch, self.epoch_ends = time.monotonic(), None, []
        self.epochs, self.per_epoch = None, None

    def on_train_batch_end(self, batch, logs=None):
        if self.first_batch is None:
            self.first_batch = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(time.monotonic())
        if len(self.epoch_ends) < 2 or self.budget.expired or self.model.stop_training:
            return
        done = int(self.model.global_step.numpy()) // self.steps_per_epoch  # a resumed run counts its own
        per_epoch = (self.epoch_ends[-1] - self.epoch_ends[0]) / (len(self.epoch_ends) - 1)
        fit = plan_epochs(done, per_epoch, self.budget.deadline - self.epoch_ends[-1], self.first_batch - self.started)
        if done >= fit - fit // 2:
            self.epochs = min(max(fit, 2 * done - 1), 2 * done)  # so that its constant half is `done`
            self.per_epoch = per_epoch
            self.model.stop_training = True


def fit_for_budget(model, batches, *, epochs: int, compile_for: Callable[[int], None], run_dir,
                   callbacks: list, steps_per_epoch: int | None = None, run_info: dict | None = None,
                   resume: bool = True, **kwargs):
    """``model.fit`` for a trainer whose learning rate depends on the run's length, e.g. CycleGAN's (constant for
    the first half of the epochs, then linearly to 0, as junyanz's): ``compile_for(epochs)`` compiles ``model`` for a
    run of that many epochs (``fit_for_budget`` calls it inside the model's distribution strategy scope).

    With ``epochs=budget_epochs(EPOCHS, MINUTES)`` and ``TimeBudget(MINUTES)`` among ``callbacks``: without a budget
    the run trains ``EPOCHS``. With one, it trains at the constant rate while it measures its speed (every epoch
    after the first), until the epochs done are half of those that fit in the budget; that many epochs become the
    plan, and the run continues from the last checkpoint with the decay over the other half. Measuring over half the
    run, not one epoch, keeps a slow start (tracing, a machine still busy loading) from ending the plan minutes before
    the budget. The plan is written to config.json (``budget_plan``), so resuming the run keeps it (exact resume); a
    run stopped before its plan was made measures again from its checkpoint; resuming a run started with a fixed
    number of epochs keeps them. config.json also records ``epochs``.

    Args:
        model: a ``kitlib.train.Trainer``.
        batches: its dataset, as for ``fit``.
        epochs: the run's epochs; ``UNTIL_BUDGET_EPOCHS`` (``budget_epochs(EPOCHS, MINUTES)`` with a budget) plans
            them from the ``TimeBudget`` in ``callbacks``.
        compile_for: ``compile_for(epochs)`` compiles ``model`` for a run of ``epochs`` epochs.
        run_dir, callbacks, run_info, resume, **kwargs: as for ``Trainer.fit``.
        steps_per_epoch: as for ``Trainer.fit`` (default: ``batches.steps_per_epoch``).

    Returns:
        The ``keras.callbacks.History`` of the last ``fit``.

    Example:
    >>> def compile_for(epochs):   # constant learning rate for half the epochs, then linearly to 0
    ...     gan.compile(constant_steps=(epochs - epochs // 2) * STEPS, decay_steps=(epochs // 2) * STEPS)
    >>> fit_for_budget(gan, batches, epochs=budget_epochs(EPOCHS, MINUTES), compile_for=compile_for,
    ...                run_dir=RUN_DIR, callbacks=[TimeBudget(MINUTES)])          # doctest: +SKIP
    """
    steps_per_epoch = steps_per_epoch or batches.steps_per_epoch
    run_info = dict(run_info or {})

    def fit(epochs, *, resume=resume, extra=(), **info):
        with model.distribute_strategy.scope():
            compile_for(epochs)
        return model.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch, run_dir=run_dir, resume=resume,
                         callbacks=[*callbacks, *extra], run_info={**run_info, "epochs": epochs, **info}, **kwargs)

    if epochs != UNTIL_BUDGET_EPOCHS:
        return fit(epochs)
    planned = saved_epochs(run_dir) if resume else None
    if planned is not None:
        return fit(planned)
    budget = next((c for c in callbacks if isinstance(c, TimeBudget) and c.minutes is not None), None)
    if budget is None:
        raise ValueError(f"epochs={UNTIL_BUDGET_EPOCHS} (UNTIL_BUDGET_EPOCHS) trains until a time budget: pass "
                         f"train.TimeBudget(MINUTES) in callbacks, or a number of epochs.")
    half = _ConstantHalf(budget, steps_per_epoch)  # the constant half of any run this budget could hold
    history = fit(UNTIL_BUDGET_EPOCHS, extra=[half], budget_plan={"minutes": budget.minutes})
    if half.epochs is None:  # the budget (or a NaN, a refused checkpoint) ended the run first
        return history
    epochs = half.epochs
    print(f"Time budget: {epochs - epochs // 2} epochs took {half.per_epoch:.0f} s each, so {epochs} epochs of "
          f"{steps_per_epoch} steps fit in {budget.minutes:g} min: the learning rate decays linearly to 0 over the "
          f"last {epochs // 2}. Continuing from epoch {epochs - epochs // 2}'s checkpoint.", flush=True)
    plan = {"minutes": budget.minutes, "epochs": epochs, "seconds_per_epoch": round(half.per_epoch, 1)}
    return fit(epochs, resume=True, budget_plan=plan)
