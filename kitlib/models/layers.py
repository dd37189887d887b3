"""Small layers shared by several model builders.

`InstanceNormalization` is kitlib's fast instance norm (docs/ARCHITECTURE.md, "Speed"): mean and variance over H, W per
sample and channel, computed in float32 (so it is safe under mixed bfloat16/float16 policies), with an optional
learned affine transform, run as one fused batch-norm kernel. It equals `keras.layers.GroupNormalization(groups=-1)`
numerically, values and gradients (see the tests), and runs much faster on CPU.

`FusedBatchNormalization` is `keras.layers.BatchNormalization` whose training-mode pass over NHWC images is the same
single fused kernel (Keras 3 computes it as separate moments/subtract/multiply ops in float32): same weights, moving
statistics and outputs, 2-4x faster per layer on CPU.

`ReplicaDropout` is `keras.layers.Dropout` whose masks under several replicas are those of one device (the builders'
dropout layers).

`FastConv2D` and `FastConv2DTranspose` are the Keras convolutions, computed on the CPU in an equal form that
oneDNN runs faster where its own kernels are slow: over a few pixels (a U-Net's innermost blocks: batch 1, 1x1 to
16x16 maps, 512-1024 channels) as one matrix product, 1.2-3.7x faster; and a stride-1 convolution to a few output
channels (a generator's RGB head) as the transposed convolution of its flipped kernel, 2.4x faster.

The builder helpers every image-to-image builder shares (ResNet, U-Net, PatchGAN) live here too:
`check_image_shape`, `gan_initializer` and `normalization_layer` (`NORMS`).
"""

from __future__ import annotations

import numbers

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="kitlib")
class InstanceNormalization(keras.layers.Layer):
    """Instance normalization (Ulyanov et al. 2016) for NHWC images.

    Reference: https://arxiv.org/abs/1607.08022

    Args:
        epsilon: added to the variance.
        center: learn a per-channel offset (beta).
        scale: learn a per-channel scale (gamma).

    Example:
    >>> import numpy as np
    >>> y = InstanceNormalization()(np.random.rand(2, 8, 8, 3).astype("float32"))
    >>> tuple(y.shape)
    (2, 8, 8, 3)
    """

    def __init__(self, epsilon: float = 1e-5, center: bool = True, scale: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"InstanceNormalization expects NHWC input with a known channel count. Received: {input_shape}"
            )
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma") if self.scale else None
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta") if self.center else None

    def call(self, inputs):
        # Instance norm of (B, H, W, C) is training-mode batch norm of (1, H, W, B*C): one fused kernel forward and
        # one backward (statistics in float32 for bfloat16/float16 inputs), 2.4-3.4x faster on a CPU than the same
        # maths as separate moments/subtract/multiply ops, and the same on GPUs (cuDNN).
        channels = inputs.shape[-1]
        shape = tf.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        x = tf.reshape(tf.transpose(inputs, [1, 2, 0, 3]), [1, height, width, batch * channels])
        gamma = tf.ones([channels]) if self.gamma is None else tf.cast(self.gamma, "float32")
        beta = tf.zeros([channels]) if self.beta is None else tf.cast(self.beta, "float32")
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, tf.tile(gamma, [batch]), tf.tile(beta, [batch]),
                                                   epsilon=self.epsilon, is_training=True)
        return tf.transpose(tf.reshape(y, [height, width, batch, channels]), [2, 0, 1, 3])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


