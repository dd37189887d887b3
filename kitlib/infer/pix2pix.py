"""pix2pix at test time: the paper's mode (dropout on, per-image batch statistics) or the usual Keras eval mode.

Reference: Isola et al. 2017, https://arxiv.org/abs/1611.07004 (section 3.3: "we apply dropout at test time, and we
apply batch normalization using the statistics of the test batch").

Example:
>>> from kitlib.models.unet import unet_generator
>>> translate(unet_generator((32, 32, 3), num_downs=5, filters=4), np.zeros((1, 32, 32, 3), "uint8")).shape
(1, 32, 32, 3)
"""

from __future__ import annotations

import keras
import numpy as np

from kitlib.images import to_float

TEST_MODES = ("paper", "eval")


def _check_test_mode(test_mode: str) -> None:
    if test_mode not in TEST_MODES:
        raise ValueError(f"test_mode must be one of {TEST_MODES}. Received: test_mode={test_mode!r}")


def translate(generator: keras.Model, images, *, test_mode: str = "paper", batch_size: int = 32,
              seed: int | None = None) -> np.ndarray:
    """Runs a pix2pix generator at test time, the paper's way or the usual Keras way.

    ``"paper"``: ``generator(x, training=True)`` one image at a time (dropout on, batch-norm statistics of that
    image, the paper's test batch of 1); the batch-norm moving statistics are restored afterwards, so the call has
    no lasting effect on the weights. Dropout makes it stochastic: with ``seed`` the dropout masks come from that
    seed (the same call gives the same images; the dropout random-generator states are restored afterwards), without
    it from the network's own random-generator states, which advance (two calls differ).
    ``"eval"``: ``generator(x, training=False)`` in batches of ``batch_size``: deterministic.

    Args:
        generator: image-to-image ``keras.Model``.
        images: ``(batch, H, W, C)`` floats in [-1, 1] or uint8 (or a ``(H, W, C)`` single image).
        test_mode: ``"paper"`` or ``"eval"``.
        batch_size: batch size of eval mode.
        seed: paper mode: seed of the dropout masks (None: the network's random-generator states, not repeatable).

    Returns:
        float32 numpy images in [-1, 1], same batch size as ``images``.

    Example:
    >>> from kitlib.models.unet import unet_generator
    >>> g = unet_generator((32, 32, 3), num_downs=5, filters=4)
    >>> translate(g, np.zeros((2, 32, 32, 3), "float32"), test_mode="eval").shape
    (2, 32, 32, 3)
    >>> x = np.ones((1, 32, 32, 3), "float32")
    >>> bool((translate(g, x, seed=1) == translate(g, x, seed=1)).all())
    True
    """
    _check_test_mode(test_mode)
    x = to_float(images)
    single = x.ndim == 3
    x = x[None] if single else x
    if x.ndim != 4:
        raise ValueError(f"images must be (batch, H, W, C) or (H, W, C). Received shape {x.shape}")
    if test_mode == "eval":
        out = np.concatenate([keras.ops.convert_to_numpy(generator(x[i: i + batch_size], training=False))
                              for i in range(0, len(x), batch_size)])
    else:
        stats = list(generator.non_trainable_weights)  # batch-norm moving statistics
        if seed is not None:  # dropout's random-generator states: seeded now, restored afterwards
            states = [layer.seed_generator.state for layer in generator._flatten_layers()
                      if isinstance(getattr(layer, "seed_generator", None), keras.random.SeedGenerator)]
            stats += states
        saved = [keras.ops.convert_to_numpy(v) for v in stats]
        if seed is not None:
            for i, state in enumerate(states):
                state.assign(np.array([(seed * 1_000_003 + i) % 2**32, 0], state.dtype))
        out = np.concatenate([keras.ops.convert_to_numpy(generator(x[i: i + 1], training=True))
                              for i in range(len(x))])
        for v, value in zip(stats, saved):
            v.assign(value)
    return out[0] if single else out


__all__ = ["TEST_MODES", "translate"]
