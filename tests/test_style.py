"""VGG19 features and weights, and Gatys style transfer (kitlib.models.vgg, kitlib.style) at tiny sizes."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import losses, style
from kitlib.data import toy
from kitlib.models import vgg as vgg_lib

SIZE = 32


pytestmark = pytest.mark.usefixtures("float32_runtime")


@pytest.fixture(scope="module")
def extractor():
    keras.utils.set_random_seed(0)
    return vgg_lib.vgg19(None, vgg_lib.CONTENT_LAYERS + vgg_lib.STYLE_LAYERS)


@pytest.fixture(scope="module")
def images():
    content = toy.make_landscapes(1, SIZE, seed=0)[0][0]
    paintings = toy.make_paintings(2, SIZE, seed=0)
    return content, paintings[0], paintings[1]


# ------------------------------------------------------------------------------------------- preprocessing, layers


def test_preprocess_input_equals_keras_and_is_bgr_minus_mean():
    rgb = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(vgg_lib.preprocess_input(rgb))
    np.testing.assert_allclose(ours, keras.applications.vgg19.preprocess_input(rgb.copy()), atol=1e-4)
    pixel = np.array([[[[10.0, 20.0, 30.0]]]], "float32")  # R, G, B
    expected = [30.0 - 103.939, 20.0 - 116.779, 10.0 - 123.68]  # B, G, R minus the BGR means
    got = keras.ops.convert_to_numpy(vgg_lib.preprocess_input(pixel))[0, 0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # other input ranges are mapped to [0, 255] first
    for low, high in ((0.0, 1.0), (-1.0, 1.0)):
        scaled = low + (high - low) * rgb / 255.0
        np.testing.assert_allclose(keras.ops.convert_to_numpy(vgg_lib.preprocess_input(scaled, (low, high))), ours,
                                   atol=1e-3)
    with pytest.raises(ValueError, match="high > low"):
        vgg_lib.preprocess_input(rgb, (1.0, 0.0))


def test_layer_selection_shapes_and_depth(extractor):
    assert len(vgg_lib.VGG19_LAYERS) == 21 and vgg_lib.VGG19_LAYERS[-1] == "block5_pool"
    feats = extractor(np.zeros((2, 64, 48, 3), "float32"))
    expected_channels = {"block1_conv1": 64, "block2_conv1": 128, "block3_conv1": 256, "block4_conv1": 512,
                         "block5_conv1": 512, "block5_conv2": 512}
    assert sorted(feats) == sorted(expected_channels)
    for name, channels in expected_channels.items():
        factor = vgg_lib.downsampling(name)
        assert tuple(feats[name].shape) == (2, 64 // factor, 48 // factor, channels), name
    small = vgg_lib.vgg19(None, ("block2_conv1",))
    assert small.layers[-1].name == "block2_conv1"  # built only as deep as needed
    assert not small.trainable_weights and small.count_params() == 1792 + 36928 + 73856
    with pytest.raises(ValueError, match="Unknown VGG19 layer names"):
        vgg_lib.vgg19(None, ("block6_conv1",))
    with pytest.raises(ValueError, match="at least one"):
        vgg_lib.vgg19(None, ())


def test_gram_of_vgg_features_and_hand_computed_gram(extractor):
    feats = extractor(np.random.default_rng(0).uniform(0, 1, (1, SIZE, SIZE, 3)).astype("float32"))
    for name in vgg_lib.STYLE_LAYERS:
        c = feats[name].shape[-1]
        gram = losses.gram_matrix(feats[name])
        assert tuple(gram.shape) == (1, c, c)
        np.testing.assert_allclose(gram[0], np.transpose(gram[0]), rtol=1e-5, atol=1e-5)
    x = np.arange(12, dtype="float32").reshape(1, 2, 2, 3)
    flat = x.reshape(4, 3)
    np.testing.assert_allclose(losses.gram_matrix(x)[0], flat.T @ flat / 4.0, rtol=1e-6)


# ------------------------------------------------------------------------------------------------------- weights


def _write_keras_vgg_h5(path, conv_names, rng):
    """A weights file laid out like Keras' vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (legacy h5)."""
    shapes = {}
    with h5py.File(path, "w") as f:
        names = ["input_1"] + list(conv_names)
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        previous = 3
        for name in conv_names:
            filters = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}[int(name[5])]
            kernel = rng.normal(size=(3, 3, previous, filters)).astype("float32")
            bias = rng.normal(size=(filters,)).astype("float32")
            group = f.create_group(name)
            group.attrs["weight_names"] = np.array([f"{name}_W_1:0".encode(), f"{name}_b_1:0".encode()])
            group.create_dataset(f"{name}_W_1:0", data=kernel)
            group.create_dataset(f"{name}_b_1:0", data=bias)
            shapes[name] = (kernel, bias)
            previous = filters
    return shapes