@keras.saving.register_keras_serializable(package="kitlib")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with its training-mode pass over NHWC images as one fused kernel.

    Same arguments, weights (gamma, beta, moving mean and variance), outputs, gradients and moving-statistics
    updates as the Keras layer (tested against it). In training mode on 4-D channels-last input it calls TensorFlow's
    fused batch norm (one kernel forward, one backward; statistics in float32 for bfloat16/float16 inputs), 2-4x
    faster per layer on CPU than Keras 3's separate float32 ops; everything else (inference, masks, renorm,
    `synchronized=True` with several replicas in sync, other ranks or axes) is the Keras layer's own code. The
    kernel raises an `epsilon` below 1.001e-5 to 1.001e-5 (cuDNN's limit), a change far below float32 resolution of
    the variance for real activations.

    Args:
        Those of `keras.layers.BatchNormalization`.

    Example:
    >>> import numpy as np
    >>> bn = FusedBatchNormalization(epsilon=1e-5)
    >>> y = bn(np.random.rand(4, 8, 8, 3).astype("float32"), training=True)
    >>> tuple(y.shape), bool(abs(float(y.numpy().mean())) < 1e-4)
    ((4, 8, 8, 3), True)
    """

    def _fused(self, inputs, training, mask) -> bool:
        # `renorm` exists from Keras 3.14 on; on older Keras the layer has no such option (so it is off).
        # `synchronized` only matters with several replicas in sync: a network trained on several devices runs the
        # same fused kernel on one.
        replica = tf.distribute.get_replica_context()
        return (bool(training) and self.trainable and mask is None and not getattr(self, "renorm", False)
                and not (self.synchronized and replica is not None and replica.num_replicas_in_sync > 1)
                and len(inputs.shape) == 4 and self.axis in (-1, 3)
                and inputs.dtype in (tf.float32, tf.bfloat16, tf.float16))

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        gamma = tf.cast(self.gamma, "float32") if self.scale else tf.ones([channels])
        beta = tf.cast(self.beta, "float32") if self.center else tf.zeros([channels])
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(inputs, gamma, beta, epsilon=self.epsilon,
                                                             is_training=True)
        # The kernel returns the Bessel-corrected variance n/(n-1) * biased (times 1 when n = 1, where it is 0);
        # Keras's moving variance follows the biased one.
        n = tf.cast(tf.size(inputs, out_type=tf.int64) // channels, "float32")
        variance = variance * (n - 1.0) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return ops.cast(y, self.compute_dtype)


# Largest number of matrix rows (batch x pixels: output pixels of a conv, input pixels of a transposed conv) for
# which the matmul form was measured faster than oneDNN's bf16/fp32 convolutions on the project's 2-core CPU.
MATMUL_CONV_MAX_ROWS = 64
MATMUL_CONV_TRANSPOSE_MAX_ROWS = 1024
# Most output channels for which a stride-1 convolution runs faster as the transposed convolution of its flipped
# kernel (oneDNN's forward kernels are slow with few output channels, its backward-data ones are not).
ADJOINT_CONV_MAX_FILTERS = 4


def _same_or_valid(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output size, padding before, padding after) of a TF/Keras convolution along one axis."""
    if padding == "valid":
        return (size - kernel) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def _geometry(shape, kernel, strides, padding):
    """Static geometry of a 2-D convolution on ``shape = (batch, height, width, channels)``: the output size and
    the paddings of the input (as ``tf.pad`` takes them)."""
    _, height, width, _ = shape
    oh, ph0, ph1 = _same_or_valid(height, kernel[0], strides[0], padding)
    ow, pw0, pw1 = _same_or_valid(width, kernel[1], strides[1], padding)
    return (oh, ow), [[0, 0], [ph0, ph1], [pw0, pw1], [0, 0]]


def _conv_as_matmul(inputs, kernel, strides, padding):
    """``conv2d(inputs, kernel)`` (NHWC, kernel ``(kh, kw, in, out)``, each kernel size a multiple of its stride) as
    im2col + one matmul. Kernel tap ``i = q * s + r`` of output ``a`` reads padded input ``s * (a + q) + r``: block
    ``a + q``, phase ``r`` of the space-to-depth image, so im2col is (kh/s)(kw/s) contiguous block windows."""
    batch, _, _, channels = inputs.shape
    (kh, kw), (sh, sw) = kernel.shape[:2], strides
    (oh, ow), pads = _geometry(inputs.shape, (kh, kw), strides, padding)
    height, width = inputs.shape[1] + pads[1][0] + pads[1][1], inputs.shape[2] + pads[2][0] + pads[2][1]
    bh, bw = -(-height // sh), -(-width // sw)  # blocks; zero rows past the padded image are never read
    pads[1][1] += bh * sh - height
    pads[2][1] += bw * sw - width
    blocks = tf.reshape(tf.pad(inputs, pads), [batch, bh, sh, bw, sw, channels])
    blocks = tf.transpose(blocks, [0, 1, 3, 2, 4, 5])                      # (b, bh, bw, rh, rw, c)
    qh, qw = kh // sh, kw // sw
    windows = tf.stack([blocks[:, i: i + oh, j: j + ow] for i in range(qh) for j in range(qw)], axis=3)
    windows = tf.reshape(windows, [batch, oh, ow, qh, qw, sh, sw, channels])
    patches = tf.transpose(windows, [0, 1, 2, 3, 5, 4, 6, 7])              # (b, oh, ow, qh, rh, qw, rw, c)
    rows = tf.reshape(patches, [batch * oh * ow, kh * kw * channels])
    out = tf.matmul(rows, tf.reshape(kernel, [kh * kw * channels, kernel.shape[-1]]))
    return tf.reshape(out, [batch, oh, ow, kernel.shape[-1]])


def _conv_transpose_as_matmul(inputs, kernel, strides, padding, output_hw):
    """``conv2d_transpose(inputs, kernel)`` (kernel ``(kh, kw, out, in)``, sizes multiples of the strides) as one
    matmul + col2im, the exact adjoint of ``_conv_as_matmul``: input ``a`` adds tap ``q * s + r`` to padded output
    ``s * (a + q) + r``, i.e. (kh/s)(kw/s) shifted block images summed, then depth-to-space and the crop."""
    batch, height, width, channels = inputs.shape
    (kh, kw), (sh, sw), filters = kernel.shape[:2], strides, kernel.shape[2]
    qh, qw = kh // sh, kw // sw
    cols = tf.matmul(tf.reshape(inputs, [batch * height * width, channels]),
                     tf.reshape(kernel, [kh * kw * filters, channels]), transpose_b=True)
    cols = tf.reshape(cols, [batch, height, width, qh, sh, qw, sw, filters])
    cols = tf.transpose(cols, [3, 5, 0, 1, 2, 4, 6, 7])                    # (qh, qw, b, h, w, rh, rw, f)
    pieces = tf.unstack(tf.reshape(cols, [qh * qw, batch, height, width, sh, sw, filters]))
    blocks = tf.add_n([tf.pad(piece, [[0, 0], [i, qh - 1 - i], [j, qw - 1 - j], [0, 0], [0, 0], [0, 0]])
                       for piece, (i, j) in zip(pieces, [(i, j) for i in range(qh) for j in range(qw)])])
    full = tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]),           # (b, bh, rh, bw, rw, f)
                      [batch, (height + qh - 1) * sh, (width + qw - 1) * sw, filters])
    _, pads = _geometry((batch, *output_hw, filters), (kh, kw), strides, padding)
    top, left = pads[1][0], pads[2][0]
    extra_h = max(top + output_hw[0] - full.shape[1], 0)  # output rows that no input reaches are zeros
    extra_w = max(left + output_hw[1] - full.shape[2], 0)
    if extra_h or extra_w:
        full = tf.pad(full, [[0, 0], [0, extra_h], [0, extra_w], [0, 0]])
    return full[:, top: top + output_hw[0], left: left + output_hw[1], :]


