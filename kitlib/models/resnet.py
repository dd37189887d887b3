"""Johnson-style ResNet generator used by CycleGAN (junyanz `resnet_9blocks` / `resnet_6blocks`).

Parameter count of `resnet_generator((256, 256, 3))` (9 blocks, 64 filters), checked in the tests:

    conv 7x7 3->64        9,408      down 3x3 64->128     73,728      down 3x3 128->256    294,912
    18 convs 3x3 256->256 10,616,832  up 3x3 256->128     294,912      up 3x3 128->64        73,728
    head conv 7x7 64->3   9,408 + 3 bias                                              = 11,372,931
    normalised channels: 64 + 128 + 256 + 18 * 256 + 128 + 64 = 5,248

junyanz's `ResnetGenerator` with its default `InstanceNorm2d(affine=False)` keeps a bias in every conv:
11,372,931 + 5,248 = 11,378,179 (6 blocks: 7,837,699). Those biases are dead (instance norm subtracts them right
away). Here convs that feed a norm layer have no bias and the norm layer is affine (gamma and beta):
11,372,931 + 2 * 5,248 = 11,383,427 parameters, which is also exactly junyanz's count with `--norm batch`
(affine BatchNorm, no conv bias); with `norm="batch"` Keras additionally reports 2 * 5,248 non-trainable moving
statistics.
"""

from __future__ import annotations

import keras

from kitlib.models.layers import (NORMS, FastConv2D, ReflectionPadding2D, check_image_shape,  # noqa: F401  (NORMS re-exported)
                                  ReplicaDropout, gan_initializer, normalization_layer)

RESNET_VARIANTS = {"resnet_9blocks": 9, "resnet_6blocks": 6}


def _conv_norm_act(x, conv: keras.layers.Layer, norm: str, norm_name: str, activation: keras.layers.Layer | None):
    x = conv(x)
    norm_layer = normalization_layer(norm, norm_name)
    if norm_layer is not None:
        x = norm_layer(x)
    return activation(x) if activation is not None else x


def resnet_generator(
    input_shape: tuple = (256, 256, 3),
    *,
    num_blocks: int = 9,
    filters: int = 64,
    norm: str = "instance",
    dropout: float = 0.0,
    output_channels: int = 3,
    name: str = "resnet_generator",
) -> keras.Model:
    """Builds the ResNet generator of CycleGAN (Johnson et al. architecture, junyanz `ResnetGenerator`).

    c7s1-64, d128, d256, `num_blocks` x R256, u128, u64, c7s1-3: reflection-padded 7x7 stem, two stride-2 3x3
    downsampling convs, residual blocks (reflection pad, 3x3 conv, norm, ReLU, optional dropout, reflection pad,
    3x3 conv, norm, add), two stride-2 3x3 transposed convs, reflection-padded 7x7 conv and tanh. Kernels are
    N(0, 0.02); convs followed by a norm layer have no bias. The tanh output is float32 under mixed precision.
    Strided convs use TF `"same"` padding, so features are offset by half a pixel relative to PyTorch's symmetric
    `padding=1` (same shapes and parameter count).

    Reference:
    - [Zhu et al., 2017, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks](
      https://arxiv.org/abs/1703.10593)
    - [Johnson et al., 2016, Perceptual Losses for Real-Time Style Transfer](https://arxiv.org/abs/1603.08155)

    Args:
        input_shape: `(height, width, channels)`; known height and width must be divisible by 4. `None` sizes
            build a fully convolutional model.
        num_blocks: residual blocks (9 for 256 px, 6 for 128 px in the paper; see `RESNET_VARIANTS`).
        filters: channels of the stem; the blocks use `4 * filters`.
        norm: `"instance"` (CycleGAN), `"batch"` or `"none"`.
        dropout: dropout rate inside each residual block (junyanz `--no_dropout` off means 0.5), 0 disables.
        output_channels: channels of the generated image.
        name: model name.

    Returns:
        A `keras.Model` mapping images in [-1, 1] to images in [-1, 1] of the same height and width.

    Example:
    >>> g = resnet_generator((32, 32, 3), num_blocks=2, filters=8)
    >>> g.output_shape
    (None, 32, 32, 3)
    """
    input_shape = check_image_shape(input_shape, multiple=4)
    if not isinstance(num_blocks, int) or num_blocks < 0:
        raise ValueError(f"num_blocks must be an int >= 0. Received: num_blocks={num_blocks!r}")
    if not isinstance(filters, int) or filters < 1:
        raise ValueError(f"filters must be a positive int. Received: filters={filters!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of 'instance', 'batch', 'none'. Received: norm={norm!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    if not isinstance(output_channels, int) or output_channels < 1:
        raise ValueError(f"output_channels must be a positive int. Received: output_channels={output_channels!r}")

    use_bias = norm == "none"

    def conv(channels, kernel, layer_name, strides=1, padding="valid"):
        return keras.layers.Conv2D(
            channels, kernel, strides=strides, padding=padding, use_bias=use_bias,
            kernel_initializer=gan_initializer(), name=layer_name,
        )

    inputs = keras.Input(shape=input_shape, name="image")
    x = ReflectionPadding2D(3, name="stem_pad")(inputs)
    x = _conv_norm_act(x, conv(filters, 7, "stem_conv"), norm, "stem_norm", keras.layers.ReLU(name="stem_relu"))
    for i in (1, 2):
        x = _conv_norm_act(
            x, conv(filters * 2**i, 3, f"down{i}_conv", strides=2, padding="same"), norm, f"down{i}_norm",
            keras.layers.ReLU(name=f"down{i}_relu"),
        )
    channels = filters * 4
    for b in range(1, num_blocks + 1):
        p = f"res{b}"
        y = ReflectionPadding2D(1, name=f"{p}_pad1")(x)
        y = _conv_norm_act(y, conv(channels, 3, f"{p}_conv1"), norm, f"{p}_norm1", keras.layers.ReLU(name=f"{p}_relu"))
        if dropout > 0:
            y = ReplicaDropout(dropout, name=f"{p}_dropout")(y)
        y = ReflectionPadding2D(1, name=f"{p}_pad2")(y)
        y = _conv_norm_act(y, conv(channels, 3, f"{p}_conv2"), norm, f"{p}_norm2", None)
        x = keras.layers.Add(name=f"{p}_add")([x, y])
    for i in (1, 2):
        up = keras.layers.Conv2DTranspose(
            filters * 2 ** (2 - i), 3, strides=2, padding="same", use_bias=use_bias,
            kernel_initializer=gan_initializer(), name=f"up{i}_conv",
        )
        x = _conv_norm_act(x, up, norm, f"up{i}_norm", keras.layers.ReLU(name=f"up{i}_relu"))
    x = ReflectionPadding2D(3, name="head_pad")(x)
    x = FastConv2D(output_channels, 7, kernel_initializer=gan_initializer(), name="head_conv")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="head_tanh")(x)
    return keras.Model(inputs, outputs, name=name)
