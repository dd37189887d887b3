"""Image-to-image builders: ResNet and U-Net generators, PatchGAN discriminators (shapes, params, receptive field)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib.models.layers import FastConv2D, LeakyReLU, ReplicaDropout
from kitlib.models.patchgan import (
    PATCHGAN_VARIANTS,
    patchgan_discriminator,
    receptive_field,
    seed_patchgan_discriminator,
)
from kitlib.models.resnet import RESNET_VARIANTS, resnet_generator
from kitlib.models.unet import UNET_VARIANTS, seed_unet_generator, unet_generator

RNG = np.random.default_rng(0)


def _images(size=32, channels=3, batch=2, width=None):
    return RNG.uniform(-1, 1, (batch, size, width or size, channels)).astype("float32")


def _layers_of(model, cls):
    return [layer for layer in model.layers if type(layer) is cls]


@pytest.fixture(autouse=True)
def _float32_policy():
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.mixed_precision.set_global_policy("float32")


# ---------------------------------------------------------------- ResNet generator


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
def test_resnet_generator_shapes_and_range(norm):
    g = resnet_generator((32, 48, 3), num_blocks=2, filters=8, norm=norm, output_channels=1)
    y = g(_images(32, width=48), training=False).numpy()
    assert g.name == "resnet_generator" and y.shape == (2, 32, 48, 1)
    assert np.all(np.abs(y) <= 1.0) and y.std() > 0
    assert g.get_layer("res2_add").output.shape == (None, 8, 12, 32)  # 4 * filters at 1/4 resolution
    assert g.get_layer("stem_conv").use_bias == (norm == "none")
    assert g.get_layer("head_conv").use_bias


def test_resnet_generator_dropout_and_variants():
    g = resnet_generator((32, 32, 3), num_blocks=3, filters=8, dropout=0.5)
    assert [layer.name for layer in _layers_of(g, ReplicaDropout)] == [f"res{b}_dropout" for b in (1, 2, 3)]
    assert not _layers_of(resnet_generator((32, 32, 3), num_blocks=3, filters=8), ReplicaDropout)
    assert RESNET_VARIANTS == {"resnet_9blocks": 9, "resnet_6blocks": 6}
    g = resnet_generator((32, 32, 3), num_blocks=RESNET_VARIANTS["resnet_6blocks"], filters=8)
    assert len(_layers_of(g, keras.layers.Add)) == 6


def test_resnet_generator_parameter_count_matches_junyanz_arithmetic():
    def junyanz(num_blocks):  # ResnetGenerator(3, 3, ngf=64), InstanceNorm2d(affine=False), bias in every conv
        convs = [(7, 3, 64), (3, 64, 128), (3, 128, 256)] + [(3, 256, 256)] * (2 * num_blocks)
        convs += [(3, 256, 128), (3, 128, 64), (7, 64, 3)]
        return sum(k * k * cin * cout + cout for k, cin, cout in convs)

    assert junyanz(9) == 11_378_179 and junyanz(6) == 7_837_699  # the published counts
    normalised = {9: 64 + 128 + 256 + 18 * 256 + 128 + 64, 6: 64 + 128 + 256 + 12 * 256 + 128 + 64}
    assert normalised == {9: 5_248, 6: 3_712}
    for blocks in (9, 6):
        g = resnet_generator((256, 256, 3), num_blocks=blocks)
        # Our normalised convs drop the (dead) bias and the norm is affine: -1 bias + 2 (gamma, beta) per channel.
        assert g.count_params() == junyanz(blocks) + normalised[blocks]
    assert g.count_params() == 7_841_411
    g = resnet_generator((256, 256, 3), norm="batch")
    trainable = sum(int(np.prod(w.shape)) for w in g.trainable_weights)
    assert trainable == 11_383_427 == junyanz(9) + normalised[9]  # = junyanz --norm batch (affine BN, no bias)
    assert g.count_params() - trainable == 2 * normalised[9]  # BN moving mean and variance


# ---------------------------------------------------------------- U-Net generators


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_unet_generator_shapes_skips_and_range(norm):
    g = unet_generator((32, 32, 3), num_downs=5, filters=8, norm=norm)
    y = g(_images(32), training=False).numpy()
    assert y.shape == (2, 32, 32, 3) and np.all(np.abs(y) <= 1.0) and y.std() > 0
    channels = [g.get_layer(f"down{i}_conv").filters for i in range(1, 6)]
    assert channels == [8, 16, 32, 64, 64]
    assert g.get_layer("down5_lrelu").output.shape == (None, 1, 1, 64)
    assert [layer.name for layer in _layers_of(g, keras.layers.Concatenate)] == [f"up{j}_concat" for j in (1, 2, 3, 4)]
    assert g.get_layer("up1_concat").output.shape == (None, 2, 2, 128)
    assert g.get_layer("up4_concat").output.shape == (None, 16, 16, 16)
    normed = {layer.name for layer in g.layers if layer.name.endswith("_norm")}
    # No norm on the first encoder block, nor on the 1x1 bottleneck (pix2pix/junyanz); every decoder block has one.
    expected = {f"down{i}_norm" for i in (2, 3, 4)} | {f"up{j}_norm" for j in (1, 2, 3, 4)}
    assert normed == (set() if norm == "none" else expected)


def test_unet_without_skips_is_the_encoder_decoder_ablation():
    g = unet_generator((32, 32, 3), num_downs=5, filters=8, skip=False)
    assert not _layers_of(g, keras.layers.Concatenate)
    assert g(_images(32)).shape == (2, 32, 32, 3)
    assert g.get_layer("up2_conv").input.shape == (None, 2, 2, 64)  # 128 with the skip concatenated
    assert g.get_layer("head_conv").input.shape == (None, 16, 16, 8)


def test_unet_dropout_first_three_decoder_blocks_and_test_time_noise():
    g = unet_generator((32, 32, 3), num_downs=5, filters=8)
    dropouts = _layers_of(g, ReplicaDropout)
    assert [(layer.name, layer.rate) for layer in dropouts] == [(f"up{j}_dropout", 0.5) for j in (1, 2, 3)]
    x = _images(32)
    assert np.array_equal(g(x, training=False).numpy(), g(x, training=False).numpy())
    assert not np.allclose(g(x, training=True).numpy(), g(x, training=True).numpy())  # pix2pix noise at test time
    assert not _layers_of(unet_generator((32, 32, 3), num_downs=5, filters=8, dropout=0.0), ReplicaDropout)


@pytest.mark.parametrize("variant, size", [("unet_256", 256), ("unet_128", 128)])
def test_unet_variants_reach_a_1x1_bottleneck(variant, size):
    g = unet_generator((size, size, 3), num_downs=UNET_VARIANTS[variant], filters=2, norm="instance")
    assert g.output_shape == (None, size, size, 3)
    assert g.get_layer(f"down{UNET_VARIANTS[variant]}_lrelu").output.shape == (None, 1, 1, 16)


def test_unet_256_parameter_count_matches_the_reference():
    # tensorflow_examples' pix2pix.unet_generator(3, norm_type="instancenorm") (and the TF tutorial's BatchNorm
    # generator, trainable part) has 54,414,979 parameters: bias-free 4x4 convs everywhere but the head, a norm on
    # the 1x1 bottleneck too. With bottleneck_norm=True ours is that network plus one thing: the first encoder conv
    # (no norm after it) keeps its bias, as in the paper's Torch code: + 64.
    reference = 54_414_979
    instance = unet_generator((256, 256, 3), norm="instance", bottleneck_norm=True)
    assert instance.count_params() == reference + 64
    batch = unet_generator((256, 256, 3), norm="batch", bottleneck_norm=True)
    trainable = sum(int(np.prod(w.shape)) for w in batch.trainable_weights)
    assert trainable == reference + 64
    encoder, decoder = [128, 256, 512, 512, 512, 512, 512], [512, 512, 512, 512, 256, 128, 64]
    assert batch.count_params() - trainable == 2 * sum(encoder + decoder) == 10_880  # moving mean/var, as the tutorial
    # Default (phillipi/junyanz): no norm on the 1x1 bottleneck, whose conv gets a bias instead: - 1,024 + 512.
    assert unet_generator((256, 256, 3), norm="instance").count_params() == reference + 64 - 512


def test_seed_unet_matches_the_seed_003_description():
    g = seed_unet_generator((256, 256, 3))
    downs = [g.get_layer(f"down{i}_lrelu").output.shape[1:] for i in range(1, 9)]
    assert downs[0] == (128, 128, 64) and downs[-1] == (1, 1, 512) and len(_layers_of(g, FastConv2D)) == 8
    assert g.get_layer("up1_concat").output.shape[1:] == (2, 2, 1024)
    assert g.get_layer("up7_concat").output.shape[1:] == (128, 128, 128)
    assert {type(g.get_layer(f"down{i}_norm")).__name__ for i in range(2, 9)} == {"InstanceNormalization"}
    assert "down1_norm" not in {layer.name for layer in g.layers}
    assert [layer.negative_slope for layer in _layers_of(g, LeakyReLU)] == pytest.approx([0.3] * 8)
    assert len(_layers_of(g, ReplicaDropout)) == 3 and g.output_shape == (None, 256, 256, 3)


def test_seed_unet_smaller_sizes_and_its_constant_bottleneck():
    g = seed_unet_generator((32, 32, 3), filters=8)
    assert g.output_shape == (None, 32, 32, 3) and g.get_layer("down5_lrelu").output.shape == (None, 1, 1, 64)
    a, b = _images(32, batch=1), _images(32, batch=1)
    for bottleneck_norm, constant in ((True, True), (False, False)):
        g = seed_unet_generator((32, 32, 3), filters=8, bottleneck_norm=bottleneck_norm)
        probe = keras.Model(g.input, g.get_layer("down5_lrelu").output)
        # Instance norm of a 1x1 map leaves only beta: the seed's bottleneck is the same for every image.
        assert np.allclose(probe(a).numpy(), probe(b).numpy()) == constant


# ---------------------------------------------------------------- PatchGAN discriminators


def test_receptive_field_numbers():
    assert PATCHGAN_VARIANTS == {"pixelgan": 0, "patchgan_16": 1, "patchgan_70": 3, "patchgan_286": 5}
    assert {name: receptive_field(n) for name, n in PATCHGAN_VARIANTS.items()} == {
        "pixelgan": 1, "patchgan_16": 16, "patchgan_70": 70, "patchgan_286": 286,
    }
    assert receptive_field(2) == 34 and receptive_field(4) == 142


def test_patchgan_70_on_256_matches_the_reference():
    d = patchgan_discriminator((256, 256, 3))
    assert d.output_shape == (None, 30, 30, 1)
    # junyanz NLayerDiscriminator(3, 64, n_layers=3), InstanceNorm2d(affine=False), bias in every conv: 2,764,737;
    # our normalised convs (128, 256, 512 channels) trade their bias for gamma and beta: + 896.
    convs = [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert sum(16 * cin * cout + cout for cin, cout in convs) == 2_764_737
    assert d.count_params() == 2_764_737 + 128 + 256 + 512
    seed = seed_patchgan_discriminator((256, 256, 3), filters=8)
    assert seed.output_shape == (None, 30, 30, 1)
    assert [layer.filters for layer in _layers_of(seed_patchgan_discriminator(), FastConv2D)] == [
        64, 128, 256, 512, 1,
    ]


@pytest.mark.parametrize(
    "n_layers, size, out", [(0, 32, 32), (1, 32, 14), (2, 64, 14), (3, 64, 6), (5, 96, 1)]
)
def test_patchgan_output_shapes(n_layers, size, out):
    d = patchgan_discriminator((size, size, 3), n_layers=n_layers, filters=4, norm="batch")
    logits = d(_images(size), training=False).numpy()
    assert logits.shape == (2, out, out, 1) and np.all(np.isfinite(logits))


def test_conditional_patchgan_takes_list_or_dict():
    d = patchgan_discriminator((32, 32, 3), n_layers=1, filters=8, condition_shape=(32, 32, 1))
    assert [t.name for t in d.inputs] == ["condition", "image"]
    assert d.get_layer("concat_condition_image").output.shape == (None, 32, 32, 4)
    x, c = _images(32), _images(32, channels=1)
    by_list = d([c, x]).numpy()
    by_dict = d({"image": x, "condition": c}).numpy()
    assert by_list.shape == (2, 14, 14, 1) and np.allclose(by_list, by_dict)
    assert not np.allclose(by_list, d([c, -x]).numpy())
    assert seed_patchgan_discriminator((32, 32, 3), filters=8, condition_shape=(32, 32, 3)).output_shape == (
        None, 2, 2, 1,
    )


def _centre_logit_gradient(d, size):
    """|d logit / d input| of the centre logit, with all kernels constant positive and zero biases."""
    for layer in _layers_of(d, keras.layers.Conv2D):
        kernel = layer.kernel
        kernel.assign(np.full(kernel.shape, 1.0 / np.prod(kernel.shape[:3]), "float32"))
        if layer.use_bias:
            layer.bias.assign(np.zeros(layer.bias.shape, "float32"))
    x = tf.constant(np.random.default_rng(1).uniform(0.5, 1.0, (1, size, size, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = d(x, training=False)
        centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
    return np.abs(tape.gradient(centre, x).numpy()[0]).sum(-1)


def _window(grad):
    mask = grad > 0
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    assert box.all(), "the non-zero gradient region must be a solid rectangle"
    assert rows[0] > 0 and cols[0] > 0 and rows[-1] < grad.shape[0] - 1 and cols[-1] < grad.shape[1] - 1, "clipped"
    return box.shape


@pytest.mark.parametrize("n_layers, size", [(0, 8), (1, 32), (3, 128), (5, 320)])
def test_receptive_field_measured_on_the_built_model(n_layers, size):
    d = patchgan_discriminator((size, size, 3), n_layers=n_layers, filters=2, norm="none")
    rf = receptive_field(n_layers)
    assert _window(_centre_logit_gradient(d, size)) == (rf, rf)


def test_seed_patchgan_receptive_field_and_instance_norm_coupling():
    seed = seed_patchgan_discriminator((128, 128, 3), filters=2, norm="none")
    assert _window(_centre_logit_gradient(seed, 128)) == (70, 70)
    # Instance-norm statistics cover the whole image, so with norm every pixel moves every logit a little.
    coupled = _centre_logit_gradient(patchgan_discriminator((128, 128, 3), filters=2), 128)
    assert np.count_nonzero(coupled) > 70 * 70


# ---------------------------------------------------------------- mixed precision and validation


def test_float32_outputs_under_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        models = [
            resnet_generator((32, 32, 3), num_blocks=2, filters=8),
            unet_generator((32, 32, 3), num_downs=5, filters=8),
            seed_unet_generator((32, 32, 3), filters=8),
            patchgan_discriminator((32, 32, 3), n_layers=1, filters=8),
            patchgan_discriminator((32, 32, 3), n_layers=0, filters=8, norm="batch"),
            seed_patchgan_discriminator((32, 32, 3), filters=8),
        ]
        for model in models:
            y = model(_images(32), training=True)
            assert y.dtype == "float32" and np.all(np.isfinite(y.numpy())), model.name
            assert model.layers[1].compute_dtype == "bfloat16", model.name
        d = patchgan_discriminator((32, 32, 3), n_layers=1, filters=8, condition_shape=(32, 32, 3))
        assert d([_images(32), _images(32)]).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: resnet_generator((32, 32, 3), norm="layer"), "norm must be one of"),
        (lambda: unet_generator((32, 32, 3), num_downs=5, norm="group"), "norm must be one of"),
        (lambda: patchgan_discriminator((32, 32, 3), norm="spectral"), "norm must be one of"),
        (lambda: seed_patchgan_discriminator((32, 32, 3), norm="in"), "norm must be one of"),
        (lambda: resnet_generator((30, 32, 3)), "divisible by 4"),
        (lambda: resnet_generator((32, 32)), r"\(height, width, channels\)"),
        (lambda: resnet_generator((32, 32, 3), dropout=1.0), "dropout must be in"),
        (lambda: unet_generator((48, 48, 3), num_downs=5), "divisible by 32.*num_downs <= 4"),
        (lambda: unet_generator((32, 32, 3), num_downs=0), "num_downs must be"),
        (lambda: seed_unet_generator((None, None, 3)), "must be known"),
        (lambda: seed_unet_generator((96, 96, 3)), "divisible by 64"),
        (lambda: patchgan_discriminator((32, 32, 3), n_layers=-1), "n_layers must be"),
        (lambda: patchgan_discriminator((32, 32, 3), n_layers=4), ">= 48"),
        (lambda: patchgan_discriminator((32, 32, 3), condition_shape=(64, 64, 3)), "condition_shape must have"),
        (lambda: receptive_field(1.5), "n_layers must be"),
    ],
)
def test_validation_errors_name_the_value(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_fully_convolutional_with_unknown_sizes():
    g = resnet_generator((None, None, 3), num_blocks=1, filters=4)
    assert g(_images(40)).shape == (2, 40, 40, 3)
    u = unet_generator((None, None, 3), num_downs=3, filters=4)
    assert u(_images(24)).shape == (2, 24, 24, 3)
    d = patchgan_discriminator((None, None, 3), n_layers=1, filters=4)
    assert d(_images(40)).shape == (2, 18, 18, 1)


def test_models_round_trip_through_keras_files(tmp_path):
    models = [
        resnet_generator((32, 32, 3), num_blocks=1, filters=4, dropout=0.5),
        unet_generator((32, 32, 3), num_downs=5, filters=4, norm="instance"),
        patchgan_discriminator((32, 32, 3), n_layers=1, filters=4, condition_shape=(32, 32, 1)),
    ]
    inputs = [_images(32), _images(32), [_images(32, channels=1), _images(32)]]
    for model, x in zip(models, inputs):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        restored = keras.models.load_model(path)
        assert restored.name == model.name
        np.testing.assert_allclose(restored(x, training=False), model(x, training=False), rtol=1e-5, atol=1e-6)
