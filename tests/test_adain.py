"""AdaIN: the layer's statistics by hand, decoder shapes, one train step, pairs, stylize, export, exact resume."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import data
from kitlib.models.adain import ADAIN_LAYERS, AdaIN, adain, adain_decoder, adain_encoder, stylize
from kitlib.train.adain import AdaINTrainer, adain_speed, content_style_pairs

SIZE = 32


pytestmark = pytest.mark.usefixtures("float32_runtime")


@pytest.fixture(scope="module")
def encoder():
    keras.utils.set_random_seed(0)
    return adain_encoder(weights=None)


def _images(n, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")


def test_adain_takes_the_style_statistics_by_hand():
    rng = np.random.default_rng(0)
    content = rng.normal(2.0, 3.0, (2, 6, 5, 4)).astype("float32")
    style = rng.normal(-1.0, 0.5, (1, 9, 7, 4)).astype("float32") * np.arange(1, 5, dtype="float32")
    out = np.asarray(adain(content, style, epsilon=1e-5))
    assert out.shape == content.shape
    c_mean, c_var = content.mean(axis=(1, 2), keepdims=True), content.var(axis=(1, 2), keepdims=True)
    s_mean, s_var = style.mean(axis=(1, 2), keepdims=True), style.var(axis=(1, 2), keepdims=True)
    expected = (content - c_mean) / np.sqrt(c_var + 1e-5) * np.sqrt(s_var + 1e-5) + s_mean
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    # per sample and channel: the style's mean and standard deviation
    np.testing.assert_allclose(out.mean(axis=(1, 2)), np.broadcast_to(style.mean(axis=(1, 2)), (2, 4)), atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), np.broadcast_to(style.std(axis=(1, 2)), (2, 4)), rtol=1e-3)
    layer = AdaIN(epsilon=1e-5)
    np.testing.assert_allclose(np.asarray(layer([content, style])), out, rtol=1e-6)
    assert AdaIN.from_config(layer.get_config()).epsilon == 1e-5
    with pytest.raises(ValueError, match="epsilon"):
        AdaIN(epsilon=-1.0)


def test_encoder_and_decoder_shapes(encoder):
    assert sorted(encoder.output) == list(ADAIN_LAYERS) and not encoder.trainable_weights
    for h, w in ((32, 32), (48, 64)):
        feats = encoder(np.zeros((2, h, w, 3), "float32"))
        assert tuple(feats["block4_conv1"].shape) == (2, h // 8, w // 8, 512)
        out = adain_decoder(filters=4)(feats["block4_conv1"])
        assert tuple(out.shape) == (2, h, w, 3) and out.dtype == "float32"  # mirrors the input
    # the paper's decoder (f = 64): convs 512->256, 3 x 256->256, 256->128, 128->128, 128->64, 64->64, 64->3
    convs = [(512, 256), (256, 256), (256, 256), (256, 256), (256, 128), (128, 128), (128, 64), (64, 64), (64, 3)]
    assert adain_decoder().count_params() == sum(9 * a * b + b for a, b in convs) == 3_505_219
    with pytest.raises(ValueError, match="filters"):
        adain_decoder(filters=0)


def test_one_step_trains_every_decoder_weight_and_no_encoder_weight(encoder):
    decoder = adain_decoder(filters=8)
    trainer = AdaINTrainer(encoder, decoder, style_weight=10.0)
    trainer.compile(run_eagerly=True)
    dec_before = [np.asarray(w).copy() for w in decoder.weights]
    enc_before = [np.asarray(w).copy() for w in encoder.weights]
    batch = tf.data.Dataset.from_tensors((_images(2, 0), _images(2, 1)))
    logs = trainer.fit(batch, epochs=1, verbose=0).history
    assert set(logs) == {"loss", "content_loss", "style_loss"}
    assert all(np.isfinite(v[-1]) and v[-1] > 0 for v in logs.values())
    assert logs["loss"][0] == pytest.approx(logs["content_loss"][0] + 10.0 * logs["style_loss"][0], rel=1e-5)
    unchanged = [w.path for w, b in zip(decoder.weights, dec_before) if np.array_equal(np.asarray(w), b)]
    assert not unchanged, f"decoder weights that did not train: {unchanged}"
    assert all(np.array_equal(np.asarray(w), b) for w, b in zip(encoder.weights, enc_before))
    assert int(trainer.global_step.numpy()) == 1


def test_trainer_validation(encoder):
    with pytest.raises(ValueError, match="lacks"):
        AdaINTrainer(keras.Model(encoder.input, {"block4_conv1": encoder.output["block4_conv1"]}),
                     adain_decoder(filters=4))
    trainable = adain_encoder(None, name="trainable_encoder")
    trainable.trainable = True
    with pytest.raises(ValueError, match="frozen"):
        AdaINTrainer(trainable, adain_decoder(filters=4))
    with pytest.raises(ValueError, match="style_weight"):
        AdaINTrainer(encoder, adain_decoder(filters=4), style_weight=-1.0)


def test_content_style_pairs():
    content = np.stack([np.full((8, 8, 3), i, np.uint8) for i in range(3)])
    styles = np.stack([np.full((8, 8, 3), 100 + i, np.uint8) for i in range(4)])
    pairs = list(content_style_pairs(content, styles, num_pairs=12, seed=0).as_numpy_iterator())
    assert len(pairs) == 12
    assert [int(c[0, 0, 0]) for c, _ in pairs] == [i % 3 for i in range(12)]  # each content image in turn
    drawn = [int(s[0, 0, 0]) for _, s in pairs]
    assert set(drawn) <= {100, 101, 102, 103} and len(set(drawn)) > 1
    again = [int(s[0, 0, 0]) for _, s in content_style_pairs(content, styles, num_pairs=12, seed=0).as_numpy_iterator()]
    assert drawn == again
    from_ds = content_style_pairs(tf.data.Dataset.from_tensor_slices(content), styles)
    assert int(from_ds.cardinality()) == 4
    with pytest.raises(ValueError, match="same size"):
        content_style_pairs(content, np.zeros((2, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        content_style_pairs(content.astype("float32"), styles)


def test_stylize_alpha_and_interpolation(encoder):
    keras.utils.set_random_seed(1)
    decoder = adain_decoder(filters=4)
    content, style_a, style_b = _images(3, 2), _images(1, 3), _images(1, 4)
    plain = stylize(encoder, decoder, content, style_a, batch_size=2)
    assert plain.shape == (3, SIZE, SIZE, 3) and plain.min() >= -1 and plain.max() <= 1
    reconstruction = stylize(encoder, decoder, content, style_a, alpha=0.0)
    direct = np.clip(np.asarray(decoder(encoder(content)["block4_conv1"])), -1, 1)
    np.testing.assert_allclose(reconstruction, direct, atol=1e-5)  # alpha = 0: the content's own features
    only_a = stylize(encoder, decoder, content, [style_a, style_b], style_weights=[3.0, 0.0])
    np.testing.assert_allclose(only_a, plain, atol=1e-5)
    mixed = stylize(encoder, decoder, content, [style_a, style_b], style_weights=[1.0, 1.0])
    assert not np.allclose(mixed, plain)
    uint8 = stylize(encoder, decoder, np.round((content + 1) * 127.5).astype(np.uint8), style_a)
    assert np.abs(uint8 - plain).mean() < 0.05
    with pytest.raises(ValueError, match="alpha"):
        stylize(encoder, decoder, content, style_a, alpha=1.5)
    with pytest.raises(ValueError, match="style_weights"):
        stylize(encoder, decoder, content, [style_a, style_b], style_weights=[1.0])
    with pytest.raises(ValueError, match="give 1"):
        stylize(encoder, decoder, content, _images(2, 5))


def _pairs_batches():
    content = np.round((_images(6, 6) + 1) * 127.5).astype(np.uint8)
    styles = np.round((_images(4, 7) + 1) * 127.5).astype(np.uint8)
    return data.prepare(content_style_pairs(content, styles, seed=0), 2, seed=0)


def test_export_samples_and_exact_resume(encoder, tmp_path):
    def make():
        keras.utils.set_random_seed(0)
        trainer = AdaINTrainer(encoder, adain_decoder(filters=4))
        trainer.compile()
        return trainer

    straight = make()
    straight.fit(_pairs_batches(), epochs=2, run_dir=tmp_path / "straight", verbose=0)
    assert int(straight.global_step.numpy()) == 6

    class StopAt(keras.callbacks.Callback):  # interrupted in the middle of epoch 2
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = int(self.model.global_step.numpy()) >= 4

    first = make()
    first.fit(_pairs_batches(), epochs=2, run_dir=tmp_path / "split", checkpoint_every=2, callbacks=[StopAt()],
              verbose=0)
    assert int(first.global_step.numpy()) == 4
    batches = _pairs_batches()  # made under the same global seed as the others (it seeds the shuffle)
    keras.utils.set_random_seed(5)  # another decoder init: the checkpoint must bring everything back
    resumed = AdaINTrainer(encoder, adain_decoder(filters=4))
    resumed.compile()
    resumed.fit(batches, epochs=2, run_dir=tmp_path / "split", verbose=0)
    assert int(resumed.global_step.numpy()) == 6
    for a, b in zip(straight.decoder.weights, resumed.decoder.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)

    exported = keras.saving.load_model(tmp_path / "straight" / "export" / "decoder.keras", compile=False)
    feats = np.asarray(encoder(_images(1, 8))["block4_conv1"])
    np.testing.assert_allclose(np.asarray(exported(feats)), np.asarray(straight.decoder(feats)), atol=1e-5)

    straight.set_sample_inputs(_images(2, 9), _images(2, 10))
    grid = straight.sample_images()
    assert grid.shape == (6, SIZE, SIZE, 3)  # rows of [content, style, stylised]
    np.testing.assert_array_equal(grid[0], _images(2, 9)[0])

    keras.utils.set_random_seed(7)
    other_encoder = adain_encoder(weights=None)  # other features: resuming on them is refused
    with pytest.raises(ValueError, match="encoder_fingerprint"):
        refused = AdaINTrainer(other_encoder, adain_decoder(filters=4))
        refused.compile()
        refused.fit(_pairs_batches(), epochs=3, run_dir=tmp_path / "straight", verbose=0)


def test_adain_speed_reports_rates():
    result = adain_speed(SIZE, batch_size=1, steps=1, filters=4)
    assert result["inference_images_per_second"] > 0 and result["train_images_per_second"] > 0
