"""The shared training engine: every weight trains, checkpoints restore, LR schedule, NaN guard, run directory."""

import json

import numpy as np
import pytest
import tensorflow as tf

from kitlib import train
from kitlib.models.dcgan import build_dcgan


pytestmark = pytest.mark.usefixtures("float32_runtime")


def _batches(n=16, size=32, batch=8):
    images = np.random.default_rng(0).uniform(-1, 1, (n, size, size, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).shuffle(n, seed=1).batch(batch, drop_remainder=True)


@pytest.mark.parametrize("variant", ["seed", "radford"])
@pytest.mark.parametrize("loss", ["bce", "lsgan", "hinge", "wgan-gp"])
def test_one_step_changes_every_weight(variant, loss):
    kwargs = {"norm": "layer"} if (variant == "radford" and loss == "wgan-gp") else {}
    g, d = build_dcgan(variant, latent_dim=16, image_size=32, **kwargs)
    gan = train.GAN(g, d, loss=loss, half_batch=(loss == "bce"))
    gan.compile()
    before = {v.path: np.asarray(v).copy() for v in g.trainable_weights + d.trainable_weights}
    logs = gan.fit(_batches().take(1), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    unchanged = [p for p, v in before.items() if np.array_equal(v, np.asarray(_var(gan, p)))]
    if loss in ("hinge", "wgan-gp"):
        # d/d(bias) of mean(f) - mean(r) (WGAN) is exactly 0, and so is hinge's while all logits are in (-1, 1):
        # the output bias of D cannot move in one step; every other weight must.
        # (Radford's logit conv has no bias, as in the PyTorch DCGAN; the seed D's Dense has one.)
        last = d.trainable_weights[-1].path
        unchanged = [p for p in unchanged if not (p == last and last.endswith("bias"))]
    assert not unchanged, f"weights that did not train: {unchanged}"
    assert set(logs) == {"d_loss", "g_loss", "d_acc_real", "d_acc_fake"}
    assert 0.0 <= logs["d_acc_real"][0] <= 1.0


def _var(gan, path):
    for v in gan.generator.trainable_weights + gan.discriminator.trainable_weights:
        if v.path == path:
            return v
    raise KeyError(path)


def test_checkpoint_restores_weights_optimizer_and_step(tmp_path):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d)
    gan.compile()
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    assert int(gan.global_step.numpy()) == 2
    saved = [np.asarray(v).copy() for v in g.weights + gan.optimizers()["generator"].variables]

    g2, d2 = build_dcgan("seed", latent_dim=8, image_size=32)
    gan2 = train.GAN(g2, d2)
    gan2.compile()
    assert train.Checkpointer(gan2, tmp_path).restore() == 2
    restored = [np.asarray(v) for v in g2.weights + gan2.optimizers()["generator"].variables]
    assert len(saved) == len(restored)
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(a, b)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["kind"] == "unconditional" and config["generators"] == {"generator": "export/generator.keras"}
    assert (tmp_path / "export" / "generator_epoch_0001.keras").exists()


def test_restore_with_another_config_is_refused(tmp_path):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, loss="bce")
    gan.compile()
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    g2, d2 = build_dcgan("seed", latent_dim=8, image_size=32)
    other = train.GAN(g2, d2, loss="lsgan")
    other.compile()
    with pytest.raises(ValueError, match="loss: saved 'bce' vs now 'lsgan'"):
        other.fit(_batches(), epochs=2, run_dir=tmp_path, verbose=0)


def test_completed_run_is_not_trained_again(tmp_path, capsys):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d)
    gan.compile()
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    assert "Run already complete" in capsys.readouterr().out
    assert int(gan.global_step.numpy()) == 2


def test_nan_guard_stops_and_restores(tmp_path):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d)
    gan.compile()
    gan.fit(_batches(), epochs=1, run_dir=tmp_path, verbose=0)
    good = np.asarray(g.weights[0]).copy()
    bad = _batches().map(lambda x: x * np.nan)
    guard = train.NaNGuard()
    gan.fit(bad, epochs=3, run_dir=tmp_path, callbacks=[guard], verbose=0)
    assert guard.tripped and "step" in guard.tripped
    np.testing.assert_array_equal(np.asarray(g.weights[0]), good)
    assert int(gan.global_step.numpy()) == 2


def test_linear_decay_schedule():
    s = train.LinearDecay(2e-4, constant_steps=100, decay_steps=100)
    assert float(s(0)) == pytest.approx(2e-4)
    assert float(s(100)) == pytest.approx(2e-4)
    assert float(s(150)) == pytest.approx(1e-4)
    assert float(s(200)) == pytest.approx(0.0)
    assert float(s(300)) == pytest.approx(0.0)
    assert train.LinearDecay.from_config(s.get_config()).decay_steps == 100
    with pytest.raises(ValueError):
        train.LinearDecay(1e-3, -1, 10)


def test_history_and_samples_are_written(tmp_path):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, num_samples=4)
    gan.compile()
    gan.fit(_batches(), epochs=2, run_dir=tmp_path, verbose=0,
            callbacks=[train.LossHistory(tmp_path), train.SampleGrid(tmp_path, show=False)])
    rows = train.read_history(tmp_path)
    assert [int(r["epoch"]) for r in rows] == [1, 2] and "d_loss" in rows[0]
    assert (tmp_path / "samples" / "epoch_0002.png").exists()


def test_fit_rejects_bad_input():
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d)
    gan.compile()
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        gan.fit(np.zeros((4, 32, 32, 3)), epochs=1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        gan.fit(_batches().repeat(), epochs=1)
    with pytest.raises(ValueError, match="loss must be one of"):
        train.GAN(g, d, loss="wasserstein")
