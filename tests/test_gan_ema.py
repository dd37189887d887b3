"""The GAN trainer's generator weight average (``ema``): the update formula, what is exported and sampled, exact
resume, and bad values."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import train
from kitlib.models.dcgan import build_dcgan
from kitlib.train import ema as weight_ema

pytestmark = pytest.mark.usefixtures("float32_runtime")


def _batches(n=16, size=32, batch=8):
    images = np.random.default_rng(0).uniform(-1, 1, (n, size, size, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def _gan(ema=0.9):
    g, d = build_dcgan("radford", latent_dim=8, image_size=32, filters=8)
    gan = train.GAN(g, d, ema=ema, num_samples=4)
    gan.compile()
    return gan


def test_each_step_moves_the_average_by_the_warmup_formula():
    gan = _gan(ema=0.9)
    averaged = [np.asarray(w).copy() for w in gan.ema_generator.weights]
    np.testing.assert_array_equal(averaged[0], np.asarray(gan.generator.weights[0]))  # starts as a copy
    for step, batch in enumerate(_batches()):
        gan.train_step(batch)
        decay = min(0.9, (1 + step + 1) / (10 + step + 1))  # the optimizer has made step + 1 updates
        trained = [np.asarray(w) for w in gan.generator.weights]
        averaged = [decay * a + (1 - decay) * t for a, t in zip(averaged, trained)]
        for expected, got in zip(averaged, gan.ema_generator.weights):
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)
    moving = [w for w in gan.ema_generator.weights if "moving_mean" in w.path]
    assert moving, "the average covers the batch-norm statistics too"
    assert not np.allclose(np.asarray(gan.ema_generator.weights[0]), np.asarray(gan.generator.weights[0]))


def test_the_average_is_sampled_exported_and_resumed_exactly(tmp_path):
    gan = _gan()
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    assert gan.generators() == {"generator": gan.ema_generator}
    np.testing.assert_array_equal(gan.sample_images(2), gan.ema_generator(gan.fixed_latents[:2], training=False))
    exported = keras.saving.load_model(tmp_path / "export" / "generator.keras", compile=False)
    for a, b in zip(exported.weights, gan.ema_generator.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    again = _gan()
    assert train.Checkpointer(again, tmp_path).restore() == 2
    for net in ("generator", "ema_generator"):
        for a, b in zip(getattr(again, net).weights, getattr(gan, net).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert again.run_config()["ema"] == 0.9


def test_without_an_average_nothing_changes():
    gan = _gan(ema=None)
    assert gan.ema_generator is None and set(gan.networks()) == {"generator", "discriminator"}
    assert gan.generators() == {"generator": gan.generator} and "ema" not in gan.run_config()


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1])
def test_bad_decay_is_refused(bad):
    g, d = build_dcgan("radford", latent_dim=8, image_size=32, filters=8)
    with pytest.raises(ValueError, match="ema must be in"):
        train.GAN(g, d, ema=bad)


def test_warmup_decay():
    assert round(float(weight_ema.decay(0.999, 0)), 6) == 0.1
    assert round(float(weight_ema.decay(0.999, 10**6)), 6) == 0.999
    assert round(float(weight_ema.decay(0.5, 0, warmup=False)), 6) == 0.5
