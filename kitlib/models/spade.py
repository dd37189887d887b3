"""SPADE / GauGAN networks: spatially-adaptive normalisation, its residual block, the generator, the VAE image
encoder and the multiscale PatchGAN discriminator, after NVlabs/SPADE.

The generator turns a one-hot label map (and a latent code) into an image; every normalisation in it is a
``SPADE`` layer whose per-pixel scale and shift are predicted from the label map, so the layout survives
normalisation all the way to the output.

```
label one-hot (H, W, C) ─┬──────────────────────────────── every SPADE layer (resized to its resolution)
z (z_dim) ─ dense ─ (H/2^n, W/2^n, 16·ngf) ─ head_0 ─ up ─ G_middle_0 ─ [up] ─ G_middle_1 ─ up ─ up_0 ─ up ─ up_1
                                   ─ up ─ up_2 ─ up ─ up_3 ─ [up ─ up_4] ─ LeakyReLU ─ conv_img ─ tanh
```
``n`` is 5, 6 or 7 upsamplings for ``num_upsampling_layers`` "normal", "more" or "most" (the bracketed steps).
Without a latent code (``z_dim=None``) the head is the reference's deterministic variant: the label map resized to
``(H/2^n, W/2^n)`` and a 3x3 conv.

Differences from the PyTorch reference, all deliberate:
- Spectral norm is ``keras.layers.SpectralNormalization``: after each power iteration it writes ``W / sigma`` back
  into the kernel (the TF-Addons behaviour) instead of PyTorch's re-parameterisation ``W = W_orig / sigma`` with a
  gradient through sigma. Both keep the spectral norm of the kernel near 1.
- The encoder downsamples to 4x4 with ``log2(size / 4)`` stride-2 convs instead of resizing every input to
  256x256 (the reference's fixed resize breaks below 256 px); at 256 px the two are the same network.
- The discriminator's 3x3 average-pool downsampling uses TensorFlow's "same" padding (padding excluded from the
  average, as the reference's ``count_include_pad=False``, but aligned to the top-left).

Reference:
- [Park et al., 2019, Semantic Image Synthesis with Spatially-Adaptive Normalization](
  https://arxiv.org/abs/1903.07291), code https://github.com/NVlabs/SPADE
- [Wang et al., 2018, pix2pixHD](https://arxiv.org/abs/1711.11585) (multiscale discriminator, feature matching)

Example:
>>> g, d, e = build_gaugan(32, 8, ngf=4, ndf=4, z_dim=8, spade_hidden=8)
>>> g.output_shape, len(d.output), e.output_shape
((None, 32, 32, 3), 2, [(None, 8), (None, 8)])
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from kitlib.models.layers import FusedBatchNormalization, InstanceNormalization, LeakyReLU, leaky_relu

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}
SPADE_NORMS = ("batch", "instance")
SPADE_DISCRIMINATOR_NORMS = ("instance", "none")
DISCRIMINATOR_NORMS = SPADE_DISCRIMINATOR_NORMS  # deprecated: models.dcgan has its own; use SPADE_DISCRIMINATOR_NORMS


def spade_initializer() -> keras.initializers.Initializer:
    """Xavier-normal kernels with gain 0.02, NVlabs/SPADE's default ``--init_type xavier --init_variance 0.02``.

    Spectral-normalised kernels are rescaled anyway; this is used for every other conv and dense layer.

    Example:
    >>> spade_initializer().scale
    0.0004
    """
    return keras.initializers.VarianceScaling(scale=0.02**2, mode="fan_avg", distribution="untruncated_normal")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")


def _check_positive_int(name: str, value, low: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}. Received: {name}={value!r}")
    return int(value)


def _check_shape(shape, arg: str) -> tuple[int, int, int]:
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in shape):
        raise ValueError(f"{arg} must be (height, width, channels) with known positive sizes. "
                         f"Received: {arg}={shape!r}")
    return tuple(int(v) for v in shape)


def _conv(filters: int, kernel_size: int, *, spectral: bool, use_bias: bool = True, strides: int = 1,
          padding: str = "same", name: str, dtype=None) -> keras.layers.Layer:
    """A Conv2D, wrapped in ``SpectralNormalization`` when ``spectral`` (the wrapper then carries ``name``)."""
    if spectral:
        conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                                   name=f"{name}_conv", dtype=dtype)
        return keras.layers.SpectralNormalization(conv, name=name, dtype=dtype)
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
                               kernel_initializer=spade_initializer(), name=name, dtype=dtype)


# ---------------------------------------------------------------------------------------------------------------
# layers


@keras.saving.register_keras_serializable(package="kitlib")
class SPADE(keras.layers.Layer):
    """Spatially-adaptive (de)normalisation: ``out = norm(x) * (1 + gamma(m)) + beta(m)``.

    ``norm`` is parameter-free (batch or instance statistics, no affine); ``gamma`` and ``beta`` are per-pixel,
    per-channel maps predicted from the label map ``m`` (nearest-resized to the resolution of ``x``) by a shared
    3x3 conv with ``hidden`` channels + ReLU, then one 3x3 conv each. Called on ``[x, segmap]``.

    Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), ``models/networks/normalization.py``

    Args:
        norm: the parameter-free normalisation, ``"batch"`` (the reference's synchronised batch norm) or
            ``"instance"``.
        hidden: channels of the shared conv (128 in the reference).
        kernel_size: kernel of the three convs (3).
        epsilon: added to the variance.

    Example:
    >>> import numpy as np
    >>> x, m = np.random.rand(2, 8, 8, 4).astype("float32"), np.zeros((2, 16, 16, 3), "float32")
    >>> tuple(SPADE(norm="instance", hidden=8)([x, m]).shape)
    (2, 8, 8, 4)
    """

    def __init__(self, norm: str = "batch", hidden: int = 128, kernel_size: int = 3, epsilon: float = 1e-5,
                 **kwargs):
        super().__init__(**kwargs)
        _check_choice("norm", norm, SPADE_NORMS)
        self.norm = norm
        self.hidden = _check_positive_int("hidden", hidden)
        self.kernel_size = _check_positive_int("kernel_size", kernel_size)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        x_shape, seg_shape = input_shape
        if len(x_shape) != 4 or len(seg_shape) != 4 or x_shape[-1] is None or seg_shape[-1] is None:
            raise ValueError(f"SPADE expects [x, segmap], both NHWC with known channels. Received: {input_shape}")
        channels = int(x_shape[-1])
        dtype = self.dtype_policy  # sublayers follow this layer's policy (also when loaded under another one)
        if self.norm == "batch":  # PyTorch momentum 0.1 is Keras momentum 0.9
            self.param_free_norm = FusedBatchNormalization(
                momentum=0.9, epsilon=self.epsilon, center=False, scale=False, name="param_free_norm", dtype=dtype)
        else:
            self.param_free_norm = InstanceNormalization(epsilon=self.epsilon, center=False, scale=False,
                                                         name="param_free_norm", dtype=dtype)
        self.param_free_norm.build(x_shape)
        conv = dict(kernel_size=self.kernel_size, padding="same", dtype=dtype)
        self.mlp_shared = keras.layers.Conv2D(self.hidden, activation="relu", kernel_initializer=spade_initializer(),
                                              name="mlp_shared", **conv)
        self.mlp_shared.build(seg_shape)
        hidden_shape = tuple(x_shape[:-1]) + (self.hidden,)
        self.mlp_gamma = keras.layers.Conv2D(channels, kernel_initializer=spade_initializer(), name="mlp_gamma", **conv)
        self.mlp_beta = keras.layers.Conv2D(channels, kernel_initializer=spade_initializer(), name="mlp_beta", **conv)
        self.mlp_gamma.build(hidden_shape)
        self.mlp_beta.build(hidden_shape)

    def call(self, inputs, training=None):
        x, segmap = inputs
        normalized = self.param_free_norm(x, training=training)
        height, width = x.shape[1], x.shape[2]
        if (height, width) != tuple(segmap.shape[1:3]):
            segmap = ops.image.resize(segmap, (height, width), interpolation="nearest")
        actv = self.mlp_shared(segmap)
        gamma = self.mlp_gamma(actv)
        beta = self.mlp_beta(actv)
        return normalized * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "norm": self.norm, "hidden": self.hidden, "kernel_size": self.kernel_size,
                "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="kitlib")
class SPADEResBlock(keras.layers.Layer):
    """SPADE residual block: two (SPADE, LeakyReLU 0.2, 3x3 conv) units plus a shortcut, on ``[x, segmap]``.

    The middle width is ``min(fin, filters)``. When the input width ``fin`` differs from ``filters`` the shortcut
    is learned: SPADE then a bias-free 1x1 conv. With ``spectral`` the three convs are spectral-normalised, as
    with the reference's ``norm_G = spectralspadesyncbatch3x3``.

    Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), ``SPADEResnetBlock`` in
    ``models/networks/architecture.py``

    Args:
        filters: output channels.
        norm: parameter-free normalisation of the SPADE layers, ``"batch"`` or ``"instance"``.
        hidden: channels of the SPADE layers' shared conv.
        spectral: spectral-normalise the convs.
        negative_slope: slope of the LeakyReLUs.

    Example:
    >>> import numpy as np
    >>> x, m = np.random.rand(2, 8, 8, 6).astype("float32"), np.ones((2, 8, 8, 3), "float32")
    >>> block = SPADEResBlock(4, hidden=8)
    >>> tuple(block([x, m]).shape), block.learned_shortcut
    ((2, 8, 8, 4), True)
    """

    def __init__(self, filters: int, *, norm: str = "batch", hidden: int = 128, spectral: bool = True,
                 negative_slope: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.filters = _check_positive_int("filters", filters)
        _check_choice("norm", norm, SPADE_NORMS)
        self.norm = norm
        self.hidden = _check_positive_int("hidden", hidden)
        self.spectral = bool(spectral)
        self.negative_slope = float(negative_slope)
        self.learned_shortcut = None

    def build(self, input_shape):
        x_shape, seg_shape = (tuple(s) for s in input_shape)
        fin = int(x_shape[-1])
        middle = min(fin, self.filters)
        self.learned_shortcut = fin != self.filters

        def shape(channels):
            return x_shape[:-1] + (channels,)

        dtype = self.dtype_policy  # sublayers follow this layer's policy (also when loaded under another one)
        spade = dict(norm=self.norm, hidden=self.hidden, dtype=dtype)
        self.norm_0 = SPADE(**spade, name="norm_0")
        self.norm_0.build([x_shape, seg_shape])
        self.conv_0 = _conv(middle, 3, spectral=self.spectral, name="conv_0", dtype=dtype)
        self.conv_0.build(shape(fin))
        self.norm_1 = SPADE(**spade, name="norm_1")
        self.norm_1.build([shape(middle), seg_shape])
        self.conv_1 = _conv(self.filters, 3, spectral=self.spectral, name="conv_1", dtype=dtype)
        self.conv_1.build(shape(middle))
        if self.learned_shortcut:
            self.norm_s = SPADE(**spade, name="norm_s")
            self.norm_s.build([x_shape, seg_shape])
            self.conv_s = _conv(self.filters, 1, spectral=self.spectral, use_bias=False, name="conv_s", dtype=dtype)
            self.conv_s.build(shape(fin))

    def _actvn(self, x):
        return leaky_relu(x, self.negative_slope)  # its gradient reads the output: no Grappler remapper error

    def call(self, inputs, training=None):
        x, segmap = inputs
        if self.learned_shortcut:
            x_s = self.conv_s(self.norm_s([x, segmap], training=training), training=training)
        else:
            x_s = x
        dx = self.conv_0(self._actvn(self.norm_0([x, segmap], training=training)), training=training)
        dx = self.conv_1(self._actvn(self.norm_1([dx, segmap], training=training)), training=training)
        return x_s + dx

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "norm": self.norm, "hidden": self.hidden,
                "spectral": self.spectral, "negative_slope": self.negative_slope}


# ---------------------------------------------------------------------------------------------------------------
# builders


def spade_generator(
    input_shape: tuple = (256, 256, 151),
    *,
    ngf: int = 64,
    z_dim: int | None = 256,
    num_upsampling_layers: str = "normal",
    norm: str = "batch",
    spade_hidden: int = 128,
    spectral: bool = True,
    name: str = "spade_generator",
) -> keras.Model:
    """Builds the SPADE generator (NVlabs ``SPADEGenerator``).

    Head: ``z -> Dense(16·ngf·h·w) -> reshape (h, w, 16·ngf)`` with ``(h, w) = (H, W) / 2**n``; then SPADE residual
    blocks with nearest 2x upsamplings between them: 16·ngf (head_0, G_middle_0, G_middle_1), 8·ngf, 4·ngf, 2·ngf,
    ngf (and ngf/2 for "most"), LeakyReLU(0.2), a 3x3 conv to RGB and tanh (float32 under mixed precision). Every
    SPADE layer sees the full-resolution label map.

    Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), ``models/networks/generator.py``

    Args:
        input_shape: ``(height, width, num_classes)`` of the one-hot label map; height and width must be multiples
            of ``2**n`` (32 for "normal", 64 for "more", 128 for "most").
        ngf: base width (64 in the paper; the head has ``16 * ngf`` channels).
        z_dim: latent size (256); the model then takes ``[label, z]``. ``None`` builds the reference's variant
            without a latent code: one input (the label map), the head a 3x3 conv on the downsized label map.
        num_upsampling_layers: ``"normal"`` (5), ``"more"`` (6) or ``"most"`` (7) upsamplings.
        norm: parameter-free normalisation inside SPADE, ``"batch"`` (reference) or ``"instance"``.
        spade_hidden: channels of each SPADE layer's shared conv (128 in the reference; smaller is faster).
        spectral: spectral norm on the residual blocks' convs (reference).
        name: model name.

    Returns:
        A ``keras.Model``: ``[label (B, H, W, C), z (B, z_dim)]`` (or ``label`` alone when ``z_dim`` is None) ->
        images ``(B, H, W, 3)`` in [-1, 1].

    Example:
    >>> g = spade_generator((32, 32, 8), ngf=4, z_dim=16, spade_hidden=8)
    >>> [tuple(i.shape) for i in g.inputs], g.output_shape
    ([(None, 32, 32, 8), (None, 16)], (None, 32, 32, 3))
    """
    _check_choice("num_upsampling_layers", num_upsampling_layers, UPSAMPLING_LAYERS)
    height, width, num_classes = _check_shape(input_shape, "input_shape")
    n_up = UPSAMPLING_LAYERS[num_upsampling_layers]
    factor = 2**n_up
    if height % factor or width % factor:
        raise ValueError(
            f"spade_generator with num_upsampling_layers={num_upsampling_layers!r} upsamples {n_up} times, so height "
            f"and width must be multiples of {factor}. Received: input_shape={tuple(input_shape)!r}; resize the "
            f"label maps to a multiple of {factor}"
            + (" or use num_upsampling_layers='normal' (32)." if n_up > 5 else "."))
    ngf = _check_positive_int("ngf", ngf, 2 if num_upsampling_layers == "most" else 1)
    if z_dim is not None:
        z_dim = _check_positive_int("z_dim", z_dim)
    _check_choice("norm", norm, SPADE_NORMS)
    spade_hidden = _check_positive_int("spade_hidden", spade_hidden)
    sh, sw = height // factor, width // factor

    label = keras.Input((height, width, num_classes), name="label")
    if z_dim is None:
        inputs = label
        x = keras.layers.Resizing(sh, sw, interpolation="nearest", name="downsample_label")(label)
        x = keras.layers.Conv2D(16 * ngf, 3, padding="same", kernel_initializer=spade_initializer(), name="fc")(x)
    else:
        z = keras.Input((z_dim,), name="z")
        inputs = [label, z]
        x = keras.layers.Dense(16 * ngf * sh * sw, kernel_initializer=spade_initializer(), name="fc")(z)
        x = keras.layers.Reshape((sh, sw, 16 * ngf), name="fc_reshape")(x)

    block = dict(norm=norm, hidden=spade_hidden, spectral=spectral)
    ups = iter(range(1, n_up + 1))

    def up(t):
        return keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up_sample_{next(ups)}")(t)

    x = SPADEResBlock(16 * ngf, **block, name="head_0")([x, label])
    x = up(x)
    x = SPADEResBlock(16 * ngf, **block, name="G_middle_0")([x, label])
    if n_up >= 6:
        x = up(x)
    x = SPADEResBlock(16 * ngf, **block, name="G_middle_1")([x, label])
    widths = [8 * ngf, 4 * ngf, 2 * ngf, ngf] + ([ngf // 2] if n_up == 7 else [])
    for i, filters in enumerate(widths):
        x = up(x)
        x = SPADEResBlock(filters, **block, name=f"up_{i}")([x, label])
    x = LeakyReLU(0.2, name="final_lrelu")(x)
    x = keras.layers.Conv2D(3, 3, padding="same", kernel_initializer=spade_initializer(), name="conv_img")(x)
    image = keras.layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(inputs, image, name=name)


def spade_encoder(
    input_shape: tuple = (256, 256, 3),
    *,
    ndf: int = 64,
    z_dim: int = 256,
    spectral: bool = True,
    name: str = "spade_encoder",
) -> keras.Model:
    """Builds the VAE image encoder of SPADE (NVlabs ``ConvEncoder``): an image -> ``(mu, logvar)`` of a style code.

    ``log2(size / 4)`` blocks of 3x3 stride-2 conv (zero padding 1, no bias, spectral norm) + parameter-free
    instance norm, with LeakyReLU(0.2) between blocks and after the last, down to 4x4 (channels
    ``ndf * min(2**i, 8)``: 64, 128, 256, 512, 512, 512 at 256 px), then two dense layers to ``mu`` and ``logvar``
    (float32). Sample a code with ``mu + exp(logvar / 2) * eps``.

    Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), ``models/networks/encoder.py``

    Args:
        input_shape: ``(height, width, 3)``; height and width equal powers of two >= 8.
        ndf: width of the first conv (64).
        z_dim: size of the style code (256).
        spectral: spectral-normalise the convs (reference ``norm_E = spectralinstance``).
        name: model name.

    Returns:
        A ``keras.Model``: images ``(B, H, W, C)`` in [-1, 1] -> ``[mu, logvar]``, each ``(B, z_dim)``.

    Example:
    >>> spade_encoder((32, 32, 3), ndf=4, z_dim=8).output_shape
    [(None, 8), (None, 8)]
    """
    height, width, channels = _check_shape(input_shape, "input_shape")
    if height != width or height < 8 or height & (height - 1):
        raise ValueError(f"spade_encoder needs square images whose side is a power of two >= 8. Received: "
                         f"input_shape={tuple(input_shape)!r}; resize the images (e.g. 64 or 256 px).")
    ndf = _check_positive_int("ndf", ndf)
    z_dim = _check_positive_int("z_dim", z_dim)
    image = keras.Input((height, width, channels), name="image")
    x = image
    for i in range(int(math.log2(height // 4))):
        if i:
            x = LeakyReLU(0.2, name=f"layer{i}_lrelu")(x)
        x = keras.layers.ZeroPadding2D(1, name=f"layer{i + 1}_pad")(x)
        x = _conv(ndf * min(2**i, 8), 3, strides=2, padding="valid", spectral=spectral, use_bias=False,
                  name=f"layer{i + 1}")(x)
        x = InstanceNormalization(center=False, scale=False, name=f"layer{i + 1}_norm")(x)
    x = LeakyReLU(0.2, name="final_lrelu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    mu = keras.layers.Dense(z_dim, kernel_initializer=spade_initializer(), dtype="float32", name="mu")(x)
    logvar = keras.layers.Dense(z_dim, kernel_initializer=spade_initializer(), dtype="float32", name="logvar")(x)
    return keras.Model(image, [mu, logvar], name=name)


def _patch_discriminator(input_shape: tuple, *, scale: int, ndf: int, n_layers: int, norm: str,
                         spectral: bool) -> keras.Model:
    """One scale of the multiscale discriminator: a model returning its ``n_layers`` features and its logits."""
    inputs = keras.Input(input_shape, name=f"scale_{scale}_input")
    x, outputs, nf = inputs, [], ndf
    for n in range(n_layers + 1):
        last = n == n_layers
        if n:
            nf = min(nf * 2, 512)
        stride = 2 if n == 0 or n < n_layers - 1 else 1
        prefix = "logits" if last else f"conv{n}"
        x = keras.layers.ZeroPadding2D(2, name=f"{prefix}_pad")(x)
        if last:
            x = keras.layers.Conv2D(1, 4, kernel_initializer=spade_initializer(), dtype="float32", name=prefix)(x)
        elif n == 0:
            x = keras.layers.Conv2D(nf, 4, strides=stride, kernel_initializer=spade_initializer(), name=prefix)(x)
        else:
            x = _conv(nf, 4, strides=stride, padding="valid", spectral=spectral, use_bias=norm == "none",
                      name=prefix)(x)
            if norm == "instance":
                x = InstanceNormalization(center=False, scale=False, name=f"{prefix}_norm")(x)
        if not last:
            x = LeakyReLU(0.2, name=f"{prefix}_lrelu")(x)
        outputs.append(x)
    return keras.Model(inputs, outputs, name=f"scale_{scale}")


def multiscale_discriminator(
    image_shape: tuple = (256, 256, 3),
    num_classes: int = 151,
    *,
    num_d: int = 2,
    n_layers: int = 4,
    ndf: int = 64,
    norm: str = "instance",
    spectral: bool = True,
    name: str = "multiscale_discriminator",
) -> keras.Model:
    """Builds SPADE's multiscale PatchGAN discriminator on ``concat(label one-hot, image)``.

    ``num_d`` PatchGANs see the input at full, half, quarter... resolution (3x3 stride-2 average pooling between
    scales). Each is 4x4 convs with zero padding 2: ``ndf`` channels stride 2 + LeakyReLU(0.2) (no norm), then
    ``n_layers - 1`` convs doubling the channels (max 512), stride 2 except the last (stride 1), each with spectral
    norm + parameter-free instance norm + LeakyReLU, and a 4x4 conv to one logit per patch (float32). Every scale
    returns its intermediate features (for the feature-matching loss) followed by its logits.

    Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), ``models/networks/discriminator.py`` ;
    [pix2pixHD](https://arxiv.org/abs/1711.11585)

    Args:
        image_shape: ``(height, width, 3)`` of the images.
        num_classes: channels of the one-hot label map.
        num_d: number of scales (2).
        n_layers: feature layers per scale (4).
        ndf: channels of the first conv (64).
        norm: ``"instance"`` (reference ``norm_D = spectralinstance``) or ``"none"``.
        spectral: spectral norm on the normalised convs (reference).
        name: model name.

    Returns:
        A ``keras.Model`` on ``[label (B, H, W, num_classes), image (B, H, W, 3)]`` returning a list of ``num_d``
        lists ``[feature_1, ..., feature_{n_layers}, logits]``.

    Example:
    >>> d = multiscale_discriminator((32, 32, 3), 8, ndf=4)
    >>> outputs = d.output
    >>> len(outputs), len(outputs[0]), tuple(outputs[0][-1].shape), tuple(outputs[1][-1].shape)
    (2, 5, (None, 7, 7, 1), (None, 5, 5, 1))
    """
    height, width, channels = _check_shape(image_shape, "image_shape")
    num_classes = _check_positive_int("num_classes", num_classes)
    num_d = _check_positive_int("num_d", num_d)
    n_layers = _check_positive_int("n_layers", n_layers)
    ndf = _check_positive_int("ndf", ndf)
    _check_choice("norm", norm, SPADE_DISCRIMINATOR_NORMS)
    label = keras.Input((height, width, num_classes), name="label")
    image = keras.Input((height, width, channels), name="image")
    x = keras.layers.Concatenate(name="concat_label_image")([label, image])
    outputs = []
    for scale in range(num_d):
        if scale:
            x = keras.layers.AveragePooling2D(3, strides=2, padding="same", name=f"downsample_{scale}")(x)
        patch_d = _patch_discriminator(tuple(x.shape[1:]), scale=scale, ndf=ndf, n_layers=n_layers, norm=norm,
                                       spectral=spectral)
        outputs.append(patch_d(x))
    return keras.Model([label, image], outputs, name=name)


def build_gaugan(
    image_size: int | tuple[int, int] = 256,
    num_classes: int = 151,
    *,
    ngf: int = 64,
    ndf: int = 64,
    z_dim: int | None = 256,
    use_encoder: bool = True,
    num_upsampling_layers: str = "normal",
    norm: str = "batch",
    spade_hidden: int = 128,
    num_d: int = 2,
    n_layers: int = 4,
) -> tuple[keras.Model, keras.Model, keras.Model | None]:
    """Builds the three GauGAN networks with matching shapes: generator, discriminator and (optional) encoder.

    Args:
        image_size: side of square images, or ``(height, width)``.
        num_classes: label classes (one-hot channels, dontcare excluded).
        ngf, ndf: widths of the generator/encoder and of the discriminator (64, 64).
        z_dim: latent / style-code size (256); ``None`` builds the deterministic generator (no encoder then).
        use_encoder: build the VAE image encoder (needs ``z_dim``).
        num_upsampling_layers, norm, spade_hidden: see ``spade_generator``.
        num_d, n_layers: see ``multiscale_discriminator``.

    Returns:
        ``(generator, discriminator, encoder_or_None)``.

    Example:
    >>> g, d, e = build_gaugan(64, 8, ngf=2, ndf=2, z_dim=4, spade_hidden=4, use_encoder=False)
    >>> e is None, g.output_shape
    (True, (None, 64, 64, 3))
    """
    if use_encoder and z_dim is None:
        raise ValueError("use_encoder=True needs a latent code. Received: z_dim=None; pass z_dim=256 (or another "
                         "size) or use_encoder=False.")
    height, width = (image_size, image_size) if isinstance(image_size, numbers.Integral) else tuple(image_size)
    generator = spade_generator((height, width, num_classes), ngf=ngf, z_dim=z_dim,
                                num_upsampling_layers=num_upsampling_layers, norm=norm, spade_hidden=spade_hidden)
    discriminator = multiscale_discriminator((height, width, 3), num_classes, num_d=num_d, n_layers=n_layers, ndf=ndf)
    encoder = spade_encoder((height, width, 3), ndf=ngf, z_dim=z_dim) if use_encoder else None
    return generator, discriminator, encoder


__all__ = [
    "SPADE", "SPADEResBlock", "UPSAMPLING_LAYERS", "build_gaugan", "multiscale_discriminator", "spade_encoder",
    "spade_generator", "spade_initializer",
]
