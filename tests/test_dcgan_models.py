"""kitlib.models.dcgan: shapes, ranges, parameter counts by hand, logits, init, precision, validation."""

import keras
import numpy as np
import pytest

from kitlib.models.dcgan import (
    DCGAN_VARIANTS,
    build_dcgan,
    dcgan_discriminator,
    dcgan_generator,
    report_discriminator,
    report_generator,
)
from kitlib.models.layers import FusedBatchNormalization


@pytest.mark.parametrize("variant", ["seed", "radford"])
@pytest.mark.parametrize("image_size", [32, 64, 128])
def test_shapes_and_ranges(variant, image_size):
    kwargs = {"filters": 4} if variant == "radford" else {}
    g, d = build_dcgan(variant, latent_dim=8, image_size=image_size, **kwargs)
    assert g.input_shape == (None, 8)
    assert g.output_shape == (None, image_size, image_size, 3)
    assert d.input_shape == (None, image_size, image_size, 3)
    assert d.output_shape == (None, 1)
    z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    images = g(z, training=False)
    assert images.dtype == "float32"
    assert float(keras.ops.min(images)) >= -1.0 and float(keras.ops.max(images)) <= 1.0
    logits = d(images, training=False)
    assert tuple(logits.shape) == (2, 1) and logits.dtype == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(logits)))


def test_variants_dict():
    assert DCGAN_VARIANTS == {"seed": (report_generator, report_discriminator),
                              "radford": (dcgan_generator, dcgan_discriminator)}


def test_seed_parameter_counts_by_hand():
    g, d = build_dcgan("seed")  # latent 100, 64 px: the seed report's networks
    dense = 100 * (16 * 16 * 256) + 16 * 16 * 256  # 6_619_136
    deconv1 = 4 * 4 * 256 * 128 + 128  # 524_416
    deconv2 = 4 * 4 * 128 * 128 + 128  # 262_272
    to_rgb = 7 * 7 * 128 * 3 + 3  # 18_819
    assert g.count_params() == dense + deconv1 + deconv2 + to_rgb == 7_424_643
    conv1 = 3 * 3 * 3 * 64 + 64  # 1_792
    conv2 = conv3 = 3 * 3 * 64 * 64 + 64  # 36_928
    dense_d = (16 * 16 * 64) + 1  # 64 -> 32 -> 16 px after two stride-2 convs: 16_385
    assert d.count_params() == conv1 + conv2 + conv3 + dense_d == 92_033
    # The seed's two stacked Dropout(0.4) layers are kept.
    assert [layer.rate for layer in d.layers if isinstance(layer, keras.layers.Dropout)] == [0.4, 0.4]
    assert [layer.name for layer in g.layers] == [
        "latent", "project", "project_lrelu", "reshape", "up1_deconv", "up1_lrelu", "up2_deconv", "up2_lrelu",
        "to_rgb", "tanh"]


def test_seed_generator_start_size_scales_with_image_size():
    g = report_generator(latent_dim=10, image_size=32)
    assert g.get_layer("reshape").output.shape[1:] == (8, 8, 256)
    assert g.get_layer("project").kernel.shape == (10, 8 * 8 * 256)


def test_radford_trainable_parameter_counts_by_hand():
    g = dcgan_generator()  # 64 px, latent 100, filters 64 (PyTorch tutorial: 3_576_704 with a bias-free last layer)
    deconvs = 100 * 512 * 16 + 512 * 256 * 16 + 256 * 128 * 16 + 128 * 64 * 16  # no bias before batch norm
    bn = 2 * (512 + 256 + 128 + 64)  # gamma + beta
    to_rgb = 64 * 3 * 16 + 3
    trainable = sum(int(np.prod(w.shape)) for w in g.trainable_weights)
    assert trainable == deconvs + bn + to_rgb == 3_576_704 + 3
    d = dcgan_discriminator()  # PyTorch tutorial: 2_765_568 with bias-free first/last convs
    convs = 3 * 64 * 16 + 64 * 128 * 16 + 128 * 256 * 16 + 256 * 512 * 16 + 512 * 1 * 16
    biases = 64  # first conv only (no norm after it; the logit conv is bias-free as in PyTorch)
    bn_d = 2 * (128 + 256 + 512)
    trainable_d = sum(int(np.prod(w.shape)) for w in d.trainable_weights)
    assert trainable_d == convs + biases + bn_d == 2_765_568 + 64


