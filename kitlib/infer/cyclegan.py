"""Translating images with one CycleGAN generator (A -> B or B -> A) in inference mode, in batches.

Example:
>>> from kitlib.models.resnet import resnet_generator
>>> g = resnet_generator((32, 32, 3), num_blocks=1, filters=4)
>>> translate_unpaired(g, np.zeros((3, 32, 32, 3), "uint8"), batch_size=2).shape
(3, 32, 32, 3)
"""

from __future__ import annotations

import keras
import numpy as np

from kitlib.images import to_float


def translate_unpaired(generator: keras.Model, images, *, batch_size: int = 32) -> np.ndarray:
    """Runs a generator with ``training=False`` over images (uint8 or [-1, 1]); float32 numpy in [-1, 1].

    Args:
        generator: an image-to-image ``keras.Model`` (a CycleGAN's ``generator_ab`` or ``generator_ba``).
        images: ``(N, H, W, C)`` or one ``(H, W, C)`` image.
        batch_size: images per generator call.

    Returns:
        The translated images, the shape of ``images``.

    Example:
    >>> from kitlib.models.unet import unet_generator
    >>> translate_unpaired(unet_generator((32, 32, 3), num_downs=5, filters=4), np.zeros((32, 32, 3))).shape
    (32, 32, 3)
    """
    x = to_float(images)
    single = x.ndim == 3
    x = x[None] if single else x
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C) or (H, W, C). Received shape {x.shape}")
    out = np.concatenate([keras.ops.convert_to_numpy(generator(x[i: i + batch_size], training=False))
                          for i in range(0, len(x), batch_size)]).astype("float32")
    return out[0] if single else out


__all__ = ["translate_unpaired"]
