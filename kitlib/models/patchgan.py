"""PatchGAN discriminators (junyanz `NLayerDiscriminator` / `PixelDiscriminator`, and the seed-003 PatchGAN).

Each output logit judges one input patch; the patch size is the receptive field of the conv stack:

    n_layers  layers (kernel, stride)                  receptive field   PATCHGAN_VARIANTS
    0         1x1 s1, 1x1 s1, 1x1 s1                   1                 "pixelgan"
    1         4x4 s2, 4x4 s1, 4x4 s1                   16                "patchgan_16"
    3         4x4 s2 x3, 4x4 s1, 4x4 s1                70                "patchgan_70"
    5         4x4 s2 x5, 4x4 s1, 4x4 s1                286               "patchgan_286"

Walking back from one output pixel, each layer grows the field as `r <- (r - 1) * stride + kernel`
(70 = ((((1 + 3) + 3) * 2 + 2) * 2 + 2) * 2 + 2). With instance or batch norm in training mode the statistics
are taken over the whole image, so strictly every logit then depends a little on every pixel; the receptive
field is that of the convolutions.
"""

from __future__ import annotations

import keras

from kitlib.models.layers import FastConv2D, LeakyReLU
from kitlib.models.layers import NORMS, check_image_shape, gan_initializer, normalization_layer

PATCHGAN_VARIANTS = {"pixelgan": 0, "patchgan_16": 1, "patchgan_70": 3, "patchgan_286": 5}


def _layer_specs(n_layers: int, filters: int) -> list[tuple[int, int, int, bool]]:
    """(kernel, stride, channels, normalised) of each conv; the last one outputs the logits."""
    if n_layers == 0:
        return [(1, 1, filters, False), (1, 1, filters * 2, True), (1, 1, 1, False)]
    specs = [(4, 2, filters, False)]
    specs += [(4, 2, filters * min(2**n, 8), True) for n in range(1, n_layers)]
    specs += [(4, 1, filters * min(2**n_layers, 8), True), (4, 1, 1, False)]
    return specs


def _check_n_layers(n_layers) -> None:
    if not isinstance(n_layers, int) or isinstance(n_layers, bool) or n_layers < 0:
        raise ValueError(
            f"n_layers must be an int >= 0 (0 is the PixelGAN). Received: n_layers={n_layers!r}; "
            f"named variants: {PATCHGAN_VARIANTS}"
        )


def receptive_field(n_layers: int) -> int:
    """Returns the receptive field (patch size in pixels) of `patchgan_discriminator(n_layers=...)`.

    Computed from the conv stack, walking back from one output pixel: `r <- (r - 1) * stride + kernel`.

    Args:
        n_layers: stride-2 conv layers of the discriminator; 0 for the PixelGAN.

    Returns:
        The side of the square input patch each logit sees.

    Example:
    >>> [receptive_field(n) for n in (0, 1, 3, 5)]
    [1, 16, 70, 286]
    """
    _check_n_layers(n_layers)
    field = 1
    for kernel, stride, _, _ in reversed(_layer_specs(n_layers, 1)):
        field = (field - 1) * stride + kernel
    return field


