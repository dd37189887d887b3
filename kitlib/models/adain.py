"""Fast arbitrary style transfer (AdaIN): a frozen VGG19 encoder, adaptive instance normalisation, a decoder.

``AdaIN(x, y) = std(y) * (x - mean(x)) / std(x) + mean(y)``, with channel statistics over H, W per sample: the
content features take the style's channel means and standard deviations. The encoder is VGG19 up to
``block4_conv1`` (relu4_1), the decoder mirrors it (nearest-neighbour upsampling, reflection padding, no
normalisation) and is the only trained part. One forward pass stylises any image with any style; ``alpha`` trades
content for style and several styles can be interpolated in feature space.

Images are kitlib floats in [-1, 1]: the encoder maps them to VGG's input itself and the decoder's output is in
the same range (linear output, clipped by ``stylize``).

Reference: Huang & Belongie 2017, https://arxiv.org/abs/1703.06868 ; https://github.com/xunhuang1995/AdaIN-style

Example:
>>> import numpy as np
>>> encoder = adain_encoder(weights=None)
>>> decoder = adain_decoder(filters=8)
>>> out = stylize(encoder, decoder, np.zeros((1, 32, 32, 3), "float32"), np.zeros((1, 32, 32, 3), "float32"))
>>> out.shape
(1, 32, 32, 3)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kitlib.images import to_float
from kitlib.models.layers import ReflectionPadding2D
from kitlib.models.vgg import vgg19

ADAIN_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
ENCODER_CHANNELS = 512  # channels of block4_conv1


def adain(content, style, *, epsilon: float = 1e-5):
    """Adaptive instance normalisation of ``content`` features with the channel statistics of ``style``.

    Means and (biased) variances are taken over H, W per sample and channel in float32;
    ``std = sqrt(var + epsilon)``. ``style`` may have another spatial size, and a batch of 1 is broadcast.

    Args:
        content: ``(batch, H, W, C)`` features.
        style: ``(batch or 1, H', W', C)`` features.
        epsilon: added to the variances.

    Returns:
        float32 ``(batch, H, W, C)``: per channel, mean ``mean(style)`` and standard deviation
        ``std(style) * sqrt(var(content) / (var(content) + epsilon))`` (the style's, up to epsilon).

    Example:
    >>> import numpy as np
    >>> x = np.random.rand(1, 4, 4, 2).astype("float32")
    >>> y = 5.0 + 3.0 * np.random.rand(1, 4, 4, 2).astype("float32")
    >>> out = np.asarray(adain(x, y))
    >>> bool(np.allclose(out.mean(axis=(1, 2)), y.mean(axis=(1, 2)), atol=1e-4))
    True
    """
    c = ops.cast(content, "float32")
    s = ops.cast(style, "float32")
    c_mean, c_var = ops.moments(c, axes=[1, 2], keepdims=True)
    s_mean, s_var = ops.moments(s, axes=[1, 2], keepdims=True)
    return (c - c_mean) * ops.rsqrt(c_var + epsilon) * ops.sqrt(s_var + epsilon) + s_mean


@keras.saving.register_keras_serializable(package="kitlib")
class AdaIN(keras.layers.Layer):
    """``adain`` as a layer: called on ``[content_features, style_features]``.

    Args:
        epsilon: added to the variances.

    Example:
    >>> import numpy as np
    >>> tuple(AdaIN()([np.ones((2, 4, 4, 8), "float32"), np.ones((1, 2, 2, 8), "float32")]).shape)
    (2, 4, 4, 8)
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        if epsilon < 0:
            raise ValueError(f"epsilon must be >= 0. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        content, style = inputs
        return ops.cast(adain(content, style, epsilon=self.epsilon), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def adain_encoder(weights: str | os.PathLike | None = "imagenet", *, input_shape: tuple = (None, None, 3),
                  value_range: tuple[float, float] = (-1.0, 1.0), name: str = "adain_encoder") -> keras.Model:
    """Frozen VGG19 up to ``block4_conv1`` returning ``{name: features}`` for ``ADAIN_LAYERS`` (relu1_1..relu4_1).

    ``block4_conv1`` is the AdaIN input; all four layers feed the style loss.

    Args:
        weights: ``"imagenet"``, a path to the VGG19 ``.h5`` file, or ``None`` (random: code path only); see
            ``kitlib.models.vgg.resolve_vgg_weights``.
        input_shape: ``(H, W, 3)``, ``None`` sizes for any size (a multiple of 8 keeps the decoder's output size).
        value_range: range of the input images (kitlib's ``(-1, 1)`` by default).
        name: model name.

    Returns:
        A frozen ``keras.Model``.

    Example:
    >>> enc = adain_encoder(weights=None)
    >>> sorted(enc.output)
    ['block1_conv1', 'block2_conv1', 'block3_conv1', 'block4_conv1']
    """
    return vgg19(weights, ADAIN_LAYERS, input_shape=input_shape, value_range=value_range, trainable=False, name=name)


def adain_decoder(input_channels: int = ENCODER_CHANNELS, *, filters: int = 64,
                  name: str = "adain_decoder") -> keras.Model:
    """The AdaIN decoder: VGG19's ``block4_conv1`` mirrored back to an RGB image (8x larger).

    As in the official code: 3x3 convolutions after reflection padding with ReLU, nearest-neighbour upsampling,
    no normalisation, widths ``4f -> up -> 4f, 4f, 4f, 2f -> up -> 2f, f -> up -> f, 3`` (``f = filters``, 64 in
    the paper: 3.5 M parameters). The last convolution is linear and float32.

    Args:
        input_channels: channels of the features (512 for ``block4_conv1``).
        filters: base width ``f``; smaller values make a faster, weaker decoder for CPU demos.
        name: model name.

    Returns:
        A ``keras.Model`` mapping ``(batch, h, w, input_channels)`` to ``(batch, 8h, 8w, 3)``.

    Example:
    >>> dec = adain_decoder(filters=8)
    >>> dec.compute_output_shape((1, 4, 4, 512))
    (1, 32, 32, 3)
    """
    if int(input_channels) < 1 or int(filters) < 1:
        raise ValueError(f"input_channels and filters must be >= 1. Received: {input_channels=}, {filters=}")
    f = int(filters)
    plan = [(4 * f, "conv4_1"), "up3", (4 * f, "conv3_4"), (4 * f, "conv3_3"), (4 * f, "conv3_2"), (2 * f, "conv3_1"),
            "up2", (2 * f, "conv2_2"), (f, "conv2_1"), "up1", (f, "conv1_2")]
    inputs = keras.Input((None, None, int(input_channels)), name="features")
    x = inputs
    for step in plan:
        if isinstance(step, str):
            x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"dec_{step}")(x)
            continue
        width, label = step
        x = ReflectionPadding2D(1, name=f"dec_{label}_pad")(x)
        x = keras.layers.Conv2D(width, 3, activation="relu", name=f"dec_{label}")(x)
    x = ReflectionPadding2D(1, name="dec_conv1_1_pad")(x)
    outputs = keras.layers.Conv2D(3, 3, dtype="float32", name="dec_conv1_1")(x)
    return keras.Model(inputs, outputs, name=name)


def _as_images(images, what: str) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"{what} must be RGB images (N, H, W, 3) or (H, W, 3). Received shape {arr.shape}.")
    return to_float(arr)


def stylize(encoder: keras.Model, decoder: keras.Model, content, style, *, alpha: float = 1.0,
            style_weights: Sequence[float] | None = None, batch_size: int = 8) -> np.ndarray:
    """Stylises content images in one forward pass: ``decoder(alpha * AdaIN(f_c, f_s) + (1 - alpha) * f_c)``.

    Args:
        encoder: ``adain_encoder(...)``.
        decoder: a trained ``adain_decoder``.
        content: content images ``(N, H, W, 3)`` or ``(H, W, 3)``: floats in [-1, 1] or uint8.
        style: style images, one per content image ``(N, ...)`` or one for all ``(1, ...)``/``(H, W, 3)``; with
            ``style_weights``, a sequence of K such styles (any sizes) to interpolate.
        alpha: content-style trade-off in [0, 1]: 0 reconstructs the content, 1 is full style.
        style_weights: K non-negative weights (normalised to sum 1) mixing the styles' AdaIN targets.
        batch_size: images per forward pass.

    Returns:
        float32 numpy ``(N, H', W', 3)`` in [-1, 1] (``H' = 8 * (H // 8)``).

    Example:
    >>> import numpy as np
    >>> enc, dec = adain_encoder(weights=None), adain_decoder(filters=8)
    >>> x = np.zeros((2, 32, 32, 3), "float32")
    >>> stylize(enc, dec, x, [x[:1], x[:1]], style_weights=[0.3, 0.7]).shape
    (2, 32, 32, 3)
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]. Received: alpha={alpha!r}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size!r}")
    content = _as_images(content, "content")
    if style_weights is None:
        styles, weights = [_as_images(style, "style")], np.ones(1, "float32")
    else:
        styles = [_as_images(s, f"style {i}") for i, s in enumerate(style)]
        weights = np.asarray(style_weights, "float32")
        if weights.shape != (len(styles),) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"style_weights must be {len(styles)} non-negative numbers (one per style) with a "
                             f"positive sum. Received: style_weights={style_weights!r}")
        weights = weights / weights.sum()
    for i, s in enumerate(styles):
        if len(s) not in (1, len(content)):
            raise ValueError(f"style {i} has {len(s)} images; give 1 (used for every content image) or one per "
                             f"content image ({len(content)}).")
    last = ADAIN_LAYERS[-1]
    style_feats = [encoder(s, training=False)[last] for s in styles]
    out = []
    for start in range(0, len(content), int(batch_size)):
        chunk = content[start: start + int(batch_size)]
        f_c = ops.cast(encoder(chunk, training=False)[last], "float32")
        target = 0.0
        for w, f_s in zip(weights, style_feats):
            f_s = f_s if f_s.shape[0] == 1 else f_s[start: start + len(chunk)]
            target = target + float(w) * adain(f_c, f_s)
        target = float(alpha) * target + (1.0 - float(alpha)) * f_c
        out.append(np.clip(ops.convert_to_numpy(decoder(target, training=False)), -1.0, 1.0))
    return np.concatenate(out).astype("float32")


__all__ = ["ADAIN_LAYERS", "ENCODER_CHANNELS", "adain", "AdaIN", "adain_encoder", "adain_decoder", "stylize"]
