"""DCGAN generators and discriminators: the seed report's networks and Radford et al.'s canonical DCGAN.

Two variants, looked up by name in ``DCGAN_VARIANTS`` and built together by ``build_dcgan``:

- ``"seed"``: the networks of seed report 001 (``report_generator``, ``report_discriminator``; "seed" names the
  student report they come from, not a random seed) (DCGAN on anime faces, Keras ``Sequential``): a Dense projection to
  16x16x256, two stride-2 transposed convolutions and a 7x7 tanh convolution; a three-convolution discriminator.
- ``"radford"``: the DCGAN of the paper (all-convolutional, batch norm, ReLU in G / LeakyReLU(0.2) in D,
  N(0, 0.02) initialisation), as in the PyTorch DCGAN tutorial, for 32, 64 or 128 pixel images.

Discriminators return LOGITS (no sigmoid): train them with the from-logits losses of ``kitlib.losses``.
Generator outputs (tanh, in [-1, 1]) and logits are float32 even under a ``mixed_bfloat16`` policy.

Example:
>>> g, d = build_dcgan("radford", latent_dim=16, image_size=32, filters=8)
>>> g.output_shape, d.output_shape
((None, 32, 32, 3), (None, 1))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import keras
from keras import layers

from kitlib._deprecation import deprecated_alias
from kitlib.models.layers import (FastConv2D, FastConv2DTranspose, FusedBatchNormalization, LeakyReLU,
                                  ReplicaDropout)

IMAGE_SIZES = (32, 64, 128)
DCGAN_DISCRIMINATOR_NORMS = ("batch", "layer", "none")


def _check_image_size(image_size: int) -> None:
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}. Received: image_size={image_size!r}")


def _check_latent_dim(latent_dim: int) -> None:
    if not isinstance(latent_dim, numbers.Integral) or latent_dim < 1:
        raise ValueError(f"latent_dim must be an integer >= 1. Received: latent_dim={latent_dim!r}")


def _check_filters(filters: int) -> None:
    if not isinstance(filters, numbers.Integral) or filters < 1:
        raise ValueError(f"filters must be an integer >= 1. Received: filters={filters!r}")


# ----------------------------------------------------------------------------------------------------------------
# Seed report 001
# ----------------------------------------------------------------------------------------------------------------
def report_generator(latent_dim: int = 100, image_size: int = 64, *, name: str = "report_generator") -> keras.Model:
    """The seed report's DCGAN generator (``define_Generator``), for anime faces.

    ``z -> Dense(s*s*256) -> LeakyReLU(0.2) -> Reshape(s, s, 256) -> [Conv2DTranspose(128, 4, strides 2, same)
    -> LeakyReLU(0.2)] x 2 -> Conv2D(3, 7, same) -> tanh`` with ``s = image_size / 4``. The seed uses 64 px
    (s = 16); 32 and 128 px only change the start size. Deviation: the tanh is a separate float32 ``Activation``
    (the seed writes ``Conv2D(..., activation='tanh')``): same function and weights, float32 output under
    mixed precision. Keras default (Glorot uniform) initialisation, as in the seed.

    Reference: seed report 001; Radford et al. 2015, https://arxiv.org/abs/1511.06434

    Args:
        latent_dim: size of the noise vector (100 in the seed).
        image_size: output height and width, one of 32, 64, 128.
        name: model name.

    Returns:
        ``keras.Model`` mapping ``(batch, latent_dim)`` to float32 images ``(batch, image_size, image_size, 3)``
        in [-1, 1].

    Example:
    >>> report_generator(image_size=32).output_shape
    (None, 32, 32, 3)
    """
    _check_latent_dim(latent_dim)
    _check_image_size(image_size)
    start = image_size // 4
    z = keras.Input((int(latent_dim),), name="latent")
    x = layers.Dense(start * start * 256, name="project")(z)
    x = LeakyReLU(0.2, name="project_lrelu")(x)
    x = layers.Reshape((start, start, 256), name="reshape")(x)
    for i in range(2):
        x = FastConv2DTranspose(128, 4, strides=2, padding="same", name=f"up{i + 1}_deconv")(x)
        x = LeakyReLU(0.2, name=f"up{i + 1}_lrelu")(x)
    x = FastConv2D(3, 7, padding="same", name="to_rgb")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, images, name=name)


def report_discriminator(image_size: int = 64, *, name: str = "report_discriminator") -> keras.Model:
    """The seed report's DCGAN discriminator (``define_Discriminator``), returning logits.

    ``Conv2D(64, 3, same) -> LeakyReLU(0.2) -> [Conv2D(64, 3, strides 2, same) -> LeakyReLU(0.2)] x 2 -> Flatten
    -> Dropout(0.4) -> Dropout(0.4) -> Dense(1)``. The seed's code really stacks two ``Dropout(0.4)`` layers
    (a combined drop rate of 1 - 0.6^2 = 0.64 in training); they are kept. Deviation: the seed's last layer is
    ``Dense(1, activation='sigmoid')`` trained with ``binary_crossentropy``; here it returns the logit (float32)
    and trainers use ``kitlib.losses`` from logits, which is the same loss, numerically stabler.

    Reference: seed report 001

    Args:
        image_size: input height and width, one of 32, 64, 128 (64 in the seed).
        name: model name.

    Returns:
        ``keras.Model`` mapping images ``(batch, image_size, image_size, 3)`` in [-1, 1] to float32 logits
        ``(batch, 1)``.

    Example:
    >>> report_discriminator(image_size=32).output_shape
    (None, 1)
    """
    _check_image_size(image_size)
    images = keras.Input((image_size, image_size, 3), name="images")
    x = layers.Conv2D(64, 3, padding="same", name="conv1")(images)
    x = LeakyReLU(0.2, name="conv1_lrelu")(x)
    for i in (2, 3):
        x = layers.Conv2D(64, 3, strides=2, padding="same", name=f"conv{i}")(x)
        x = LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = ReplicaDropout(0.4, name="dropout1")(x)
    x = ReplicaDropout(0.4, name="dropout2")(x)
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


# ----------------------------------------------------------------------------------------------------------------
# Radford et al. 2015
# ----------------------------------------------------------------------------------------------------------------
def _weights_init() -> keras.initializers.Initializer:
    # A fresh instance per layer: an unseeded Keras 3 initializer draws one seed at construction, so sharing an
    # instance would give every same-shaped kernel identical values.
    return keras.initializers.RandomNormal(0.0, 0.02)


def _gamma_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(1.0, 0.02)


def _norm_layer(norm: str, name: str) -> layers.Layer:
    if norm == "batch":
        return FusedBatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer=_gamma_init(), name=name)
    # Layer norm over (H, W, C) per sample with a per-channel affine, as in the WGAN-GP critic.
    return layers.GroupNormalization(groups=1, epsilon=1e-5, gamma_initializer=_gamma_init(), name=name)


def dcgan_generator(latent_dim: int = 100, image_size: int = 64, filters: int = 64, *,
                    name: str = "dcgan_generator") -> keras.Model:
    """The canonical DCGAN generator of Radford et al.

    ``z`` (reshaped to 1x1) is projected by a 4x4 ``valid`` transposed convolution to ``4x4x(filters * 2^n)``,
    then ``n = log2(image_size) - 3`` blocks of ``Conv2DTranspose(4, strides 2) -> BatchNorm -> ReLU`` halve the
    channels while doubling the size, and a last ``Conv2DTranspose(3, 4, strides 2) -> tanh`` gives the image.
    For 64 px: 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3 (the paper's figure 1 with ``filters=128``
    is 1024 channels at 4x4; ``filters=64`` is the PyTorch tutorial's ngf). Kernels N(0, 0.02), batch-norm gamma
    N(1, 0.02); convolutions followed by batch norm have no bias, the last one has.

    Reference: Radford et al. 2015, https://arxiv.org/abs/1511.06434 ;
    https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html

    Args:
        latent_dim: size of the noise vector.
        image_size: output height and width, one of 32, 64, 128.
        filters: channels of the last hidden block (doubling towards the input).
        name: model name.

    Returns:
        ``keras.Model`` mapping ``(batch, latent_dim)`` to float32 images ``(batch, image_size, image_size, 3)``
        in [-1, 1].

    Example:
    >>> dcgan_generator(latent_dim=8, image_size=32, filters=4).output_shape
    (None, 32, 32, 3)
    """
    _check_latent_dim(latent_dim)
    _check_image_size(image_size)
    _check_filters(filters)
    num_blocks = int(math.log2(image_size)) - 3
    z = keras.Input((int(latent_dim),), name="latent")
    x = layers.Reshape((1, 1, int(latent_dim)), name="reshape")(z)
    x = FastConv2DTranspose(filters * 2**num_blocks, 4, padding="valid", use_bias=False,
                               kernel_initializer=_weights_init(), name="project")(x)
    x = _norm_layer("batch", "project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for i in range(num_blocks):
        x = FastConv2DTranspose(filters * 2 ** (num_blocks - 1 - i), 4, strides=2, padding="same",
                                   use_bias=False, kernel_initializer=_weights_init(), name=f"up{i + 1}_deconv")(x)
        x = _norm_layer("batch", f"up{i + 1}_bn")(x)
        x = layers.ReLU(name=f"up{i + 1}_relu")(x)
    x = FastConv2DTranspose(3, 4, strides=2, padding="same", kernel_initializer=_weights_init(),
                               name="to_rgb")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, images, name=name)


def dcgan_discriminator(image_size: int = 64, filters: int = 64, *, norm: str = "batch",
                        name: str = "dcgan_discriminator") -> keras.Model:
    """The canonical DCGAN discriminator of Radford et al., returning logits.

    ``n = log2(image_size) - 2`` strided ``Conv2D(4, strides 2, same) -> [norm] -> LeakyReLU(0.2)`` blocks with
    ``filters, 2*filters, ...`` channels (no normalisation on the first block) bring the image to 4x4, then a 4x4
    ``valid`` convolution gives one logit (float32, no sigmoid). For 64 px: 32x32x64 -> 16x16x128 -> 8x8x256 ->
    4x4x512 -> 1. Kernels N(0, 0.02), normalisation gamma N(1, 0.02). Convolutions followed by a normalisation
    have no bias, nor has the logit convolution (as in the PyTorch tutorial: a constant logit offset that the
    ``"wgan"`` and ``"hinge"`` losses would never train); the first convolution has one.

    ``norm="batch"`` is the paper's. A WGAN-GP critic must NOT use batch norm (the gradient penalty is per sample
    and batch norm mixes the samples of a batch): use ``norm="layer"`` (layer normalisation over H, W, C with a
    per-channel affine, as Gulrajani et al. suggest) or ``norm="none"``.

    Reference: Radford et al. 2015, https://arxiv.org/abs/1511.06434 ; Gulrajani et al. 2017,
    https://arxiv.org/abs/1704.00028

    Args:
        image_size: input height and width, one of 32, 64, 128.
        filters: channels of the first block (doubling each block).
        norm: ``"batch"``, ``"layer"`` or ``"none"``.
        name: model name.

    Returns:
        ``keras.Model`` mapping images ``(batch, image_size, image_size, 3)`` to float32 logits ``(batch, 1)``.

    Example:
    >>> dcgan_discriminator(image_size=32, filters=4, norm="layer").output_shape
    (None, 1)
    """
    _check_image_size(image_size)
    _check_filters(filters)
    if norm not in DCGAN_DISCRIMINATOR_NORMS:
        raise ValueError(
            f"norm must be one of {DCGAN_DISCRIMINATOR_NORMS}. Received: norm={norm!r}. "
            "(Use 'layer' or 'none' for a WGAN-GP critic.)"
        )
    num_blocks = int(math.log2(image_size)) - 2
    images = keras.Input((image_size, image_size, 3), name="images")
    x = images
    for i in range(num_blocks):
        normalised = i > 0 and norm != "none"
        x = layers.Conv2D(filters * 2**i, 4, strides=2, padding="same", use_bias=not normalised,
                          kernel_initializer=_weights_init(), name=f"down{i + 1}_conv")(x)
        if normalised:
            x = _norm_layer(norm, f"down{i + 1}_{norm}norm")(x)
        x = LeakyReLU(0.2, name=f"down{i + 1}_lrelu")(x)
    x = layers.Conv2D(1, 4, padding="valid", use_bias=False, kernel_initializer=_weights_init(), dtype="float32",
                      name="logits_conv")(x)
    logits = layers.Flatten(dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


# ----------------------------------------------------------------------------------------------------------------
DCGAN_VARIANTS: dict[str, tuple[Callable[..., keras.Model], Callable[..., keras.Model]]] = {
    "seed": (report_generator, report_discriminator),
    "radford": (dcgan_generator, dcgan_discriminator),
}

# Extra keyword arguments each variant accepts: name -> (goes to the generator, goes to the discriminator).
_VARIANT_KWARGS = {"seed": ((), ()), "radford": (("filters",), ("filters", "norm"))}


def build_dcgan(variant: str = "seed", *, latent_dim: int = 100, image_size: int = 64,
                **kwargs) -> tuple[keras.Model, keras.Model]:
    """Builds a DCGAN generator and discriminator pair by variant name.

    Args:
        variant: ``"seed"`` (seed report 001) or ``"radford"`` (Radford et al.), see ``DCGAN_VARIANTS``.
        latent_dim: size of the noise vector (>= 1).
        image_size: 32, 64 or 128.
        **kwargs: for ``"radford"`` only: ``filters`` (both networks) and ``norm`` (discriminator: ``"batch"``,
            ``"layer"``, ``"none"``; not batch for WGAN-GP). ``"seed"`` takes none.

    Returns:
        ``(generator, discriminator)``; the discriminator returns float32 logits.

    Example:
    >>> g, d = build_dcgan("seed", image_size=32)
    >>> g.input_shape, d.input_shape
    ((None, 100), (None, 32, 32, 3))
    """
    if variant not in DCGAN_VARIANTS:
        raise ValueError(f"variant must be one of {tuple(DCGAN_VARIANTS)}. Received: variant={variant!r}")
    _check_latent_dim(latent_dim)
    _check_image_size(image_size)
    g_keys, d_keys = _VARIANT_KWARGS[variant]
    unknown = sorted(set(kwargs) - set(g_keys) - set(d_keys))
    if unknown:
        raise ValueError(
            f"Variant {variant!r} accepts extra keyword arguments {tuple(sorted(set(g_keys) | set(d_keys)))}. "
            f"Received unexpected: {unknown}"
        )
    build_g, build_d = DCGAN_VARIANTS[variant]
    generator = build_g(latent_dim=latent_dim, image_size=image_size, **{k: kwargs[k] for k in g_keys if k in kwargs})
    discriminator = build_d(image_size=image_size, **{k: kwargs[k] for k in d_keys if k in kwargs})
    return generator, discriminator


# Deprecated names: "seed" also means a random seed (``keras.random.SeedGenerator``); the networks are the report's.
seed_generator = deprecated_alias(report_generator, "kitlib.models.seed_generator", "kitlib.models.report_generator")
seed_discriminator = deprecated_alias(report_discriminator, "kitlib.models.seed_discriminator",
                                      "kitlib.models.report_discriminator")
DISCRIMINATOR_NORMS = DCGAN_DISCRIMINATOR_NORMS  # deprecated: models.spade has its own; use DCGAN_DISCRIMINATOR_NORMS

__all__ = [
    "DCGAN_DISCRIMINATOR_NORMS", "DCGAN_VARIANTS", "DISCRIMINATOR_NORMS", "IMAGE_SIZES", "build_dcgan",
    "dcgan_discriminator", "dcgan_generator", "report_discriminator", "report_generator", "seed_discriminator",
    "seed_generator",
]