def patchgan_discriminator(
    input_shape: tuple = (256, 256, 3),
    *,
    n_layers: int = 3,
    filters: int = 64,
    norm: str = "instance",
    condition_shape: tuple | None = None,
    negative_slope: float = 0.2,
    name: str = "patchgan_discriminator",
) -> keras.Model:
    """Builds a PatchGAN discriminator (junyanz `NLayerDiscriminator`, or `PixelDiscriminator` for `n_layers=0`).

    4x4 stride-2 conv (no norm) + LeakyReLU, `n_layers - 1` more 4x4 stride-2 convs with
    `filters * min(2**n, 8)` channels + norm + LeakyReLU, a 4x4 stride-1 conv + norm + LeakyReLU and a 4x4
    stride-1 conv to one logit per patch. Every 4x4 conv zero-pads 1 pixel per side as in the reference, so a
    256x256 input gives 30x30 logits for `n_layers=3` (70x70 patches, see `receptive_field`). `n_layers=0` is the
    PixelGAN: 1x1 convs with `filters`, `2 * filters` (+ norm) and 1 channels. Kernels are N(0, 0.02); convs
    followed by a norm layer have no bias; the logits are float32 under mixed precision (no sigmoid: use
    from-logits losses).

    With `condition_shape` it is the conditional pix2pix discriminator: it takes `[condition, image]` (a list, or
    a dict with keys `"condition"` and `"image"`) and concatenates them on channels.

    Reference:
    - [Isola et al., 2017, Image-to-Image Translation with Conditional Adversarial Networks](
      https://arxiv.org/abs/1611.07004)

    Args:
        input_shape: `(height, width, channels)` of the judged image; `None` sizes are allowed.
        n_layers: stride-2 conv layers (`PATCHGAN_VARIANTS`: 0 pixel, 1 -> 16x16, 3 -> 70x70, 5 -> 286x286).
        filters: channels of the first conv.
        norm: `"instance"` (CycleGAN), `"batch"` (pix2pix) or `"none"`.
        condition_shape: `(height, width, channels)` of the conditioning image, or None for an unconditional D.
        negative_slope: LeakyReLU slope (0.2 in the papers).
        name: model name.

    Returns:
        A `keras.Model` returning logits of shape `(batch, out_h, out_w, 1)`.

    Example:
    >>> d = patchgan_discriminator((64, 64, 3), n_layers=2, filters=8)
    >>> d.output_shape
    (None, 14, 14, 1)
    """
    input_shape = check_image_shape(input_shape)
    _check_n_layers(n_layers)
    if not isinstance(filters, int) or filters < 1:
        raise ValueError(f"filters must be a positive int. Received: filters={filters!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of 'instance', 'batch', 'none'. Received: norm={norm!r}")
    if n_layers:
        smallest = 3 * 2**n_layers
        if any(size is not None and size < smallest for size in input_shape[:2]):
            raise ValueError(
                f"patchgan_discriminator with n_layers={n_layers} needs height and width >= {smallest} to give at "
                f"least one logit. Received: input_shape={input_shape!r}; use a smaller n_layers or larger images."
            )
    inputs, x = _discriminator_inputs(input_shape, condition_shape)

    specs = _layer_specs(n_layers, filters)
    for i, (kernel, stride, channels, normed) in enumerate(specs, start=1):
        normed = normed and norm != "none"
        last = i == len(specs)
        if kernel > 1:
            x = keras.layers.ZeroPadding2D(1, name=f"conv{i}_pad")(x)
        x = FastConv2D(
            channels, kernel, strides=stride, use_bias=not normed, kernel_initializer=gan_initializer(),
            dtype="float32" if last else None, name="logits" if last else f"conv{i}",
        )(x)
        if last:
            break
        if normed:
            x = normalization_layer(norm, f"conv{i}_norm")(x)
        x = LeakyReLU(negative_slope, name=f"conv{i}_lrelu")(x)
    return keras.Model(inputs, x, name=name)


def seed_patchgan_discriminator(
    input_shape: tuple = (256, 256, 3),
    *,
    filters: int = 64,
    norm: str = "instance",
    condition_shape: tuple | None = None,
    name: str = "seed_patchgan_discriminator",
) -> keras.Model:
    """Builds the PatchGAN of the seed-003 CycleGAN (the TensorFlow pix2pix/CycleGAN tutorial discriminator).

    Three 4x4 stride-2 blocks (64, 128, 256 channels; norm except the first; LeakyReLU), zero padding + 4x4
    stride-1 conv with 512 channels + norm + LeakyReLU, zero padding + 4x4 conv to 1 logit: 30x30 logits for a
    256x256 input. On even sizes the tutorial's `"same"` 4x4 stride-2 convs pad exactly 1 pixel per side, so this
    is `patchgan_discriminator(n_layers=3)` (70x70 patches) with the tutorial's Keras-default LeakyReLU slope 0.3;
    it is built that way. Differences from the tutorial code: the first conv keeps a bias, and instance norm's
    gamma starts at 1 instead of N(1, 0.02).

    Reference: [TensorFlow CycleGAN tutorial](https://www.tensorflow.org/tutorials/generative/cyclegan)

    Args:
        input_shape: `(height, width, channels)` of the judged image.
        filters: channels of the first conv (64 in the seed).
        norm: `"instance"` (seed), `"batch"` (pix2pix tutorial) or `"none"`.
        condition_shape: conditioning image shape for the pix2pix tutorial's `target=True` discriminator
            (inputs `[condition, image]`), or None.
        name: model name.

    Returns:
        A `keras.Model` returning patch logits.

    Example:
    >>> seed_patchgan_discriminator((32, 32, 3), filters=8).output_shape
    (None, 2, 2, 1)
    """
    return patchgan_discriminator(
        input_shape, n_layers=3, filters=filters, norm=norm, condition_shape=condition_shape, negative_slope=0.3,
        name=name,
    )


def _discriminator_inputs(input_shape: tuple, condition_shape: tuple | None):
    image = keras.Input(shape=input_shape, name="image")
    if condition_shape is None:
        return image, image
    condition_shape = check_image_shape(condition_shape, arg="condition_shape")
    for a, b in zip(condition_shape[:2], input_shape[:2]):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"condition_shape must have the image's height and width. Received: condition_shape="
                f"{condition_shape!r} with input_shape={input_shape!r}; resize the condition to the image size."
            )
    condition = keras.Input(shape=condition_shape, name="condition")
    x = keras.layers.Concatenate(name="concat_condition_image")([condition, image])
    return [condition, image], x
