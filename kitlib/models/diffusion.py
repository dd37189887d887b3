"""The denoising U-Net of kitlib's diffusion models (keras-io DDIM style), unconditional or image-conditioned.

The network predicts the noise that was mixed into an image, given the noisy image and the noise *variance*
(``noise_rate ** 2``), which enters through a sinusoidal embedding broadcast over the image. The image-conditioned
variant (Palette) concatenates a condition image (e.g. a drawing) to the noisy image along the channels.

Reference:
- [Song et al., 2020, Denoising Diffusion Implicit Models](https://arxiv.org/abs/2010.02502)
- [keras-io: Denoising Diffusion Implicit Models](https://keras.io/examples/generative/ddim/) (architecture and
  defaults of this module)
- [Saharia et al., 2022, Palette: Image-to-Image Diffusion Models](https://arxiv.org/abs/2111.05826)

Example:
>>> net = diffusion_unet(32, widths=(16, 32), block_depth=1)
>>> [tuple(s) for s in net.input_shape], net.output_shape
([(None, 32, 32, 3), (None, 1, 1, 1)], (None, 32, 32, 3))
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kitlib.models.layers import FusedBatchNormalization

# Named sizes: "tiny" proves the code path (tests, quick mode), "small" learns visibly in CPU minutes at 32 px,
# "medium" is the CPU 20-minute size, "keras_io" the tutorial's network (64 px, GPU).
DIFFUSION_UNET_VARIANTS = {
    "tiny": {"widths": (16, 32), "block_depth": 1},
    "small": {"widths": (16, 32, 64), "block_depth": 1},
    "medium": {"widths": (32, 64, 96), "block_depth": 2},
    "keras_io": {"widths": (32, 64, 96, 128), "block_depth": 2},
}


@keras.saving.register_keras_serializable(package="kitlib")
class SinusoidalEmbedding(keras.layers.Layer):
    """Maps a noise variance of shape ``(batch, 1, 1, 1)`` to ``(batch, 1, 1, dims)`` sines and cosines.

    Frequencies are spaced geometrically between ``min_frequency`` and ``max_frequency`` (the transformer position
    encoding applied to a continuous value). Computed in float32, returned in the layer's compute dtype.

    Args:
        dims: embedding size (even).
        min_frequency, max_frequency: the lowest and highest frequency.

    Example:
    >>> import numpy as np
    >>> e = SinusoidalEmbedding(8)(np.zeros((2, 1, 1, 1), "float32"))
    >>> tuple(e.shape), float(e[0, 0, 0, 0]), float(e[0, 0, 0, 4])
    ((2, 1, 1, 8), 0.0, 1.0)
    """

    def __init__(self, dims: int = 32, min_frequency: float = 1.0, max_frequency: float = 1000.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dims, bool) or not isinstance(dims, int) or dims < 2 or dims % 2:
            raise ValueError(f"dims must be an even integer >= 2. Received: dims={dims!r}")
        if not 0 < min_frequency < max_frequency:
            raise ValueError(f"Need 0 < min_frequency < max_frequency. Received: {min_frequency=}, {max_frequency=}")
        self.dims = dims
        self.min_frequency = float(min_frequency)
        self.max_frequency = float(max_frequency)

    def call(self, inputs):
        frequencies = ops.exp(ops.linspace(math.log(self.min_frequency), math.log(self.max_frequency), self.dims // 2))
        angular = ops.cast(2.0 * math.pi * frequencies, "float32")
        x = ops.cast(inputs, "float32") * angular
        return ops.cast(ops.concatenate([ops.sin(x), ops.cos(x)], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.dims,)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims, "min_frequency": self.min_frequency,
                "max_frequency": self.max_frequency}


def _check_rates(min_signal_rate: float, max_signal_rate: float) -> None:
    if not 0.0 < min_signal_rate < max_signal_rate < 1.0:
        raise ValueError(f"Need 0 < min_signal_rate < max_signal_rate < 1. Received: "
                         f"min_signal_rate={min_signal_rate}, max_signal_rate={max_signal_rate}")


def diffusion_schedule(diffusion_times, *, min_signal_rate: float = 0.02, max_signal_rate: float = 0.95):
    """The continuous cosine schedule: diffusion times in [0, 1] -> ``(noise_rates, signal_rates)``.

    ``t = 0`` gives ``signal_rate = max_signal_rate`` (almost clean), ``t = 1`` gives ``min_signal_rate`` (almost
    pure noise); the signal rate decreases and the noise rate increases with ``t``, and
    ``signal_rate ** 2 + noise_rate ** 2 = 1``.

    Args:
        diffusion_times: float tensor of any shape (usually ``(batch, 1, 1, 1)``).
        min_signal_rate, max_signal_rate: signal rates at ``t = 1`` and ``t = 0``.

    Returns:
        ``(noise_rates, signal_rates)``, float32 tensors of the shape of ``diffusion_times``.

    Example:
    >>> import numpy as np
    >>> noise, signal = diffusion_schedule(np.array([0.0, 1.0], "float32"))
    >>> [round(float(v), 4) for v in signal], round(float(noise[0]) ** 2 + float(signal[0]) ** 2, 4)
    ([0.95, 0.02], 1.0)
    """
    _check_rates(min_signal_rate, max_signal_rate)
    start_angle = math.acos(max_signal_rate)
    end_angle = math.acos(min_signal_rate)
    angles = start_angle + ops.cast(diffusion_times, "float32") * (end_angle - start_angle)
    return ops.sin(angles), ops.cos(angles)


def add_noise(images, diffusion_times, noises, *, min_signal_rate: float = 0.02, max_signal_rate: float = 0.95):
    """The forward (noising) process: ``signal_rate(t) * images + noise_rate(t) * noises``.

    Args:
        images: float images in [-1, 1], ``(batch, H, W, C)``.
        diffusion_times: ``(batch, 1, 1, 1)`` (or anything that broadcasts) in [0, 1].
        noises: standard normal noise of the images' shape.
        min_signal_rate, max_signal_rate: the schedule (see ``diffusion_schedule``).

    Returns:
        The noisy images (float32 tensor).

    Example:
    >>> import numpy as np
    >>> zeros, ones = np.zeros((1, 2, 2, 1), "float32"), np.ones((1, 2, 2, 1), "float32")
    >>> x = add_noise(zeros, np.ones((1, 1, 1, 1), "float32"), ones)
    >>> round(float(x[0, 0, 0, 0]), 4)    # noise_rate at t = 1: sqrt(1 - 0.02 ** 2)
    0.9998
    """
    noise_rates, signal_rates = diffusion_schedule(diffusion_times, min_signal_rate=min_signal_rate,
                                                   max_signal_rate=max_signal_rate)
    return signal_rates * ops.cast(images, "float32") + noise_rates * ops.cast(noises, "float32")


def _residual_block(x, width: int, prefix: str):
    """keras-io residual block: (1x1 projection if needed) + BN(no affine) -> conv3x3 swish -> conv3x3."""
    residual = x if x.shape[-1] == width else keras.layers.Conv2D(width, 1, name=f"{prefix}_proj")(x)
    x = FusedBatchNormalization(center=False, scale=False, name=f"{prefix}_norm")(x)
    x = keras.layers.Conv2D(width, 3, padding="same", activation="swish", name=f"{prefix}_conv1")(x)
    x = keras.layers.Conv2D(width, 3, padding="same", name=f"{prefix}_conv2")(x)
    return keras.layers.Add(name=f"{prefix}_add")([x, residual])


def diffusion_unet(
    image_size: int = 64,
    *,
    channels: int = 3,
    widths: tuple[int, ...] = (32, 64, 96, 128),
    block_depth: int = 2,
    condition_channels: int = 0,
    embedding_dims: int = 32,
    embedding_max_frequency: float = 1000.0,
    name: str | None = None,
) -> keras.Model:
    """Builds the residual U-Net that predicts the noise of a noisy image (keras-io DDIM architecture).

    ``conv1x1(noisy [+ condition]) ++ upsample(embedding(noise variance))`` -> ``len(widths) - 1`` down levels of
    ``block_depth`` residual blocks + average pooling -> ``block_depth`` residual blocks at ``widths[-1]`` -> mirrored
    up levels (bilinear upsampling, concatenation with every skip) -> conv1x1 to ``channels`` (float32).

    The output convolution starts near zero (keras-io uses exactly zero; a small non-zero start lets every layer
    get a gradient from the first step). Residual blocks normalise with non-affine BatchNormalization, as in keras-io.

    Reference:
    - [Song et al., 2020, DDIM](https://arxiv.org/abs/2010.02502)
    - [keras-io DDIM](https://keras.io/examples/generative/ddim/)
    - [Saharia et al., 2022, Palette](https://arxiv.org/abs/2111.05826) (condition concatenated to the input)

    Args:
        image_size: height and width; divisible by ``2 ** (len(widths) - 1)``.
        channels: image channels.
        widths: channels of each U-Net level (``DIFFUSION_UNET_VARIANTS`` names some).
        block_depth: residual blocks per level.
        condition_channels: 0 for an unconditional model; otherwise the channels of a condition image of the same
            size, fed as a third input named ``"condition"`` and concatenated to the noisy image.
        embedding_dims: size of the sinusoidal noise-level embedding.
        embedding_max_frequency: its highest frequency.
        name: model name (default ``"diffusion_unet"`` or ``"conditional_diffusion_unet"``).

    Returns:
        A ``keras.Model`` with inputs ``[noisy_images, noise_variances(, condition)]`` of shapes
        ``(H, W, channels)``, ``(1, 1, 1)`` (and ``(H, W, condition_channels)``), returning the predicted noise
        ``(H, W, channels)`` in float32.

    Example:
    >>> net = diffusion_unet(32, widths=(16, 32), block_depth=1, condition_channels=3)
    >>> [tuple(t.shape) for t in net.inputs]
    [(None, 32, 32, 3), (None, 1, 1, 1), (None, 32, 32, 3)]
    """
    widths = tuple(widths)
    if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints. Received: widths={widths!r}")
    for arg, value, low in (("image_size", image_size, 1), ("channels", channels, 1), ("block_depth", block_depth, 1),
                            ("condition_channels", condition_channels, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{arg} must be an integer >= {low}. Received: {arg}={value!r}")
    factor = 2 ** (len(widths) - 1)
    if image_size % factor:
        raise ValueError(f"image_size must be divisible by 2 ** (len(widths) - 1) = {factor}. Received: "
                         f"image_size={image_size} with widths={widths}; use fewer widths or a size multiple of "
                         f"{factor}.")
    name = name or ("conditional_diffusion_unet" if condition_channels else "diffusion_unet")

    noisy = keras.Input((image_size, image_size, channels), name="noisy_images")
    variances = keras.Input((1, 1, 1), name="noise_variances")
    inputs = [noisy, variances]
    x = noisy
    if condition_channels:
        condition = keras.Input((image_size, image_size, condition_channels), name="condition")
        inputs.append(condition)
        x = keras.layers.Concatenate(name="concat_condition")([noisy, condition])
    e = SinusoidalEmbedding(embedding_dims, max_frequency=embedding_max_frequency, name="noise_embedding")(variances)
    e = keras.layers.UpSampling2D(size=image_size, interpolation="nearest", name="embedding_upsample")(e)
    x = keras.layers.Conv2D(widths[0], 1, name="stem")(x)
    x = keras.layers.Concatenate(name="concat_embedding")([x, e])

    skips = []
    for level, width in enumerate(widths[:-1]):
        for block in range(block_depth):
            x = _residual_block(x, width, f"down{level}_block{block}")
            skips.append(x)
        x = keras.layers.AveragePooling2D(2, name=f"down{level}_pool")(x)
    for block in range(block_depth):
        x = _residual_block(x, widths[-1], f"mid_block{block}")
    for level in reversed(range(len(widths) - 1)):
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}_upsample")(x)
        for block in range(block_depth):
            x = keras.layers.Concatenate(name=f"up{level}_concat{block}")([x, skips.pop()])
            x = _residual_block(x, widths[level], f"up{level}_block{block}")
    out = keras.layers.Conv2D(
        channels, 1, name="predicted_noise", dtype="float32",
        kernel_initializer=keras.initializers.VarianceScaling(1e-2, mode="fan_in", distribution="truncated_normal"),
    )(x)
    return keras.Model(inputs, out, name=name)