def test_weights_by_path_round_trip(tmp_path):
    path = tmp_path / vgg_lib.VGG19_WEIGHTS_FILE
    written = _write_keras_vgg_h5(path, ["block1_conv1", "block1_conv2", "block2_conv1"], np.random.default_rng(1))
    model = vgg_lib.vgg19(str(path), ("block2_conv1",))
    for name, (kernel, bias) in written.items():
        got = model.get_layer(name).get_weights()
        np.testing.assert_array_equal(got[0], kernel)
        np.testing.assert_array_equal(got[1], bias)
    with pytest.raises(ValueError, match="block2_conv2"):  # never silently random for a layer the file lacks
        vgg_lib.vgg19(str(path), ("block3_conv1",))
    # a whole model saved by Keras as .h5 (weights under 'model_weights') loads too
    keras.utils.set_random_seed(3)
    source = vgg_lib.vgg19(None, ("block1_conv2",))
    source.save(tmp_path / "saved_model.h5")
    loaded = vgg_lib.vgg19(tmp_path / "saved_model.h5", ("block1_conv2",))
    for a, b in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        vgg_lib.vgg19(tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="legacy Keras .h5"):
        vgg_lib.load_vgg19_weights(model, tmp_path / "model.weights.h5")


def test_resolve_weights_cache_path_and_random(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(vgg_lib, "_internet", lambda *a, **k: False)
    cache = vgg_lib.vgg19_cache_path()
    assert cache == tmp_path / "keras_home" / "models" / vgg_lib.VGG19_WEIGHTS_FILE
    weights, message = vgg_lib.resolve_vgg_weights("auto")
    assert weights is None and "RANDOM" in message and "NOT style transfer" in message and str(cache) in message
    with pytest.raises(FileNotFoundError, match="Keras cache"):
        vgg_lib.resolve_vgg_weights("imagenet")
    with pytest.raises(FileNotFoundError, match=str(cache).replace("/", ".")):
        vgg_lib.vgg19("imagenet", ("block1_conv1",))
    assert vgg_lib.resolve_vgg_weights(None)[0] is None
    with pytest.raises(FileNotFoundError):
        vgg_lib.resolve_vgg_weights(tmp_path / "nope.h5")
    with pytest.raises(ValueError, match="preference"):
        vgg_lib.resolve_vgg_weights(3)

    cache.parent.mkdir(parents=True)
    written = _write_keras_vgg_h5(cache, ["block1_conv1"], np.random.default_rng(2))
    found = vgg_lib.resolve_vgg_weights("auto")
    assert found == ("imagenet", f"VGG19 ImageNet weights found in the Keras cache: {cache}")
    model = vgg_lib.vgg19("imagenet", ("block1_conv1",))
    np.testing.assert_array_equal(model.get_layer("block1_conv1").get_weights()[0], written["block1_conv1"][0])
    assert vgg_lib.resolve_vgg_weights(cache) == (str(cache), f"VGG19 weights loaded from {cache}")


# ------------------------------------------------------------------------------------------------------- Gatys


def test_adam_loss_decreases_and_history(extractor, images):
    content, style_image, _ = images
    image, history = style.style_transfer(content, style_image, steps=8, size=SIZE, vgg=extractor, progress=False)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    assert sorted(history) == sorted(style.HISTORY_KEYS)
    assert all(len(v) == 8 and np.isfinite(v).all() for v in history.values())
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(history["loss"], np.add(np.add(history["style"], history["content"]), history["tv"]),
                               rtol=1e-5)
    assert history["content"][0] == pytest.approx(0.0, abs=1e-6)  # the image starts as the content image
    np.testing.assert_allclose(history["tv"], 30.0 * np.asarray(history["total_variation"]), rtol=1e-5)
    start = tf.constant(content[None].astype("float32") / 255.0)
    assert history["total_variation"][0] == pytest.approx(float(tf.image.total_variation(start)[0]), rel=1e-4)
    assert np.all(np.diff(history["seconds"]) >= 0)


def test_lbfgs_runs_and_decreases(extractor, images):
    content, style_image, _ = images
    image, history = style.style_transfer(content, style_image, steps=5, size=SIZE, vgg=extractor, optimizer="lbfgs",
                                          progress=False)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    assert 1 <= len(history["loss"]) <= 5 and np.isfinite(history["loss"]).all()
    assert history["loss"][-1] < history["loss"][0]


def test_style_blend_weights(extractor, images):
    content, first, second = images
    _, single = style.style_transfer(content, first, steps=1, size=SIZE, vgg=extractor, progress=False)
    _, blended = style.style_transfer(content, [first, second], style_blend=[2.0, 0.0], steps=1, size=SIZE,
                                      vgg=extractor, progress=False)
    np.testing.assert_allclose(blended["loss"], single["loss"], rtol=1e-4)  # weight 0 removes the second style
    _, mixed = style.style_transfer(content, [first, second], steps=1, size=SIZE, vgg=extractor, progress=False)
    _, only_second = style.style_transfer(content, second, steps=1, size=SIZE, vgg=extractor, progress=False)
    # equal weights: the style term is the mean of both styles' terms
    assert mixed["style"][0] == pytest.approx((single["style"][0] + only_second["style"][0]) / 2, rel=1e-4)


def test_combine_luminance_keeps_luminance_and_chroma():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.3, 0.7, (8, 8, 3)).astype("float32")
    b = rng.uniform(0.3, 0.7, (8, 8, 3)).astype("float32")
    out = style.combine_luminance(a, b)
    yiq = lambda x: tf.image.rgb_to_yiq(x).numpy()  # noqa: E731
    np.testing.assert_allclose(yiq(out)[..., 0], yiq(a)[..., 0], atol=1e-4)  # TF's YIQ matrices are rounded
    np.testing.assert_allclose(yiq(out)[..., 1:], yiq(b)[..., 1:], atol=1e-4)


