"""kitlib.models.layers: InstanceNormalization == GroupNormalization(groups=-1); ReflectionPadding2D == np.pad."""

import keras
import numpy as np
import pytest

from kitlib.models.layers import InstanceNormalization, ReflectionPadding2D


def _input(shape=(2, 8, 6, 5), seed=0):
    rng = np.random.default_rng(seed)
    # Per-channel offsets and scales so normalisation has real work to do.
    return (rng.normal(size=shape) * rng.uniform(0.5, 4.0, size=shape[-1]) + rng.normal(size=shape[-1]) * 3).astype(
        "float32")


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_equals_group_norm_groups_minus_one(affine):
    x = _input()
    ours = InstanceNormalization(epsilon=1e-5, center=affine, scale=affine)
    reference = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=affine, scale=affine)
    ours.build(x.shape)
    reference.build(x.shape)
    if affine:
        rng = np.random.default_rng(1)
        gamma, beta = rng.normal(1.0, 0.5, size=5).astype("float32"), rng.normal(size=5).astype("float32")
        ours.set_weights([gamma, beta])
        reference.set_weights([gamma, beta])
    else:
        assert ours.weights == [] and reference.weights == []
    y = keras.ops.convert_to_numpy(ours(x))
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(reference(x)), rtol=1e-4, atol=1e-4)
    if not affine:  # zero mean and unit variance per sample and channel
        np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-5)
        np.testing.assert_allclose(y.var(axis=(1, 2)), 1.0, atol=1e-3)


@pytest.mark.parametrize("shape", [(1, 8, 6, 5), (3, 7, 9, 4), (2, 1, 1, 3)])
def test_instance_norm_gradients_equal_group_norm(shape):
    import tensorflow as tf

    x = tf.constant(_input(shape, seed=3))
    weights = tf.constant(np.random.default_rng(4).normal(size=shape).astype("float32"))
    grads = []
    for layer in (InstanceNormalization(), keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)):
        layer.build(shape)
        layer.set_weights([np.linspace(0.5, 1.5, shape[-1]).astype("float32"),
                           np.linspace(-1, 1, shape[-1]).astype("float32")])
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * weights)  # a non-uniform upstream gradient
        grads.append([g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_weights])])
    for ours, reference in zip(*grads):
        np.testing.assert_allclose(ours, reference, rtol=1e-3, atol=1e-3)


def test_instance_norm_under_mixed_bfloat16():
    x = _input(seed=2)
    expected = keras.ops.convert_to_numpy(InstanceNormalization()(x))
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = InstanceNormalization()
        y = layer(keras.ops.cast(x, "bfloat16"))
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
        assert y.dtype == "bfloat16"
        y = keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))
    finally:
        keras.config.set_dtype_policy("float32")
    assert np.all(np.isfinite(y))
    # bf16 has an 8-bit mantissa: input rounding (relative 2^-8 of values up to ~15) and output rounding.
    np.testing.assert_allclose(y, expected, rtol=2e-2, atol=5e-2)


def test_instance_norm_config_round_trip():
    layer = InstanceNormalization(epsilon=1e-3, center=False, scale=True, name="inorm")
    config = layer.get_config()
    assert config["epsilon"] == 1e-3 and config["center"] is False and config["scale"] is True
    clone = InstanceNormalization.from_config(config)
    assert clone.get_config() == config
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, InstanceNormalization) and restored.get_config() == config


def test_saved_model_with_both_layers_gives_identical_outputs(tmp_path):
    inputs = keras.Input((8, 8, 3))
    x = ReflectionPadding2D(1, name="pad")(inputs)
    x = keras.layers.Conv2D(4, 3, name="conv")(x)
    outputs = InstanceNormalization(name="inorm")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    inorm = model.get_layer("inorm")
    inorm.set_weights([np.full(4, 1.5, "float32"), np.full(4, -0.25, "float32")])
    x = _input((2, 8, 8, 3), seed=3)
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("inorm"), InstanceNormalization)
    assert loaded.get_layer("pad").padding == 1
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)))


