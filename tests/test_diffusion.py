"""DDIM diffusion: schedule, DDIM step/sampler against known noise, EMA, training, conditional model, resume, CLI."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kitlib.models.diffusion import DIFFUSION_UNET_VARIANTS, SinusoidalEmbedding, diffusion_unet
from kitlib.infer.diffusion import ddim_generate, ddim_sample, ddim_step, ddim_translate, sampling_options
from kitlib.models.diffusion import add_noise, diffusion_schedule
from kitlib.train.diffusion import DiffusionModel

SIZE = 32


pytestmark = pytest.mark.usefixtures("float32_runtime")


def _tiny(conditional=False):
    return diffusion_unet(SIZE, widths=(8, 16), block_depth=1, embedding_dims=8,
                          condition_channels=3 if conditional else 0)


def _images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")


def _batches(conditional=False, n=16, batch=8):
    """Like kitlib.data.prepare: an infinite stream, a pure function of its seed, with steps_per_epoch."""
    x = _images(n)
    ds = tf.data.Dataset.from_tensor_slices((_images(n, 1), x) if conditional else x)
    ds = ds.repeat().shuffle(n, seed=3, reshuffle_each_iteration=False).batch(batch, drop_remainder=True)
    ds.steps_per_epoch = n // batch
    return ds


def test_schedule_endpoints_and_monotonicity():
    times = np.linspace(0.0, 1.0, 101, dtype="float32")
    noise, signal = (np.asarray(v) for v in diffusion_schedule(times, min_signal_rate=0.02, max_signal_rate=0.95))
    assert signal[0] == pytest.approx(0.95, abs=1e-6) and signal[-1] == pytest.approx(0.02, abs=1e-6)
    assert noise[0] == pytest.approx(np.sqrt(1 - 0.95 ** 2), abs=1e-6)
    assert noise[-1] == pytest.approx(np.sqrt(1 - 0.02 ** 2), abs=1e-6)
    assert np.all(np.diff(signal) < 0) and np.all(np.diff(noise) > 0)
    np.testing.assert_allclose(signal ** 2 + noise ** 2, 1.0, atol=1e-6)
    # the angle is linear in t: t = 0.5 is the mean of the two end angles
    mid = diffusion_schedule(np.float32(0.5))[1]
    assert float(mid) == pytest.approx(np.cos((np.arccos(0.95) + np.arccos(0.02)) / 2), abs=1e-6)
    with pytest.raises(ValueError, match="min_signal_rate"):
        diffusion_schedule(times, min_signal_rate=0.9, max_signal_rate=0.5)


def test_one_ddim_step_inverts_one_noising_step_on_known_noise():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    eps = rng.standard_normal((2, 8, 8, 3)).astype("float32")
    t, t_next = np.full((2, 1, 1, 1), 0.7, "float32"), np.full((2, 1, 1, 1), 0.3, "float32")
    noisy = add_noise(x0, t, eps)
    n, s = diffusion_schedule(t)
    n2, s2 = diffusion_schedule(t_next)
    pred, nxt = ddim_step(noisy, eps, n, s, n2, s2)
    np.testing.assert_allclose(pred, x0, atol=1e-5)
    np.testing.assert_allclose(nxt, add_noise(x0, t_next, eps), atol=1e-5)


@pytest.mark.parametrize("steps", [1, 5])
def test_ddim_sampler_with_an_oracle_recovers_the_image(steps):
    """A network that returns the true noise of its input makes every DDIM step exact: the output is x0."""
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, (3, 8, 8, 3)).astype("float32")
    eps = rng.standard_normal((3, 8, 8, 3)).astype("float32")
    seen = []

    def oracle(inputs, training):
        noisy, variances = inputs
        seen.append(float(np.asarray(variances)[0, 0, 0, 0]))
        return eps

    start = add_noise(x0, np.ones((3, 1, 1, 1), "float32"), eps)
    np.testing.assert_allclose(ddim_sample(oracle, start, steps=steps), x0, atol=1e-4)
    assert len(seen) == steps and seen == sorted(seen, reverse=True)  # noise level decreases step after step
    assert seen[0] == pytest.approx(1 - 0.02 ** 2, abs=1e-5)           # first step at t = 1
    with pytest.raises(ValueError, match="steps"):
        ddim_sample(oracle, start, steps=0)


def test_sinusoidal_embedding_values():
    e = np.asarray(SinusoidalEmbedding(4, min_frequency=1.0, max_frequency=2.0)(np.full((1, 1, 1, 1), 0.25, "float32")))
    expected = [np.sin(2 * np.pi * 0.25), np.sin(4 * np.pi * 0.25), np.cos(2 * np.pi * 0.25), np.cos(4 * np.pi * 0.25)]
    np.testing.assert_allclose(e[0, 0, 0], expected, atol=1e-6)
    with pytest.raises(ValueError, match="dims"):
        SinusoidalEmbedding(5)


def test_builder_shapes_variants_and_validation():
    net = _tiny(conditional=True)
    assert [tuple(t.shape) for t in net.inputs] == [(None, SIZE, SIZE, 3), (None, 1, 1, 1), (None, SIZE, SIZE, 3)]
    assert net.output_shape == (None, SIZE, SIZE, 3) and net.name == "conditional_diffusion_unet"
    assert net.get_layer("predicted_noise").dtype_policy.compute_dtype == "float32"
    assert set(DIFFUSION_UNET_VARIANTS) == {"tiny", "small", "medium", "keras_io"}
    assert diffusion_unet(64, **DIFFUSION_UNET_VARIANTS["keras_io"]).count_params() > 10 * _tiny().count_params()
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* \\(len\\(widths\\) - 1\\) = 4"):
        diffusion_unet(34, widths=(8, 16, 32))
    with pytest.raises(ValueError, match="widths"):
        diffusion_unet(32, widths=())
    with pytest.raises(ValueError, match="loss must be one of"):
        DiffusionModel(_tiny(), loss="l1")


def test_ema_update_formula():
    model = DiffusionModel(_tiny(), ema=0.999)
    model.compile()
    model.build_optimizers()
    opt = model.optimizers()["denoiser"]
    for w in model.network.weights:
        w.assign(np.full(w.shape, 2.0, "float32"))
    for w in model.ema_network.weights:
        w.assign(np.full(w.shape, 1.0, "float32"))
    opt.iterations.assign(100)                      # warm-up: min(0.999, 101 / 110)
    decay = 101 / 110
    assert float(model.ema_decay()) == pytest.approx(decay, rel=1e-6)
    model.update_ema()
    for w in model.ema_network.weights:             # decay * 1 + (1 - decay) * 2
        np.testing.assert_allclose(np.asarray(w), decay + (1 - decay) * 2, rtol=1e-6)
    opt.iterations.assign(10 ** 6)                  # late in training the decay is the nominal 0.999
    assert float(model.ema_decay()) == pytest.approx(0.999, rel=1e-6)
    plain = DiffusionModel(_tiny(), ema=0.9, ema_warmup=False)
    plain.compile()
    assert float(plain.ema_decay()) == pytest.approx(0.9)


@pytest.mark.parametrize("conditional,loss", [(False, "mae"), (True, "mse")])
def test_one_step_updates_every_weight_and_the_ema(conditional, loss):
    model = DiffusionModel(_tiny(conditional), loss=loss, num_samples=4)
    model.compile()
    net, ema = model.network, model.ema_network
    np.testing.assert_array_equal(net.weights[0], ema.weights[0])  # the EMA starts as a copy
    before = {w.path: np.asarray(w).copy() for w in net.weights}
    before_ema = [np.asarray(w).copy() for w in ema.weights]
    logs = model.fit(_batches(conditional).take(1), epochs=1, steps_per_epoch=1, verbose=0).history
    assert set(logs) == {"noise_loss", "image_loss"} and all(np.isfinite(v[0]) for v in logs.values())
    assert 0.0 < logs["noise_loss"][0] < 3.0
    unchanged = [w.path for w in net.weights if np.array_equal(before[w.path], np.asarray(w))]
    assert not unchanged, f"weights (moving statistics included) that did not change: {unchanged}"
    assert all(not np.array_equal(b, np.asarray(w)) for b, w in zip(before_ema, ema.weights))
    # EMA after one step with warm-up decay min(0.999, 2/11): between the old and the new weights
    d = 2 / 11
    for b, w, e in zip(before.values(), net.weights, ema.weights):
        np.testing.assert_allclose(np.asarray(e), d * b + (1 - d) * np.asarray(w), rtol=1e-5, atol=1e-6)


def test_conditional_sampling_shapes_and_errors():
    model = DiffusionModel(_tiny(conditional=True), num_samples=4, sampling_steps=3)
    assert model.kind == "translation" and model.conditional
    drawings = (np.random.default_rng(0).uniform(0, 255, (5, SIZE, SIZE, 3))).astype("uint8")
    out = model.translate(drawings, steps=2)
    assert out.shape == (5, SIZE, SIZE, 3) and out.dtype == np.float32 and -1 <= out.min() <= out.max() <= 1
    np.testing.assert_array_equal(out, model.translate(drawings, steps=2))          # deterministic for a seed
    assert not np.array_equal(out, model.translate(drawings, steps=2, seed=1))
    with pytest.raises(ValueError, match="set_sample_inputs"):
        model.sample_images()
    model.set_sample_inputs(drawings, drawings)
    rows = model.sample_images()
    assert rows.shape == (12, SIZE, SIZE, 3)   # 4 samples x [condition, generated, target]
    with pytest.raises(ValueError, match="use ddim_translate"):
        ddim_generate(model.ema_network, 2)
    with pytest.raises(ValueError, match="resize the images"):
        ddim_translate(model.ema_network, np.zeros((1, 16, 16, 3), "float32"))
    uncond = DiffusionModel(_tiny(), num_samples=3, sampling_steps=2)
    assert uncond.kind == "unconditional" and uncond.sample_images().shape == (3, SIZE, SIZE, 3)
    with pytest.raises(ValueError, match="use ddim_generate"):
        ddim_translate(uncond.ema_network, drawings)


def _state(model):
    state = {f"net/{w.path}": np.asarray(w) for w in model.network.weights}
    state.update({f"ema/{i}": np.asarray(w) for i, w in enumerate(model.ema_network.weights)})
    state.update({f"opt/{i}": np.asarray(v) for i, v in enumerate(model.optimizers()["denoiser"].variables)})
    state.update({f"state/{i}": np.asarray(v) for i, v in enumerate(model.state_variables())})
    return state


def test_resume_through_the_engine_is_exact(tmp_path):
    def fresh():
        keras.utils.set_random_seed(0)   # the same initial weights, as in a new process with the same seed
        model = DiffusionModel(_tiny(), num_samples=2, sampling_steps=2, seed=5)
        model.compile()
        return model

    straight = fresh()
    straight.fit(_batches(), epochs=2, run_dir=tmp_path / "straight", verbose=0)
    first = fresh()
    first.fit(_batches(), epochs=1, run_dir=tmp_path / "cut", verbose=0)
    resumed = fresh()   # a new process would build exactly this, then resume from the run directory
    resumed.fit(_batches(), epochs=2, run_dir=tmp_path / "cut", verbose=0)
    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys() and int(resumed.global_step.numpy()) == 4
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    config = json.loads((tmp_path / "cut" / "config.json").read_text())
    assert config["trainer"] == "DiffusionModel" and config["kind"] == "unconditional"
    assert config["generators"] == {"ema_denoiser": "export/ema_denoiser.keras"}
    assert sampling_options(config) == {"steps": 2, "min_signal_rate": 0.02, "max_signal_rate": 0.95}


def test_cli_generate_and_translate_load_the_exported_ema_network(tmp_path):
    from kitlib.cli import main

    uncond = DiffusionModel(_tiny(), num_samples=2, sampling_steps=2)
    uncond.compile()
    uncond.fit(_batches(), epochs=1, run_dir=tmp_path / "ddim", verbose=0)
    assert main(["generate", str(tmp_path / "ddim"), "--n", "3", "--out", str(tmp_path / "gen"), "--steps", "2"]) == 0
    files = sorted((tmp_path / "gen").glob("*.png"))
    assert len(files) == 3 and Image.open(files[0]).size == (SIZE, SIZE)
    # the exported EMA network gives the same images as the trainer for the same noise
    loaded = keras.saving.load_model(tmp_path / "ddim" / "export" / "ema_denoiser.keras", compile=False)
    np.testing.assert_allclose(ddim_generate(loaded, 2, steps=2), uncond.generate(2, steps=2), atol=1e-5)

    cond = DiffusionModel(_tiny(conditional=True), num_samples=2, sampling_steps=2)
    cond.compile()
    cond.set_sample_inputs(_images(2))
    cond.fit(_batches(conditional=True), epochs=1, run_dir=tmp_path / "palette", verbose=0)
    inputs = tmp_path / "drawings"
    inputs.mkdir()
    for i in range(2):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(inputs / f"d{i}.png")
    assert main(["generate", str(tmp_path / "palette"), "--n", "1", "--out", str(tmp_path / "x")]) == 2  # wrong verb
    assert main(["translate", str(tmp_path / "palette"), "--input", str(inputs), "--out", str(tmp_path / "tr"),
                 "--steps", "2"]) == 0
    outs = sorted((tmp_path / "tr").glob("*.png"))
    assert [p.name for p in outs] == ["d0.png", "d1.png"] and Image.open(outs[0]).size == (SIZE, SIZE)


def test_palette_recipe_trains_on_toy_pairs(tmp_path, monkeypatch):
    from kitlib import recipes

    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run_dir = recipes.train("palette", out=tmp_path / "run", limit=32, epochs=1, batch_size=16)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["kind"] == "translation" and config["model"]["conditional"] and config["variant"] == "tiny"
    assert config["data"] == {"source": "toy:pixel_art", "num_images": 32, "min_cell": 4}
    grid = Image.open(run_dir / "samples" / "epoch_0001.png")
    assert grid.size[0] > grid.size[1]   # 8 rows of [drawing, generated, target] in 6 columns
    with pytest.raises(ValueError, match="toy:pixel_art"):
        recipes.train("palette", out=tmp_path / "bad", data="toy:faces")