def test_preserve_color_keeps_content_chroma(extractor, images):
    content, style_image, _ = images
    image, _ = style.style_transfer(content, style_image, steps=3, size=SIZE, vgg=extractor, preserve_color=True,
                                    progress=False)
    yiq = lambda x: tf.image.rgb_to_yiq(x.astype("float32") / 255.0).numpy()  # noqa: E731
    chroma_error = np.abs(yiq(image)[..., 1:] - yiq(content)[..., 1:])
    assert np.median(chroma_error) < 2 / 255  # uint8 rounding; clipping only at saturated pixels
    assert np.abs(yiq(image)[..., 0] - yiq(content)[..., 0]).max() > 2 / 255  # the luminance was optimised


def test_load_image_and_validation(extractor, images, tmp_path):
    from PIL import Image

    content, style_image, _ = images
    Image.fromarray(content).save(tmp_path / "c.png")
    assert style.load_image(tmp_path / "c.png").shape == (SIZE, SIZE, 3)
    assert style.load_image(np.zeros((30, 60, 3), np.uint8), 40).shape == (20, 40, 3)
    assert style.load_image(np.zeros((30, 60, 3), np.uint8), 16, square=True).shape == (16, 16, 3)
    assert style.load_image(np.full((4, 4, 3), -1.0, "float32")).max() == 0  # floats in [-1, 1]
    with pytest.raises(ValueError, match="optimizer"):
        style.style_transfer(content, style_image, optimizer="sgd", vgg=extractor)
    with pytest.raises(ValueError, match=">= 16 px"):
        style.style_transfer(content, style_image, size=8, vgg=extractor)
    with pytest.raises(ValueError, match="style_blend"):
        style.style_transfer(content, [style_image, style_image], style_blend=[1.0], vgg=extractor)
    with pytest.raises(ValueError, match="does not return the layers"):
        style.style_transfer(content, style_image, size=SIZE, vgg=vgg_lib.vgg19(None, ("block1_conv1",)))


def test_gatys_speed_reports_rate():
    result = style.gatys_speed(SIZE, steps=1, warmup=1)
    assert result["size"] == SIZE and result["iterations_per_second"] > 0 and result["precision"] == "float32"
