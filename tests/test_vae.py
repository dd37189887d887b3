"""The VAE, added through the method registry: networks, one training step, the KL term, train and generate by CLI."""

import json
import pathlib

import keras
import numpy as np
import pytest
from PIL import Image

from kitlib import cli, methods
from kitlib.method import PROFILES
from kitlib.models.vae import build_vae
from kitlib.train import Trainer
from kitlib.train.vae import VAE, gaussian_kl, gaussian_nll
from test_methods import parameters_cell

NOTEBOOK_NAMES = {"IMAGE_SIZE": "image_size", "NUM_TOY_IMAGES": "num_images", "LATENT_DIM": "latent_dim",
                  "FILTERS": "filters", "SIGMA": "sigma", "BATCH_SIZE": "batch_size", "EPOCHS": "epochs"}


def test_networks_have_the_generator_interface():
    encoder, decoder = build_vae(32, latent_dim=8, filters=4)
    mean, log_var = encoder(np.zeros((2, 32, 32, 3), "float32"))
    assert mean.shape == log_var.shape == (2, 8)
    out = keras.ops.convert_to_numpy(decoder(np.random.default_rng(0).normal(size=(2, 8)).astype("float32")))
    assert out.shape == (2, 32, 32, 3) and np.abs(out).max() <= 1.0
    with pytest.raises(ValueError, match="power of two >= 8"):
        build_vae(24)
    with pytest.raises(ValueError, match="latent size"):
        VAE(build_vae(16, latent_dim=4)[0], build_vae(16, latent_dim=5)[1])


def test_kl_and_reconstruction_by_hand():
    mean = np.array([[0.5, -1.0, 0.0], [0.0, 0.0, 0.0]], "float32")
    log_var = np.array([[0.0, np.log(2.0), -1.0], [0.0, 0.0, 0.0]], "float32")
    var = np.exp(log_var)
    # KL(N(m, v) || N(0, 1)) = 0.5 * (v + m^2 - 1 - log v), per dimension
    expected = 0.5 * (var + mean**2 - 1.0 - log_var).sum(axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gaussian_kl(mean, log_var)), expected, rtol=1e-6)
    assert expected[1] == 0.0  # the prior itself
    x, x_hat = np.full((1, 2, 2, 3), 0.5, "float32"), np.zeros((1, 2, 2, 3), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gaussian_nll(x, x_hat, sigma=0.5)), [12 * 0.25 / 0.5])


def test_one_train_step_changes_every_weight_and_logs_the_elbo_terms():
    vae = VAE(*build_vae(16, latent_dim=4, filters=4), seed=0)
    vae.compile()
    before = [w.numpy().copy() for w in vae.encoder.weights + vae.decoder.weights]
    batch = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    logs = vae.train_step(batch)
    after = [w.numpy() for w in vae.encoder.weights + vae.decoder.weights]
    unchanged = [w.path for w, a, b in zip(vae.encoder.weights + vae.decoder.weights, before, after)
                 if np.array_equal(a, b)]
    assert not unchanged, f"weights the step left untouched: {unchanged}"
    logs = {k: float(v) for k, v in logs.items()}
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + logs["kl"], rel=1e-5) and logs["kl"] >= 0


def test_the_decoder_is_exported_and_a_trainer_exporting_nothing_is_an_error():
    vae = VAE(*build_vae(16, latent_dim=4, filters=4))
    assert list(vae.generators()) == ["decoder"] == list(methods.get("vae").exports)

    class DecoderOnly(Trainer):  # the mistake the base class used to let pass: nothing named 'generator'
        def __init__(self):
            super().__init__(loss_names=())
            self.decoder = build_vae(16, latent_dim=4, filters=4)[1]

        def networks(self):
            return {"decoder": self.decoder}

    with pytest.raises(ValueError, match=r"DecoderOnly exports no network.*exports = \('decoder',\)"):
        DecoderOnly().generators()
    DecoderOnly.exports = ("decoder",)
    assert list(DecoderOnly().generators()) == ["decoder"]


@pytest.mark.parametrize("profile", PROFILES)
def test_registry_defaults_equal_notebook_08(profile):
    cell, defaults = parameters_cell("08_vae", profile), methods.get("vae").defaults(profile)
    assert {nb: cell[nb] for nb in NOTEBOOK_NAMES} == {nb: defaults[key] for nb, key in NOTEBOOK_NAMES.items()}
    assert sorted(NOTEBOOK_NAMES.values()) == sorted(defaults)


def test_train_and_generate_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run = tmp_path / "vae"
    assert cli.main(["train", "vae", "--out", str(run), "--epochs", "1", "--limit", "64", "--batch-size", "16",
                     "--precision", "float32"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["trainer"] == "VAE" and methods.for_run(config).name == "vae"
    assert config["generators"] == {"decoder": "export/decoder.keras"} and config["model"]["latent_dim"] == 32
    out = tmp_path / "samples"
    assert cli.main(["generate", str(run), "--n", "5", "--out", str(out), "--batch-size", "2", "--seed", "3"]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"{i:06d}.png" for i in range(5)]
    first = np.asarray(Image.open(out / files[0]))
    assert first.shape == (32, 32, 3) and first.std() > 0
    again = tmp_path / "again"
    assert cli.main(["generate", str(run), "--n", "5", "--out", str(again), "--batch-size", "2", "--seed", "3"]) == 0
    assert all(np.array_equal(np.asarray(Image.open(out / f)), np.asarray(Image.open(again / f))) for f in files)
    assert cli.main(["translate", str(run), "--input", str(out), "--out", str(tmp_path / "t")]) == 2