@pytest.mark.parametrize("padding", [0, 1, 3])
def test_reflection_padding_equals_numpy_reflect(padding):
    x = np.arange(2 * 5 * 4 * 3, dtype="float32").reshape(2, 5, 4, 3)
    y = keras.ops.convert_to_numpy(ReflectionPadding2D(padding)(x))
    expected = np.pad(x, [(0, 0), (padding, padding), (padding, padding), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(y, expected)


def test_reflection_padding_hand_example():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")[None, :, :, None]
    y = keras.ops.convert_to_numpy(ReflectionPadding2D(1)(x))[0, :, :, 0]
    np.testing.assert_array_equal(y, [[5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [2, 1, 2, 3, 2]])


def test_reflection_padding_shape_inference():
    model = keras.Sequential([keras.Input((8, 6, 3)), ReflectionPadding2D(2)])
    assert model.output_shape == (None, 12, 10, 3)
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(2, 3)(ReflectionPadding2D(1)(inputs))  # pad then valid conv keeps the size
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, None, None, 2)
    assert tuple(model(np.zeros((1, 7, 5, 3), "float32")).shape) == (1, 7, 5, 2)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        ReflectionPadding2D(-1)


# -- FusedBatchNormalization == keras.layers.BatchNormalization --------------------------------------------------


def _bn_pair(shape, **kwargs):
    from kitlib.models.layers import FusedBatchNormalization

    ours, reference = FusedBatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    ours.build(shape)
    reference.build(shape)
    channels = shape[-1]
    rng = np.random.default_rng(5)
    weights = [w for w, on in ((rng.normal(1.0, 0.3, channels), kwargs.get("scale", True)),
                               (rng.normal(0.0, 1.0, channels), kwargs.get("center", True))) if on]
    weights += [rng.normal(0.0, 1.0, channels), rng.uniform(0.5, 2.0, channels)]  # moving mean, variance
    weights = [w.astype("float32") for w in weights]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


@pytest.mark.parametrize("shape,kwargs", [
    ((4, 8, 6, 5), {"momentum": 0.9, "epsilon": 1e-5}),
    ((1, 8, 8, 3), {}),                                             # batch 1: pix2pix's setting
    ((1, 1, 1, 4), {"epsilon": 1e-5}),                              # one value per channel (n = 1)
    ((2, 3, 3, 4), {"center": False, "scale": False}),              # SPADE's / diffusion's parameter-free norm
])
def test_fused_batch_norm_equals_keras_batch_norm_in_training(shape, kwargs):
    import tensorflow as tf

    ours, reference = _bn_pair(shape, **kwargs)
    x = tf.constant(_input(shape, seed=6))
    upstream = tf.constant(np.random.default_rng(7).normal(size=shape).astype("float32"))
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * upstream)
        grads = tape.gradient(loss, [x, *layer.trainable_weights])
        results.append([y.numpy()] + [g.numpy() for g in grads] + [v.numpy() for v in layer.non_trainable_weights])
    assert len(results[0]) == len(results[1])
    for got, expected in zip(*results):  # outputs, input and weight gradients, moving mean and variance
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=2e-5)
    # and in inference mode (the Keras code path) both use the updated moving statistics; the moving statistics come
    # from two kernels whose float32 rounding differs by an ulp on some CPUs (1.2e-7 on an AVX2-only EPYC)
    np.testing.assert_allclose(ours(x, training=False).numpy(), reference(x, training=False).numpy(), rtol=1e-6,
                               atol=1e-6)


def test_fused_batch_norm_takes_the_fused_kernel_in_training_only():
    import tensorflow as tf

    ours, _ = _bn_pair((2, 4, 4, 3))
    ops_of = lambda training: {op.type for op in tf.function(lambda x: ours(x, training=training))
                               .get_concrete_function(tf.TensorSpec((2, 4, 4, 3))).graph.get_operations()}
    assert any(t.startswith("FusedBatchNorm") for t in ops_of(True))
    assert not any(t.startswith("FusedBatchNorm") for t in ops_of(False))


def test_fused_batch_norm_runs_on_keras_without_renorm():
    """Keras 3.13 (Colab's) has no `renorm` attribute on BatchNormalization: the fast path must not need it."""
    ours, reference = _bn_pair((2, 4, 4, 3))
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 3)).astype("float32")
    if hasattr(ours, "renorm"):
        del ours.renorm  # what a Keras 3.13 layer looks like
    np.testing.assert_allclose(ours(x, training=True).numpy(), reference(x, training=True).numpy(), rtol=1e-4,
                               atol=2e-5)


def test_fused_batch_norm_under_mixed_bfloat16_and_serialization(tmp_path):
    from kitlib.models.layers import FusedBatchNormalization

    x = _input((2, 6, 6, 4), seed=8)
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        inputs = keras.Input((6, 6, 4))
        model = keras.Model(inputs, FusedBatchNormalization(momentum=0.8, name="bn")(inputs))
        y = model(keras.ops.cast(x, "bfloat16"), training=True)
        assert y.dtype == "bfloat16" and model.get_layer("bn").moving_mean.dtype == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
    y = keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=3e-2)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=3e-2)
    model.save(tmp_path / "bn.keras")
    loaded = keras.saving.load_model(tmp_path / "bn.keras")
    layer = loaded.get_layer("bn")
    assert isinstance(layer, FusedBatchNormalization) and layer.momentum == 0.8
    np.testing.assert_array_equal(layer.moving_variance.numpy(), model.get_layer("bn").moving_variance.numpy())


# -- FastConv2D / FastConv2DTranspose == the Keras convolutions ----------------------------------------------