def _conv_as_adjoint(inputs, kernel, padding):
    """Stride-1 ``conv2d(inputs, kernel)`` (``"same"`` with odd kernel sizes, or ``"valid"``) as ``conv2d_transpose``
    of the spatially flipped kernel with input and output channels swapped: the same sums. ``"same"`` maps to
    ``"SAME"``; ``"valid"`` is the centre of the transposed convolution's ``"VALID"`` (full) output."""
    (oh, ow), _ = _geometry(inputs.shape, kernel.shape[:2], (1, 1), padding)
    (kh, kw), batch, height, width = kernel.shape[:2], *inputs.shape[:3]
    flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
    if padding == "same":
        return tf.nn.conv2d_transpose(inputs, flipped, [batch, oh, ow, kernel.shape[-1]], 1, "SAME")
    full = tf.nn.conv2d_transpose(inputs, flipped, [batch, height + kh - 1, width + kw - 1, kernel.shape[-1]], 1,
                                  "VALID")
    return full[:, kh - 1: kh - 1 + oh, kw - 1: kw - 1 + ow, :]


@tf.custom_gradient
def _add_bias(x, bias):
    """``x + bias`` over the last axis, its bias gradient summed by one matmul with a row of ones: 5x faster than
    TensorFlow's ``BiasAddGrad`` on a DCGAN's 64x64x64x128 bfloat16 gradient (oneDNN fuses convolutions' own bias
    gradients; transposed convolutions get none)."""
    def grad(dy):
        rows = tf.reshape(dy, [-1, dy.shape[-1]])
        total = tf.matmul(tf.ones([1, tf.shape(rows)[0]], dy.dtype), rows)
        return dy, tf.reshape(total, [-1])

    return tf.nn.bias_add(x, bias), grad


