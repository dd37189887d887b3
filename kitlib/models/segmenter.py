"""A small U-Net semantic segmenter: image -> per-pixel class logits (label fidelity, labelling unlabelled images).

The seed report built GauGAN's label maps for unlabelled anime landscapes with a segmentation network; the same
kind of network, trained on images with known maps, also measures how well generated images follow their input
maps (``kitlib.eval.segmentation.label_fidelity``).
"""

from __future__ import annotations

import keras

from kitlib.models.layers import FusedBatchNormalization, NearestUpSampling2D


def _conv_block(x, filters: int, name: str):
    """Two 3x3 "same" convs, each followed by BatchNorm and ReLU (the U-Net double conv)."""
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = FusedBatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_segmenter(image_size: int, num_classes: int, *, filters: int = 16, depth: int = 3,
                    name: str = "segmenter") -> keras.Model:
    """Builds a small U-Net that maps images in [-1, 1] to per-pixel class logits.

    Encoder: ``depth`` double-conv blocks (3x3 conv, BatchNorm, ReLU, twice) with ``filters * 2**i`` channels, each
    followed by a 2x2 max-pool; a double-conv bottleneck with ``filters * 2**depth`` channels. Decoder: per level a
    2x nearest upsampling, concatenation with the encoder block of the same resolution (skip connection) and a
    double conv. Head: a 1x1 conv to ``num_classes`` logits, kept float32 under mixed precision (no softmax: train
    with ``from_logits=True``). BatchNorm momentum is 0.9 so the moving statistics settle within a short training.

    Reference:
        [Ronneberger et al., 2015, U-Net](https://arxiv.org/abs/1505.04597)

    Args:
        image_size: height and width of the square input, divisible by ``2**depth``.
        num_classes: number of classes (logit channels).
        filters: channels of the first block.
        depth: number of max-pool levels.
        name: model name.

    Returns:
        A ``keras.Model`` ``(batch, S, S, 3)`` images in [-1, 1] -> ``(batch, S, S, num_classes)`` float32 logits.

    Example:
    >>> model = build_segmenter(32, num_classes=8, filters=4, depth=2)
    >>> model.output_shape
    (None, 32, 32, 8)
    """
    for arg, value in (("image_size", image_size), ("num_classes", num_classes), ("filters", filters),
                       ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg} must be an int >= 1. Received: {arg}={value!r}")
    if image_size % 2**depth:
        raise ValueError(f"image_size must be divisible by 2**depth = {2**depth}. Received: image_size={image_size}, "
                         f"depth={depth}; lower depth or resize the images.")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x, skips = inputs, []
    for i in range(depth):
        x = _conv_block(x, filters * 2**i, name=f"down{i}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"down{i}_pool")(x)
    x = _conv_block(x, filters * 2**depth, name="bottleneck")
    for i in reversed(range(depth)):
        x = NearestUpSampling2D(2, name=f"up{i}_upsample")(x)
        x = keras.layers.Concatenate(name=f"up{i}_skip")([x, skips[i]])
        x = _conv_block(x, filters * 2**i, name=f"up{i}")
    logits = keras.layers.Conv2D(num_classes, 1, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)


__all__ = ["build_segmenter"]