CONV_CASES = [  # batch, height, width, channels, filters, kernel, stride, padding
    (1, 4, 4, 5, 3, 4, 2, "same"),      # a U-Net block
    (1, 1, 1, 8, 4, 4, 2, "same"),      # the U-Net's 1x1 bottleneck
    (2, 5, 3, 4, 6, 4, 2, "same"),      # odd sizes: TF's asymmetric "same" padding
    (1, 3, 4, 2, 5, 2, 1, "same"),      # even kernel, stride 1
    (1, 5, 5, 3, 2, 3, 1, "valid"),
    (1, 6, 6, 3, 2, 3, 3, "valid"),
]


def _with_same_weights(ours, reference, shape, seed):
    """Builds both layers on ``shape`` and gives them the same random weights."""
    ours.build(shape)
    reference.build(shape)
    weights = [np.random.default_rng(seed).normal(size=w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


def _conv_results(layer, x):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.constant(np.random.default_rng(1).normal(size=y.shape).astype("float32")))
    return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_weights])]


@pytest.mark.parametrize("transpose", [False, True], ids=["conv", "conv_transpose"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c)))
def test_matmul_convolutions_equal_keras(case, transpose):
    import tensorflow as tf

    from kitlib.models.layers import FastConv2D, FastConv2DTranspose

    batch, height, width, channels, filters, kernel, stride, padding = case
    ours_cls, reference_cls = ((FastConv2DTranspose, keras.layers.Conv2DTranspose) if transpose
                               else (FastConv2D, keras.layers.Conv2D))
    x = tf.constant(_input((batch, height, width, channels), seed=9))
    kwargs = dict(strides=stride, padding=padding, activation="relu")
    ours, reference = _with_same_weights(ours_cls(filters, kernel, **kwargs), reference_cls(filters, kernel, **kwargs),
                                         x.shape, seed=2)
    graph = tf.function(ours).get_concrete_function(tf.TensorSpec(x.shape)).graph
    assert "MatMul" in {op.type for op in graph.get_operations()}, "the matmul path was not taken"
    for got, expected in zip(_conv_results(ours, x), _conv_results(reference, x)):  # output, dx, dkernel, dbias
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_matmul_convolutions_fall_back_to_keras_for_large_or_unknown_sizes():
    import tensorflow as tf

    from kitlib.models.layers import FastConv2D, FastConv2DTranspose

    def op_types(layer, shape):
        return {op.type for op in tf.function(layer).get_concrete_function(tf.TensorSpec(shape)).graph.get_operations()}

    conv, up = FastConv2D(4, 4, strides=2, padding="same"), FastConv2DTranspose(4, 4, strides=2, padding="same")
    assert "MatMul" in op_types(conv, (1, 16, 16, 3))                # 8 x 8 = 64 output pixels
    assert "MatMul" not in op_types(conv, (1, 32, 32, 3))            # 256 output pixels: oneDNN's convolution
    assert "MatMul" not in op_types(conv, (None, 4, 4, 3))           # unknown batch
    assert "MatMul" not in op_types(FastConv2D(4, 3, strides=2, padding="same"), (1, 4, 4, 3))  # 3 % 2 != 0
    assert "MatMul" in op_types(up, (1, 32, 32, 3))                  # 1024 input pixels
    assert "MatMul" not in op_types(up, (2, 32, 32, 3))


@pytest.mark.parametrize("shape,filters,kernel,padding,form", [
    ((2, 12, 12, 32), 3, 7, "same", "Conv2DBackpropInput"),    # a generator's RGB head: the flipped-kernel form
    ((1, 20, 19, 40), 1, 4, "valid", "Conv2DBackpropInput"),   # a PatchGAN's logit conv (272 output pixels)
    ((1, 12, 12, 32), 3, 4, "same", "Conv2D"),                 # even kernel with "same": the Keras convolution
])
def test_fast_conv_few_output_channels_equals_keras(shape, filters, kernel, padding, form):
    import tensorflow as tf

    from kitlib.models.layers import FastConv2D

    x = tf.constant(_input(shape, seed=10))
    ours, reference = _with_same_weights(FastConv2D(filters, kernel, padding=padding),
                                         keras.layers.Conv2D(filters, kernel, padding=padding), shape, seed=3)
    forward = {op.type for op in tf.function(ours).get_concrete_function(tf.TensorSpec(shape)).graph.get_operations()}
    assert form in forward and ({"Conv2D", "Conv2DBackpropInput"} - {form}).isdisjoint(forward)
    for got, expected in zip(_conv_results(ours, x), _conv_results(reference, x)):  # output, dx, dkernel, dbias
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_fast_conv_transpose_bias_gradient_on_the_keras_path():
    import tensorflow as tf

    from kitlib.models.layers import FastConv2DTranspose

    shape = (2, 5, 5, 3)  # kernel 3 with stride 2 is not a multiple: oneDNN's transposed conv + the matmul bias sum
    x = tf.constant(_input(shape, seed=11))
    ours, reference = _with_same_weights(FastConv2DTranspose(4, 3, strides=2, padding="same"),
                                         keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same"), shape, seed=4)
    for got, expected in zip(_conv_results(ours, x), _conv_results(reference, x)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
