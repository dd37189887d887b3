"""Exponential moving average (EMA) of a network's weights: the copy GANs and diffusion models sample from.

``decay(rate, step)`` is ``min(rate, (1 + step) / (10 + step))``, the warm-up of ``tf.train.ExponentialMovingAverage``
(without it an EMA of 0.999 would still be 70% random weights after 300 steps of a short CPU run); ``update`` moves
every weight of the copy, moving statistics included, towards the trained network.

Example:
>>> import keras, numpy as np
>>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> copy = clone(net)
>>> before = copy.layers[0].kernel.numpy()
>>> _ = net.layers[0].kernel.assign(np.ones((2, 1), "float32"))
>>> round(float(decay(0.999, step=0)), 6)       # the first update keeps only 10% of the copy
0.1
>>> update(net, copy, decay(0.999, step=0))
>>> np.allclose(copy.layers[0].kernel.numpy(), 0.1 * before + 0.9)
True
"""

from __future__ import annotations

import keras
from keras import ops


def check_rate(rate: float | None) -> float | None:
    """``rate`` as a float, or None for no average; anything outside (0, 1) is refused with the fix."""
    if rate is None:
        return None
    if not 0.0 < rate < 1.0:
        raise ValueError(f"ema must be in (0, 1), e.g. 0.999, or None for no average. Received: ema={rate!r}")
    return float(rate)


def clone(network: keras.Model) -> keras.Model:
    """A copy of ``network`` (same architecture and current weights) to hold its EMA."""
    copy = keras.models.clone_model(network)
    copy.set_weights(network.get_weights())
    return copy


def decay(rate: float, step, warmup: bool = True):
    """The decay of the update after ``step`` optimizer steps: ``min(rate, (1 + step) / (10 + step))`` with warm-up,
    else ``rate`` (a float32 tensor)."""
    if not warmup:
        return ops.convert_to_tensor(rate, "float32")
    k = ops.cast(step, "float32")
    return ops.minimum(rate, (1.0 + k) / (10.0 + k))


def update(network: keras.Model, ema_network: keras.Model, decay_value) -> None:
    """``ema_weight <- decay * ema_weight + (1 - decay) * weight`` for every weight, moving statistics included."""
    for weight, ema_weight in zip(network.weights, ema_network.weights):
        ema_weight.assign(decay_value * ema_weight + (1.0 - decay_value) * ops.cast(weight, ema_weight.dtype))
