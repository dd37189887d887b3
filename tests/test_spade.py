"""SPADE networks: the SPADE formula on hand-computed values, residual blocks, generator / encoder / multiscale
discriminator shapes, serialisation and mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib.models.spade import (SPADE, UPSAMPLING_LAYERS, SPADEResBlock, build_gaugan, multiscale_discriminator,
                                 spade_encoder, spade_generator)


pytestmark = pytest.mark.usefixtures("float32_runtime")


def _conv_same(x, kernel, bias):
    """3x3 (or kxk) stride-1 zero-padded convolution in numpy: x (N, H, W, Cin), kernel (k, k, Cin, Cout)."""
    k = kernel.shape[0]
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    n, h, w, _ = x.shape
    out = np.zeros((n, h, w, kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            out += np.einsum("nhwc,cd->nhwd", xp[:, i: i + h, j: j + w], kernel[i, j])
    return out + bias


def _set_fixed_weights(spade, rng):
    for layer in (spade.mlp_shared, spade.mlp_gamma, spade.mlp_beta):
        layer.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()])


def _hand_spade(x, seg, spade, axes):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    normalized = (x - mean) / np.sqrt(var + 1e-5)
    ks, bs = spade.mlp_shared.get_weights()
    kg, bg = spade.mlp_gamma.get_weights()
    kb, bb = spade.mlp_beta.get_weights()
    actv = np.maximum(_conv_same(seg, ks, bs), 0.0)
    gamma, beta = _conv_same(actv, kg, bg), _conv_same(actv, kb, bb)
    return normalized * (1.0 + gamma) + beta


@pytest.mark.parametrize("norm, axes", [("instance", (1, 2)), ("batch", (0, 1, 2))])
def test_spade_formula_matches_hand_computation(norm, axes):
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (2, 5, 6, 3)).astype("float32")
    seg = np.eye(4, dtype="float32")[rng.integers(0, 4, (2, 5, 6))]
    spade = SPADE(norm=norm, hidden=5)
    spade.build([x.shape, seg.shape])
    _set_fixed_weights(spade, rng)
    out = np.asarray(spade([tf.constant(x), tf.constant(seg)], training=True))
    np.testing.assert_allclose(out, _hand_spade(x.astype("float64"), seg, spade, axes), rtol=1e-4, atol=1e-4)
    assert spade.param_free_norm.trainable_weights == []  # parameter-free: no affine


def test_spade_resizes_the_label_map_to_the_features():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(1, 4, 4, 2)).astype("float32"))
    small = np.eye(3, dtype="float32")[rng.integers(0, 3, (1, 4, 4))]
    large = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)  # the same map at twice the resolution
    spade = SPADE(norm="instance", hidden=4)
    spade.build([x.shape, small.shape])
    _set_fixed_weights(spade, rng)
    np.testing.assert_allclose(spade([x, tf.constant(large)]), spade([x, tf.constant(small)]), atol=1e-6)


def test_resblock_shortcut_and_spectral_norm():
    x, seg = tf.zeros((1, 8, 8, 6)), tf.zeros((1, 8, 8, 3))
    learned = SPADEResBlock(4, hidden=4)
    assert tuple(learned([x, seg]).shape) == (1, 8, 8, 4)
    assert learned.learned_shortcut and learned.conv_s.layer.use_bias is False
    assert isinstance(learned.conv_0, keras.layers.SpectralNormalization)
    assert learned.conv_0.layer.filters == 4  # middle width min(fin, fout)
    identity = SPADEResBlock(6, hidden=4, spectral=False)
    identity([x, seg])
    assert not identity.learned_shortcut and not hasattr(identity, "conv_s")
    assert isinstance(identity.conv_0, keras.layers.Conv2D)
    with pytest.raises(ValueError, match="norm must be one of"):
        SPADEResBlock(4, norm="group")


@pytest.mark.parametrize("mode, size", [("normal", 32), ("more", 64), ("most", 128)])
def test_generator_shapes_for_each_num_upsampling_layers(mode, size):
    g = spade_generator((size, size, 5), ngf=2, z_dim=8, num_upsampling_layers=mode, spade_hidden=4)
    n_up = UPSAMPLING_LAYERS[mode]
    assert g.output_shape == (None, size, size, 3)
    assert g.get_layer("fc_reshape").output.shape[1:] == (size // 2**n_up, size // 2**n_up, 32)
    assert sum(isinstance(layer, keras.layers.UpSampling2D) for layer in g.layers) == n_up
    assert ("up_4" in [layer.name for layer in g.layers]) == (mode == "most")
    labels = tf.constant(np.eye(5, dtype="float32")[np.random.default_rng(0).integers(0, 5, (2, size, size))])
    y = np.asarray(g([labels, tf.random.normal((2, 8))], training=True))
    assert y.shape == (2, size, size, 3) and np.abs(y).max() <= 1.0 and np.isfinite(y).all()


def test_generator_without_latent_code_and_validation():
    g = spade_generator((32, 64, 4), ngf=2, z_dim=None, spade_hidden=4)
    assert len(g.inputs) == 1 and g.output_shape == (None, 32, 64, 3)
    assert g.get_layer("fc").output.shape[1:3] == (1, 2)
    with pytest.raises(ValueError, match="multiples of 64"):
        spade_generator((32, 32, 4), num_upsampling_layers="more")
    with pytest.raises(ValueError, match="num_upsampling_layers must be one of"):
        spade_generator((32, 32, 4), num_upsampling_layers="many")
    with pytest.raises(ValueError, match="input_shape"):
        spade_generator((32, 32))


def test_multiscale_discriminator_returns_features_and_logits_per_scale():
    d = multiscale_discriminator((32, 32, 3), 6, num_d=2, n_layers=4, ndf=4)
    label, image = tf.zeros((2, 32, 32, 6)), tf.random.normal((2, 32, 32, 3))
    out = d([label, image], training=True)
    assert len(out) == 2 and all(len(scale) == 5 for scale in out)
    # kernel 4, padding 2: side -> side // stride + 1; strides 2, 2, 2, 1 then the logits conv (stride 1)
    assert [tuple(t.shape[1:]) for t in out[0]] == [(17, 17, 4), (9, 9, 8), (5, 5, 16), (6, 6, 32), (7, 7, 1)]
    assert [tuple(t.shape[1:3]) for t in out[1]] == [(9, 9), (5, 5), (3, 3), (4, 4), (5, 5)]
    scale0 = d.get_layer("scale_0")
    assert scale0.get_layer("conv0").kernel.shape == (4, 4, 6 + 3, 4)   # sees concat(label one-hot, image)
    assert isinstance(scale0.get_layer("conv1"), keras.layers.SpectralNormalization)
    assert not isinstance(scale0.get_layer("conv0"), keras.layers.SpectralNormalization)  # as in the reference
    three = multiscale_discriminator((32, 32, 3), 6, num_d=3, n_layers=2, ndf=4)
    assert len(three.output) == 3 and all(len(scale) == 3 for scale in three.output)


def test_encoder_downsamples_to_4x4():
    e = spade_encoder((64, 64, 3), ndf=4, z_dim=16)
    assert e.output_shape == [(None, 16), (None, 16)]
    assert [layer.name for layer in e.layers if isinstance(layer, keras.layers.SpectralNormalization)] == \
        ["layer1", "layer2", "layer3", "layer4"]
    assert e.get_layer("flatten").output.shape[-1] == 4 * 4 * 32
    with pytest.raises(ValueError, match="power of two"):
        spade_encoder((48, 48, 3))


def test_build_gaugan_serialisation_and_mixed_precision(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    g, d, e = build_gaugan(32, 5, ngf=2, ndf=4, z_dim=8, spade_hidden=4)
    labels = tf.constant(np.eye(5, dtype="float32")[np.random.default_rng(0).integers(0, 5, (2, 32, 32))])
    z = tf.random.normal((2, 8))
    fake = g([labels, z], training=True)
    assert fake.dtype == tf.float32
    assert all(scale[-1].dtype == tf.float32 for scale in d([labels, fake]))
    assert all(t.dtype == tf.float32 for t in e(fake))
    g.save(tmp_path / "g.keras")
    expected = np.asarray(g([labels, z]))
    keras.mixed_precision.set_global_policy("float32")   # e.g. `python -m kitlib translate` loads without setup()
    loaded = keras.models.load_model(tmp_path / "g.keras")
    assert loaded.get_layer("up_3").norm_0.mlp_gamma.compute_dtype == "bfloat16"   # sublayers keep the saved policy
    np.testing.assert_array_equal(loaded([labels, z]), expected)
    with pytest.raises(ValueError, match="use_encoder=True needs"):
        build_gaugan(32, 5, z_dim=None)
