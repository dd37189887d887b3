"""U-Net generators: pix2pix (junyanz `unet_256` / `unet_128`) and the seed-003 pixel-art CycleGAN U-Net."""

from __future__ import annotations

import math

import keras

from kitlib.models.layers import FastConv2D, FastConv2DTranspose, LeakyReLU, ReplicaDropout
from kitlib.models.layers import NORMS, check_image_shape, gan_initializer, normalization_layer

UNET_VARIANTS = {"unet_256": 8, "unet_128": 7}


def unet_generator(
    input_shape: tuple = (256, 256, 3),
    *,
    num_downs: int = 8,
    filters: int = 64,
    norm: str = "batch",
    dropout: float = 0.5,
    skip: bool = True,
    output_channels: int = 3,
    bottleneck_norm: bool = False,
    negative_slope: float = 0.2,
    name: str = "unet_generator",
) -> keras.Model:
    """Builds the pix2pix U-Net generator (or, with `skip=False`, its encoder-decoder ablation).

    Encoder: `num_downs` blocks of 4x4 stride-2 "same" conv, norm (not on the first block, nor on the innermost
    one unless `bottleneck_norm`), LeakyReLU; channels `filters * min(2**i, 8)`, i.e. C64-C128-C256-C512-C512...
    Decoder: `num_downs - 1` blocks of 4x4 stride-2 transposed conv, norm, `Dropout(dropout)` on the first three,
    ReLU, then concatenation with the mirrored encoder output. Head: 4x4 stride-2 transposed conv to
    `output_channels` and tanh (float32 under mixed precision). Kernels are N(0, 0.02); convs followed by a norm
    layer have no bias. The convolutions are `FastConv2D` / `FastConv2DTranspose`: the Keras layers, with the
    few-pixel innermost blocks computed as matrix products on CPUs (where oneDNN is slowest).

    The dropouts are real `keras.layers.Dropout` layers (`ReplicaDropout`, whose masks under several replicas are
    one device's): pix2pix keeps them on at test time by calling the model with `training=True`, which is its only
    source of noise.

    Why the innermost block has no norm by default: with `num_downs = log2(size)` the bottleneck is 1x1, where
    instance norm (and batch norm at batch size 1) subtracts the only value there is, so the innermost features
    would be a constant (beta) for every input. phillipi/pix2pix removed that BatchNorm and junyanz's
    `UnetSkipConnectionBlock(innermost=True)` has none; the TensorFlow pix2pix/CycleGAN tutorials keep it.

    Reference:
    - [Isola et al., 2017, Image-to-Image Translation with Conditional Adversarial Networks](
      https://arxiv.org/abs/1611.07004)
    - [Ronneberger et al., 2015, U-Net](https://arxiv.org/abs/1505.04597)

    Args:
        input_shape: `(height, width, channels)`; known height and width must be divisible by `2**num_downs`.
        num_downs: encoder blocks; `log2(size)` reaches a 1x1 bottleneck (8 for 256 px, 7 for 128 px, see
            `UNET_VARIANTS`).
        filters: channels of the first encoder block.
        norm: `"batch"` (pix2pix), `"instance"` (CycleGAN's U-Net option) or `"none"`.
        dropout: rate of the dropout in the first three decoder blocks; 0 removes those layers.
        skip: `False` removes the skip connections (the paper's encoder-decoder ablation).
        output_channels: channels of the generated image.
        bottleneck_norm: also normalise the innermost encoder block (TF tutorial behaviour, see above).
        negative_slope: LeakyReLU slope of the encoder (0.2 in the paper; the TF tutorials use Keras' 0.3).
        name: model name.

    Returns:
        A `keras.Model` mapping images to images in [-1, 1] of the same height and width.

    Example:
    >>> g = unet_generator((32, 32, 3), num_downs=5, filters=8)
    >>> g.output_shape
    (None, 32, 32, 3)
    """
    input_shape = check_image_shape(input_shape)
    if not isinstance(num_downs, int) or num_downs < 1:
        raise ValueError(f"num_downs must be an int >= 1. Received: num_downs={num_downs!r}")
    factor = 2**num_downs
    if any(size is not None and size % factor for size in input_shape[:2]):
        fit = min(int(math.log2(size & -size)) for size in input_shape[:2] if size is not None)
        raise ValueError(
            f"unet_generator with num_downs={num_downs} needs height and width divisible by {factor}. "
            f"Received: input_shape={input_shape!r}; this size allows num_downs <= {fit} (log2 of a "
            "power-of-two size reaches a 1x1 bottleneck), or resize the images."
        )
    if not isinstance(filters, int) or filters < 1:
        raise ValueError(f"filters must be a positive int. Received: filters={filters!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of 'instance', 'batch', 'none'. Received: norm={norm!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    if not isinstance(output_channels, int) or output_channels < 1:
        raise ValueError(f"output_channels must be a positive int. Received: output_channels={output_channels!r}")

    encoder_filters = [filters * min(2**i, 8) for i in range(num_downs)]
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    skips = []
    for i, channels in enumerate(encoder_filters, start=1):
        normed = norm != "none" and i > 1 and (i < num_downs or bottleneck_norm)
        x = FastConv2D(
            channels, 4, strides=2, padding="same", use_bias=not normed, kernel_initializer=gan_initializer(),
            name=f"down{i}_conv",
        )(x)
        if normed:
            x = normalization_layer(norm, f"down{i}_norm")(x)
        x = LeakyReLU(negative_slope, name=f"down{i}_lrelu")(x)
        skips.append(x)

    for j, channels in enumerate(reversed(encoder_filters[:-1]), start=1):
        x = FastConv2DTranspose(
            channels, 4, strides=2, padding="same", use_bias=norm == "none", kernel_initializer=gan_initializer(),
            name=f"up{j}_conv",
        )(x)
        if norm != "none":
            x = normalization_layer(norm, f"up{j}_norm")(x)
        if dropout > 0 and j <= 3:
            x = ReplicaDropout(dropout, name=f"up{j}_dropout")(x)
        x = keras.layers.ReLU(name=f"up{j}_relu")(x)
        if skip:
            x = keras.layers.Concatenate(name=f"up{j}_concat")([x, skips[num_downs - 1 - j]])

    x = FastConv2DTranspose(
        output_channels, 4, strides=2, padding="same", kernel_initializer=gan_initializer(), name="head_conv"
    )(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="head_tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def seed_unet_generator(
    input_shape: tuple = (256, 256, 3),
    *,
    filters: int = 64,
    norm: str = "instance",
    bottleneck_norm: bool = True,
    output_channels: int = 3,
    name: str = "seed_unet_generator",
) -> keras.Model:
    """Builds the U-Net generator of the seed-003 pixel-art CycleGAN.

    It is the TensorFlow pix2pix/CycleGAN tutorial generator (`tensorflow_examples` `unet_generator` with
    `norm_type="instancenorm"`), built by `unet_generator` with: `num_downs = log2(min(height, width))` (8 blocks
    from 128x128x64 to 1x1x512 at 256 px, fewer at smaller sizes), 7 decoder blocks with skips (2x2x1024 to
    128x128x128 after concatenation), instance norm, 50% dropout on the first three decoder blocks, a final
    transposed conv to 3 channels with tanh, and the tutorial's Keras-default LeakyReLU slope 0.3. Differences from
    the tutorial code: convs without a following norm keep a bias (the first encoder conv), and instance norm's
    gamma starts at 1 instead of N(1, 0.02). The seed report lists LeakyReLU for the decoder too; the tutorial
    code it follows uses ReLU there, and so does this builder.

    `bottleneck_norm=True` reproduces the seed faithfully, including its defect: instance norm on the 1x1
    bottleneck outputs the same constant for every image, so information only flows through the skips. Pass
    `bottleneck_norm=False` (or use `unet_generator(norm="instance")`) to fix it.

    Reference: [TensorFlow CycleGAN tutorial](https://www.tensorflow.org/tutorials/generative/cyclegan)

    Args:
        input_shape: `(height, width, channels)`; height and width must be known and divisible by
            `2**floor(log2(min(height, width)))` (powers of two for square images).
        filters: channels of the first encoder block (64 in the seed).
        norm: `"instance"` (seed), `"batch"` or `"none"`.
        bottleneck_norm: normalise the innermost (1x1) encoder block, as the seed does.
        output_channels: channels of the generated image.
        name: model name.

    Returns:
        A `keras.Model` mapping images to images in [-1, 1] of the same height and width.

    Example:
    >>> g = seed_unet_generator((32, 32, 3), filters=8)
    >>> g.get_layer("down5_conv").output.shape
    (None, 1, 1, 64)
    """
    input_shape = check_image_shape(input_shape)
    if None in input_shape[:2]:
        raise ValueError(
            f"seed_unet_generator derives its depth from the image size, so height and width must be known. "
            f"Received: input_shape={input_shape!r}; use unet_generator(num_downs=...) for variable sizes."
        )
    num_downs = int(math.log2(min(input_shape[:2])))
    return unet_generator(
        input_shape, num_downs=num_downs, filters=filters, norm=norm, dropout=0.5, skip=True,
        output_channels=output_channels, bottleneck_norm=bottleneck_norm, negative_slope=0.3, name=name,
    )
