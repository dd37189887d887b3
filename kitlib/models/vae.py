"""A small convolutional variational autoencoder (Kingma & Welling 2014, https://arxiv.org/abs/1312.6114).

The encoder maps an image in [-1, 1] to the mean and log-variance of a diagonal Gaussian ``q(z|x)``; the decoder maps
a latent vector ``z`` to an image in [-1, 1] (tanh), the mean of ``p(x|z)``. The decoder has the input and output of
a DCGAN generator, ``(N, latent_dim) -> (N, S, S, 3)``, so ``kitlib.infer.generate`` samples it from ``z ~ N(0, I)``.

Example:
>>> encoder, decoder = build_vae(32, latent_dim=8, filters=4)
>>> [tuple(t.shape) for t in encoder.outputs], tuple(decoder.output.shape)
([(None, 8), (None, 8)], (None, 32, 32, 3))
"""

from __future__ import annotations

import math

import keras
from keras import layers

from kitlib.models.layers import LeakyReLU


def _depth(image_size: int) -> int:
    """Stride-2 stages between ``image_size`` and the 4x4 bottleneck."""
    depth = math.log2(image_size / 4) if image_size >= 8 else 0
    if depth < 1 or depth != int(depth):
        raise ValueError(f"image_size must be a power of two >= 8 (e.g. 32, 64). Received: image_size={image_size}")
    return int(depth)


def vae_encoder(image_size: int = 32, *, latent_dim: int = 64, filters: int = 32, channels: int = 3,
                name: str = "encoder") -> keras.Model:
    """``x -> [z_mean, z_log_var]``: stride-2 3x3 convolutions (filters doubling, at most 8x) down to 4x4, then two
    dense heads.

    Example:
    >>> [tuple(t.shape) for t in vae_encoder(16, latent_dim=4, filters=4).outputs]
    [(None, 4), (None, 4)]
    """
    x = inputs = keras.Input((image_size, image_size, channels), name="images")
    for i in range(_depth(image_size)):
        x = layers.Conv2D(filters * min(2**i, 8), 3, strides=2, padding="same", name=f"down{i}")(x)
        x = LeakyReLU(0.2, name=f"down{i}_act")(x)
    x = layers.Flatten(name="flatten")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def vae_decoder(image_size: int = 32, *, latent_dim: int = 64, filters: int = 32, channels: int = 3,
                name: str = "decoder") -> keras.Model:
    """``z -> image`` in [-1, 1]: a dense layer to 4x4, stride-2 transposed 3x3 convolutions up to ``image_size``,
    a 3x3 convolution to ``channels`` and tanh (the encoder mirrored).

    Example:
    >>> tuple(vae_decoder(16, latent_dim=4, filters=4).output.shape)
    (None, 16, 16, 3)
    """
    depth = _depth(image_size)
    widths = [filters * min(2**i, 8) for i in reversed(range(depth))]
    z = inputs = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * widths[0], name="project")(z)
    x = layers.Reshape((4, 4, widths[0]), name="reshape")(x)
    for i, width in enumerate(widths):
        x = layers.Conv2DTranspose(width, 3, strides=2, padding="same", name=f"up{i}")(x)
        x = LeakyReLU(0.2, name=f"up{i}_act")(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_rgb")(x)
    outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def build_vae(image_size: int = 32, *, latent_dim: int = 64, filters: int = 32) -> tuple[keras.Model, keras.Model]:
    """``(encoder, decoder)`` of one size (see ``vae_encoder`` and ``vae_decoder``).

    Example:
    >>> encoder, decoder = build_vae(16, latent_dim=4, filters=4)
    >>> decoder.input_shape
    (None, 4)
    """
    return (vae_encoder(image_size, latent_dim=latent_dim, filters=filters),
            vae_decoder(image_size, latent_dim=latent_dim, filters=filters))


__all__ = ["build_vae", "vae_decoder", "vae_encoder"]
