"""Learning-rate schedules whose position is the optimizer's step counter (so it is restored exactly on resume)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kitlib")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then linear decay to zero (junyanz CycleGAN/pix2pix ``n_epochs`` + ``n_epochs_decay``).

    Reference: https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix (``--lr_policy linear``).

    Args:
        initial_learning_rate: the constant rate of the first phase.
        constant_steps: optimizer steps at the constant rate (``n_epochs * steps_per_epoch``).
        decay_steps: optimizer steps of linear decay to 0 (``n_epochs_decay * steps_per_epoch``); 0 keeps the rate
            constant. Trainers pass a ``LinearDecay`` even then, not a number: a Keras optimizer keeps a numeric
            learning rate in a variable of its own, which a schedule's optimizer lacks, so a checkpoint's layout
            would depend on whether the run had a decay phase, and with it on the epoch count.

    Example:
    >>> s = LinearDecay(2e-4, constant_steps=100, decay_steps=100)
    >>> round(float(s(150)), 8)
    0.0001
    >>> round(float(LinearDecay(2e-4, constant_steps=0, decay_steps=0)(150)), 8)
    0.0002
    """

    def __init__(self, initial_learning_rate: float, constant_steps: int, decay_steps: int):
        if constant_steps < 0 or decay_steps < 0:
            raise ValueError(
                f"constant_steps and decay_steps must be >= 0. Received: {constant_steps=}, {decay_steps=}"
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.decay_steps == 0:
            return ops.full_like(step, self.initial_learning_rate)
        progress = ops.clip((step - self.constant_steps) / float(self.decay_steps), 0.0, 1.0)
        return self.initial_learning_rate * (1.0 - progress)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
        }