def _rewritable(layer, shape) -> bool:
    """Whether ``layer`` may use one of the equal CPU forms on input ``shape``: static shape, channels-last, no
    dilation and no GPU visible (cuDNN's kernels need no help)."""
    return (all(d is not None for d in shape) and layer.data_format == "channels_last"
            and tuple(layer.dilation_rate) == (1, 1) and not tf.config.list_physical_devices("GPU"))


def _matmul_applies(layer, rows: int, limit: int) -> bool:
    return rows <= limit and all(k % s == 0 for k, s in zip(layer.kernel_size, layer.strides))


@keras.saving.register_keras_serializable(package="kitlib")
class FastConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` computed, on the CPU, in an equal form where oneDNN's own kernels are slow.

    Same arguments, weights and function as the Keras layer (tested equal, values and gradients). When the batch
    and image size are known, batch x output pixels is at most `MATMUL_CONV_MAX_ROWS` (64), each kernel size is a
    multiple of its stride, and no GPU is visible, the convolution is im2col (space-to-depth blocks) and one matmul:
    1.2-2.1x faster (forward + both gradients, bfloat16) than oneDNN's kernels for a U-Net's 4x4 stride-2
    convolutions from 16x16 down to 1x1 at batch 1. Else a stride-1 convolution from at least 32 to at most
    `ADJOINT_CONV_MAX_FILTERS` (4) channels (``"valid"``, or ``"same"`` with odd kernel sizes) is computed as the
    transposed convolution of its flipped kernel: 2.4x faster for the seed DCGAN's 7x7 128 -> 3 RGB head at batch 64,
    1.3x for the ResNet generator's and PatchGAN's last convolutions. Otherwise it is the Keras convolution.

    Example:
    >>> import numpy as np
    >>> conv = FastConv2D(8, 4, strides=2, padding="same")
    >>> tuple(conv(np.zeros((1, 4, 4, 16), "float32")).shape)
    (1, 2, 2, 8)
    """

    def convolution_op(self, inputs, kernel):
        if self.groups != 1 or not _rewritable(self, inputs.shape):
            return super().convolution_op(inputs, kernel)
        (oh, ow), _ = _geometry(inputs.shape, self.kernel_size, self.strides, self.padding)
        if _matmul_applies(self, inputs.shape[0] * oh * ow, MATMUL_CONV_MAX_ROWS):
            return _conv_as_matmul(inputs, kernel, self.strides, self.padding)
        if (self.filters <= ADJOINT_CONV_MAX_FILTERS and inputs.shape[-1] >= 32 and tuple(self.strides) == (1, 1)
                and (self.padding == "valid" or all(k % 2 for k in self.kernel_size))):
            return _conv_as_adjoint(inputs, kernel, self.padding)
        return super().convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="kitlib")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` that computes transposed convolutions of a few pixels as one matrix product.

    Same arguments, weights and function as the Keras layer (tested equal, values and gradients). When the batch
    and image size are known, batch x input pixels is at most `MATMUL_CONV_TRANSPOSE_MAX_ROWS` (1024), each kernel
    size is a multiple of its stride, there is no `output_padding` and no GPU is visible, it is one matmul to
    ``kh * kw * filters`` channels and a col2im: 1.4-3.7x faster (forward + both gradients, bfloat16) than oneDNN's
    kernels for a U-Net decoder's 1x1 -> 64x64 blocks at batch 1. Otherwise it is the Keras transposed convolution.
    Either way its bias gradient is one matmul (5x faster than ``BiasAddGrad`` at a DCGAN's sizes).

    Example:
    >>> import numpy as np
    >>> up = FastConv2DTranspose(8, 4, strides=2, padding="same")
    >>> tuple(up(np.zeros((1, 2, 2, 16), "float32")).shape)
    (1, 4, 4, 8)
    """

    def call(self, inputs):
        if self.output_padding is not None or self.data_format != "channels_last":
            return super().call(inputs)
        if _rewritable(self, inputs.shape) and _matmul_applies(
                self, inputs.shape[0] * inputs.shape[1] * inputs.shape[2], MATMUL_CONV_TRANSPOSE_MAX_ROWS):
            output_hw = self.compute_output_shape(inputs.shape)[1:3]
            outputs = _conv_transpose_as_matmul(inputs, self.kernel, self.strides, self.padding, output_hw)
        else:
            outputs = ops.conv_transpose(inputs, self.kernel, strides=list(self.strides), padding=self.padding,
                                         dilation_rate=self.dilation_rate, data_format=self.data_format)
        if self.use_bias:
            outputs = _add_bias(outputs, tf.cast(self.bias, outputs.dtype))
        return self.activation(outputs) if self.activation is not None else outputs


def leaky_relu(x, negative_slope: float = 0.2):
    """``tf.nn.leaky_relu`` whose gradient reads the output instead of the input (the same gradient, since a slope
    >= 0 keeps signs). Every LeakyReLU in kitlib's networks goes through it.

    Why: when an add feeds TensorFlow's LeakyRelu (a convolution's BiasAdd, or SPADE's ``x * (1 + gamma) + beta``),
    Grappler's remapper (CPU, oneDNN) fuses the add into the activation, then finds the gradient's `LeakyReluGrad`
    still reading the removed add, prints ``E0000 ... remapper failed: ... fanout '.../LeakyReluGrad' exist for
    missing node '.../BiasAdd'`` (or ``'.../add_1'``) and skips its fusions for the whole step. Read from the
    output, the add has one reader and the fusion goes through.

    Example:
    >>> import numpy as np
    >>> leaky_relu(np.array([-1.0, 2.0], "float32"), 0.2).numpy().tolist()
    [-0.20000000298023224, 2.0]
    """

    @tf.custom_gradient
    def forward(inputs):
        y = tf.nn.leaky_relu(inputs, negative_slope)
        return y, lambda dy: tf.raw_ops.LeakyReluGrad(gradients=dy, features=y, alpha=negative_slope)

    return forward(x)


@keras.saving.register_keras_serializable(package="kitlib")
class ReplicaDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose masks under several replicas (``tf.distribute``) are those of one device.

    Every replica's copy of the layer's seed generator holds the same state, so the Keras layer draws the same masks
    on every replica: row ``r`` of each replica's share gets the mask of row ``r`` of the first. This layer draws the
    masks of the whole global batch (identical on every replica) and keeps this replica's rows, so each row gets the
    mask one device would give it. With one replica, or outside training, it is the Keras layer. A ``noise_shape``
    with a fixed first entry (one mask shared by the rows) is drawn as the Keras layer does.

    Example:
    >>> import numpy as np
    >>> y = ReplicaDropout(0.5, seed=0)(np.ones((2, 4), "float32"), training=True)
    >>> sorted(set(y.numpy().ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def call(self, inputs, training=False):
        replica = tf.distribute.get_replica_context()
        replicas = 1 if replica is None else replica.num_replicas_in_sync
        shared = self.noise_shape is not None and self.noise_shape[0] is not None
        if not training or self.rate == 0 or replicas == 1 or shared:
            return super().call(inputs, training=training)
        shape = tf.shape(inputs)
        ones = tf.ones(tf.concat([[shape[0] * replicas], shape[1:]], 0), inputs.dtype)
        # x * (scale * keep) rounds as the one-device x * scale * keep: the same values, row for row
        mask = keras.random.dropout(ones, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator)
        start = replica.replica_id_in_sync_group * shape[0]
        return inputs * tf.ensure_shape(mask[start:start + shape[0]], inputs.shape)


@keras.saving.register_keras_serializable(package="kitlib")
class LeakyReLU(keras.layers.LeakyReLU):
    """`keras.layers.LeakyReLU` computed by ``leaky_relu`` above (its gradient reads the output; see why there).

    Example:
    >>> import numpy as np
    >>> LeakyReLU(0.2)(np.array([-1.0, 2.0], "float32")).numpy().tolist()
    [-0.20000000298023224, 2.0]
    """

    def call(self, inputs):
        return leaky_relu(inputs, self.negative_slope)


@keras.saving.register_keras_serializable(package="kitlib")
class NearestUpSampling2D(keras.layers.UpSampling2D):
    """`keras.layers.UpSampling2D` with nearest interpolation, channels-last, computed by ``broadcast_to`` and a
    reshape (same values and gradients).

    Why: Keras computes it with ``tf.repeat``, whose training graph makes TensorFlow's oneDNN build print ``E0000 ...
    oneDNN supports DT_INT32 only on platforms with AVX-512`` (even on AVX-512 CPUs) before falling back.

    Example:
    >>> import numpy as np
    >>> NearestUpSampling2D(2)(np.arange(4, dtype="float32").reshape(1, 2, 2, 1))[0, :, :, 0].numpy().tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0], [2.0, 2.0, 3.0, 3.0]]
    """

    def __init__(self, size=(2, 2), **kwargs):
        kwargs.pop("interpolation", None)
        kwargs.pop("data_format", None)
        super().__init__(size, data_format="channels_last", interpolation="nearest", **kwargs)

    def call(self, inputs):
        (fh, fw), shape = self.size, tf.shape(inputs)
        tiled = tf.broadcast_to(inputs[:, :, None, :, None, :], [shape[0], shape[1], fh, shape[2], fw, shape[3]])
        return tf.reshape(tiled, [shape[0], shape[1] * fh, shape[2] * fw, shape[3]])


@keras.saving.register_keras_serializable(package="kitlib")
class ReflectionPadding2D(keras.layers.Layer):
    """Reflection padding of H and W (as in Johnson et al. / CycleGAN ResNet generators).

    Args:
        padding: pixels added on each side of H and W.

    Example:
    >>> import numpy as np
    >>> tuple(ReflectionPadding2D(3)(np.zeros((1, 8, 8, 3), "float32")).shape)
    (1, 14, 14, 3)
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) < 0:
            raise ValueError(f"padding must be >= 0. Received: padding={padding!r}")
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        p = 2 * self.padding
        return (n, None if h is None else h + p, None if w is None else w + p, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


# ----------------------------------------------------------------------------------------------------------------
# Builder helpers shared by the image-to-image builders (resnet, unet, patchgan)
# ----------------------------------------------------------------------------------------------------------------
NORMS = ("instance", "batch", "none")


def check_image_shape(input_shape, *, arg: str = "input_shape", multiple: int = 1) -> tuple:
    """Validates an `(height, width, channels)` shape and returns it as a tuple.

    Height and width may be `None` (any size, fully convolutional use); known sizes must be positive multiples of
    `multiple`. The channel count must be known.

    Args:
        input_shape: the shape to check.
        arg: the argument name used in error messages.
        multiple: required divisor of known height and width.

    Returns:
        The shape as a tuple of three entries.

    Example:
    >>> check_image_shape([64, 64, 3], multiple=4)
    (64, 64, 3)
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3:
        raise ValueError(f"{arg} must be (height, width, channels). Received: {arg}={input_shape!r}")
    shape = tuple(int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v for v in shape)
    height, width, channels = shape
    if type(channels) is not int or channels < 1:
        raise ValueError(f"{arg} needs a known positive channel count as its last entry. Received: {arg}={shape!r}")
    for size in (height, width):
        if size is not None and (type(size) is not int or size < 1):
            raise ValueError(f"{arg} height and width must be positive ints or None. Received: {arg}={shape!r}")
        if size is not None and size % multiple:
            raise ValueError(
                f"{arg} height and width must be divisible by {multiple} for this architecture. Received: "
                f"{arg}={shape!r}; resize or crop the images to a multiple of {multiple}."
            )
    return shape


def gan_initializer() -> keras.initializers.Initializer:
    """Returns a fresh N(0, 0.02) kernel initializer (DCGAN, pix2pix and CycleGAN papers).

    A new instance per layer keeps layers independent and respects `keras.utils.set_random_seed`.

    Example:
    >>> gan_initializer().stddev
    0.02
    """
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def normalization_layer(norm: str, name: str) -> keras.layers.Layer | None:
    """Builds the normalization layer named by `norm`, or returns None for `"none"`.

    `"instance"` is kitlib's fast affine `InstanceNormalization`; `"batch"` is `FusedBatchNormalization` with
    gamma ~ N(1, 0.02) as in junyanz's `init_weights`.

    Args:
        norm: one of `"instance"`, `"batch"`, `"none"`.
        name: the layer name.

    Returns:
        A Keras layer, or None when `norm == "none"`.

    Example:
    >>> type(normalization_layer("instance", "n")).__name__
    'InstanceNormalization'
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of 'instance', 'batch', 'none'. Received: norm={norm!r}")
    if norm == "instance":
        return InstanceNormalization(epsilon=1e-5, name=name)
    if norm == "batch":
        return FusedBatchNormalization(
            epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02), name=name
        )
    return None


# The custom layers of the convolutional builders: what a saved DCGAN, CycleGAN, pix2pix or diffusion network may
# hold (``kitlib.method.Method.custom_layers`` lists them so loading never depends on an earlier import).
CONV_LAYERS = (InstanceNormalization, FusedBatchNormalization, FastConv2D, FastConv2DTranspose, LeakyReLU,
               ReflectionPadding2D, ReplicaDropout)
