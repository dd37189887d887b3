"""Sampling an unconditional generator (DCGAN and friends): images from random latent vectors, interpolations.

Example:
>>> from kitlib.models.dcgan import report_generator
>>> generate(report_generator(8, 32), 3).shape
(3, 32, 32, 3)
"""

from __future__ import annotations

import keras
import numpy as np


def generate(generator: keras.Model, n: int, *, seed: int = 0, batch_size: int = 64) -> np.ndarray:
    """``n`` images (float32 numpy in [-1, 1]) from an unconditional generator, latents drawn from ``seed``.

    Args:
        generator: a model ``z (N, latent_dim) -> images``.
        n: number of images (>= 1).
        seed: seed of ``numpy.random.default_rng`` for the latents: the same seed gives the same images.
        batch_size: images per generator call.

    Example:
    >>> from kitlib.models.dcgan import report_generator
    >>> generate(report_generator(8, 32), 2, seed=1).shape
    (2, 32, 32, 3)
    """
    if n < 1:
        raise ValueError(f"n must be >= 1. Received: n={n}")
    latent_dim = int(generator.input_shape[-1])
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    return np.concatenate([keras.ops.convert_to_numpy(generator(z[i: i + batch_size], training=False))
                           for i in range(0, n, batch_size)]).astype("float32")


def latent_interpolation(generator: keras.Model, *, rows: int = 4, steps: int = 8, seed: int = 0) -> np.ndarray:
    """``rows`` strips of ``steps`` images along spherical interpolations between random latent pairs.

    Returns:
        float32 images in [-1, 1], shape ``(rows * steps, H, W, C)`` (show with ``viz.show_images(x, ncols=steps)``).

    Example:
    >>> from kitlib.models.dcgan import report_generator
    >>> latent_interpolation(report_generator(8, 32), rows=1, steps=3).shape
    (3, 32, 32, 3)
    """
    latent_dim = int(generator.input_shape[-1])
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, rows, latent_dim))
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    na, nb = a / np.linalg.norm(a, axis=-1, keepdims=True), b / np.linalg.norm(b, axis=-1, keepdims=True)
    omega = np.arccos(np.clip((na * nb).sum(-1), -1.0, 1.0))[:, None, None]
    so = np.sin(omega)
    z = np.where(so < 1e-6, (1 - t) * a[:, None] + t * b[:, None],
                 np.sin((1 - t) * omega) / np.where(so < 1e-6, 1, so) * a[:, None]
                 + np.sin(t * omega) / np.where(so < 1e-6, 1, so) * b[:, None])
    z = z.reshape(rows * steps, latent_dim).astype("float32")
    return keras.ops.convert_to_numpy(generator(z, training=False))


__all__ = ["generate", "latent_interpolation"]
