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