def test_discriminators_return_logits_not_probabilities():
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 32, 32, 3)).astype("float32")
    d = report_discriminator(image_size=32)
    head = d.get_layer("logits")
    assert head.activation is keras.activations.linear
    head.set_weights([np.zeros_like(head.kernel.numpy()), np.array([3.0], "float32")])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(d(x, training=False)), 3.0)  # a sigmoid caps at 1
    d2 = dcgan_discriminator(image_size=32, filters=4, norm="none")
    for layer in d2.layers:
        if isinstance(layer, keras.layers.Conv2D):  # positive features everywhere, then a negative logit head
            sign = -1.0 if layer.name == "logits_conv" else 1.0
            layer.set_weights([np.full_like(w, sign * 0.1 if w.ndim == 4 else 0.0) for w in layer.get_weights()])
    assert d2.get_layer("logits_conv").activation is keras.activations.linear
    logits = keras.ops.convert_to_numpy(d2(np.abs(x) + 1.0, training=False))
    assert np.all(logits < -1.0)  # a sigmoid is in (0, 1)


def test_radford_init_stddev():
    g = dcgan_generator(image_size=64)
    kernel = g.get_layer("up1_deconv").kernel.numpy()  # 4x4x256x512 = 2M values
    assert abs(kernel.mean()) < 1e-3 and abs(kernel.std() - 0.02) < 1e-3
    gamma = g.get_layer("up1_bn").gamma.numpy()
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03
    d = dcgan_discriminator(image_size=32, filters=16, norm="layer")
    for name in ("down1_conv", "down3_conv", "logits_conv"):
        assert abs(d.get_layer(name).kernel.numpy().std() - 0.02) < 0.004
    # A fresh initializer per layer: same-shaped kernels differ.
    d2 = dcgan_discriminator(image_size=32, filters=1)
    assert not np.allclose(d2.get_layer("down1_conv").kernel.numpy(), dcgan_discriminator(
        image_size=32, filters=1).get_layer("down1_conv").kernel.numpy())


@pytest.mark.parametrize("norm, layer_type", [("batch", FusedBatchNormalization),
                                              ("layer", keras.layers.GroupNormalization), ("none", None)])
def test_discriminator_norm_option(norm, layer_type):
    d = dcgan_discriminator(image_size=32, filters=4, norm=norm)
    norms = [layer for layer in d.layers
             if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.GroupNormalization))]
    if layer_type is None:
        assert norms == []
    else:
        assert len(norms) == 2 and all(type(layer) is layer_type for layer in norms)  # not on the first block
    if norm == "layer":
        assert all(layer.groups == 1 for layer in norms)  # normalise over H, W, C: layer norm
    # Per-sample independence without batch norm (needed by the WGAN-GP penalty).
    x = np.random.default_rng(2).normal(size=(3, 32, 32, 3)).astype("float32")
    alone = keras.ops.convert_to_numpy(d(x[:1], training=True))
    together = keras.ops.convert_to_numpy(d(x, training=True))[:1]
    if norm == "batch":
        assert not np.allclose(alone, together, atol=1e-6)
    else:
        np.testing.assert_allclose(alone, together, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("variant", ["seed", "radford"])
def test_float32_outputs_under_mixed_bfloat16(variant):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        kwargs = {"filters": 4, "norm": "layer"} if variant == "radford" else {}
        g, d = build_dcgan(variant, latent_dim=8, image_size=32, **kwargs)
        images = g(np.zeros((2, 8), "float32") + 0.1, training=True)
        logits = d(images, training=True)
        assert images.dtype == "float32" and logits.dtype == "float32"
        assert g.get_layer("up1_deconv").compute_dtype == "bfloat16"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(logits)))
    finally:
        keras.config.set_dtype_policy("float32")


def test_validation_errors():
    with pytest.raises(ValueError, match="variant must be one of .*Received: variant='stylegan'"):
        build_dcgan("stylegan")
    with pytest.raises(ValueError, match="image_size must be one of .*Received: image_size=48"):
        build_dcgan("seed", image_size=48)
    with pytest.raises(ValueError, match="latent_dim must be an integer >= 1. Received: latent_dim=0"):
        build_dcgan("radford", latent_dim=0)
    with pytest.raises(ValueError, match="norm must be one of .*Received: norm='instance'"):
        build_dcgan("radford", image_size=32, norm="instance")
    with pytest.raises(ValueError, match="Received unexpected: \\['filters'\\]"):
        build_dcgan("seed", filters=32)
    with pytest.raises(ValueError, match="filters must be an integer >= 1"):
        dcgan_generator(filters=0)
    with pytest.raises(ValueError, match="image_size"):
        report_discriminator(image_size=256)


def test_old_network_names_are_deprecated_aliases_and_norm_lists_are_distinct():
    from kitlib import models
    from kitlib.models import dcgan, spade

    with pytest.warns(DeprecationWarning, match="report_generator"):
        g = models.seed_generator(8, 32)
    assert g.name == "report_generator"
    with pytest.warns(DeprecationWarning, match="report_discriminator"):
        assert models.seed_discriminator(32).output_shape == (None, 1)
    assert dcgan.DCGAN_DISCRIMINATOR_NORMS == ("batch", "layer", "none") == dcgan.DISCRIMINATOR_NORMS
    assert spade.SPADE_DISCRIMINATOR_NORMS == ("instance", "none") == spade.DISCRIMINATOR_NORMS
