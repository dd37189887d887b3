"""GauGAN trainer: every weight trains (with and without the encoder), loss wiring, VGG handling, label validation,
synthesis from label maps / sketches / folders, the CLI, and exact resume through the engine."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kitlib import cli, train
from kitlib.data.toy import LANDSCAPE_PALETTE, make_landscapes
from kitlib.eval.labels import colorize, label_statistics
from kitlib.models import vgg as kvgg
from kitlib.models.spade import build_gaugan
from kitlib.data.labels import labels_to_one_hot, paint
from kitlib.infer.spade import synthesize, synthesize_folder
from kitlib.losses import vgg_perceptual_loss
from kitlib.train.gaugan import GauGAN, resolve_vgg

SIZE, CLASSES = 32, 8


pytestmark = pytest.mark.usefixtures("float32_runtime")


def _nets(*, z_dim=8, use_encoder=True):
    return build_gaugan(SIZE, CLASSES, ngf=2, ndf=4, z_dim=z_dim, spade_hidden=4, use_encoder=use_encoder)


def _pairs(n=4, batch=2):
    images, labels = make_landscapes(n, SIZE, seed=0)
    return tf.data.Dataset.from_tensor_slices((images.astype("float32") / 127.5 - 1.0, labels)).batch(batch)


def _snapshot(nets):
    return {(k, v.path, i): np.asarray(v).copy()
            for k, net in nets.items() for i, v in enumerate(net.trainable_weights)}


@pytest.mark.parametrize("mode", ["encoder", "random_z", "no_z"])
def test_one_step_trains_every_weight_and_wires_the_losses(mode):
    g, d, e = _nets(z_dim=None if mode == "no_z" else 8, use_encoder=mode == "encoder")
    gaugan = GauGAN(g, d, e, vgg=None, palette=LANDSCAPE_PALETTE)
    gaugan.compile(run_eagerly=True)
    before = _snapshot(gaugan.networks())
    logs = {k: v[0] for k, v in gaugan.fit(_pairs().take(1), epochs=1, verbose=0).history.items()}
    assert all(np.isfinite(v) for v in logs.values()), logs
    after = _snapshot(gaugan.networks())
    # hinge: d/d(bias) of mean relu(1 - r) + mean relu(1 + f) is -1 + 1 = 0 while all logits are in (-1, 1), so
    # each scale's output bias cannot move in the first step; every other weight must.
    frozen = {id(d.get_layer(f"scale_{i}").get_layer("logits").bias) for i in range(2)}
    weights = {(k, v.path, i): v for k, net in gaugan.networks().items() for i, v in enumerate(net.trainable_weights)}
    unchanged = [key for key in before if np.array_equal(before[key], after[key]) and id(weights[key]) not in frozen]
    assert not unchanged, f"weights that did not train: {unchanged}"
    assert set(gaugan.networks()) == ({"generator", "discriminator", "encoder"} if mode == "encoder"
                                      else {"generator", "discriminator"})
    expected = {"g_loss", "g_adv", "g_feat", "d_loss", "d_real", "d_fake"} | ({"g_kl"} if mode == "encoder" else set())
    assert set(logs) == expected
    assert logs["g_feat"] > 0 and logs["d_loss"] == pytest.approx(logs["d_real"] + logs["d_fake"], rel=1e-5)
    kl = logs.get("g_kl", 0.0)
    assert logs["g_loss"] == pytest.approx(logs["g_adv"] + 10.0 * logs["g_feat"] + 0.05 * kl, rel=1e-4)
    if mode == "encoder":
        assert kl > 0


def test_vgg_loss_is_disabled_without_imagenet_weights_and_computed_with_an_extractor(monkeypatch, capsys):
    monkeypatch.setattr(kvgg, "resolve_vgg_weights", lambda preference: (None, "no weights"))
    model, message = resolve_vgg("auto")
    assert model is None and "DISABLED" in message and kvgg.VGG19_WEIGHTS_URL in message
    g, d, e = _nets()
    gaugan = GauGAN(g, d, e)                     # vgg="auto": disabled, said out loud, no g_vgg term
    assert "DISABLED" in capsys.readouterr().out and "g_vgg" not in gaugan.loss_names and gaugan.vgg_weight == 0
    # a feature extractor given explicitly: the loss is SPADE's sum_i w_i * L1(phi_i(fake), phi_i(real))
    x = keras.Input((SIZE, SIZE, 3))
    feats = [keras.layers.AveragePooling2D(2**i)(x) if i else x for i in range(5)]
    extractor = keras.Model(x, feats, name="pools")
    gaugan = GauGAN(g, d, e, vgg=extractor)
    assert "g_vgg" in gaugan.loss_names and gaugan.run_config()["vgg"] == "pools"
    rng = np.random.default_rng(0)
    fake, real = rng.uniform(-1, 1, (2, 2, SIZE, SIZE, 3)).astype("float32")
    expected = sum(w * np.abs(np.asarray(a) - np.asarray(b)).mean()
                   for w, a, b in zip((1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0), extractor(fake), extractor(real)))
    assert float(vgg_perceptual_loss(extractor, fake, real)) == pytest.approx(expected, rel=1e-5)


def test_labels_to_one_hot_validates_ids():
    one_hot = labels_to_one_hot(np.array([[[0, 7], [255, 3]]], np.uint8), CLASSES)
    assert one_hot.shape == (1, 2, 2, CLASSES)
    np.testing.assert_array_equal(one_hot.sum(-1), [[[1, 1], [0, 1]]])   # dontcare: all zeros
    assert one_hot[0, 0, 1, 7] == 1
    with pytest.raises(ValueError, match=r"0\.\.7 .*Received ids \[9, 12\]"):
        labels_to_one_hot(np.array([[9, 12, 1]]), CLASSES)
    np.testing.assert_array_equal(labels_to_one_hot(one_hot, CLASSES), one_hot)   # one-hot passes through


def test_synthesize_codes_and_styles():
    g, _, e = _nets()
    label = make_landscapes(1, SIZE, seed=3)[1][0]
    a, b = synthesize(g, np.stack([label, label]), seed=0)         # two random codes for the same map
    assert a.shape == (SIZE, SIZE, 3) and np.abs(a).max() <= 1 and not np.allclose(a, b, atol=0)
    z = np.ones(8, "float32")
    same = synthesize(g, np.stack([label, label]), z=z)             # one code for both
    np.testing.assert_allclose(same[0], same[1], atol=1e-6)
    style = synthesize(g, label, style_images=make_landscapes(1, SIZE, seed=4)[0], encoder=e)
    assert style.shape == (1, SIZE, SIZE, 3)
    with pytest.raises(ValueError, match="needs the encoder"):
        synthesize(g, label, style_images=np.zeros((1, SIZE, SIZE, 3), "uint8"))
    with pytest.raises(ValueError, match="must be 32x32"):
        synthesize(g, np.zeros((16, 16), "uint8"))
    g_plain, _, _ = _nets(z_dim=None, use_encoder=False)
    with pytest.raises(ValueError, match="takes no latent code"):
        synthesize(g_plain, label, z=z)


def test_paint_shapes():
    sky = np.zeros((8, 8), np.uint8)
    water = paint(sky, 3, "rectangle", (0, 0.75, 1, 1))
    assert (water[6:] == 3).all() and (water[:6] == 0).all() and (sky == 0).all()   # a copy, the input is kept
    mountain = paint(sky, 2, "triangle", (0, 0, 1, 1))
    widths = (mountain == 2).sum(axis=1)
    assert widths[0] < widths[-1] and (np.diff(widths) >= 0).all()               # apex at the top, base at the bottom
    blob = paint(sky, 1, "ellipse", (0.25, 0.25, 0.75, 0.75))
    assert blob[4, 4] == 1 and blob[0, 0] == 0 and blob[2, 4] == 1
    with pytest.raises(ValueError, match="shape must be one of"):
        paint(sky, 1, "star")


def test_sample_images_rows_and_label_statistics():
    g, d, e = _nets()
    gaugan = GauGAN(g, d, e, vgg=None, palette=LANDSCAPE_PALETTE)
    images, labels = make_landscapes(2, SIZE, seed=1)
    with pytest.raises(ValueError, match="set_sample_inputs"):
        gaugan.sample_images()
    gaugan.set_sample_inputs(labels, images)
    rows = gaugan.sample_images()
    assert rows.shape == (6, SIZE, SIZE, 3)
    np.testing.assert_allclose(rows[0], colorize(labels[0], LANDSCAPE_PALETTE) / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_allclose(rows[2], images[0] / 127.5 - 1.0, atol=1e-6)
    stats = label_statistics(_pairs(n=4, batch=2), CLASSES)
    assert stats["num_images"] == 4 and stats["pixel_share"].sum() == pytest.approx(1.0)
    assert stats["image_share"][0] == 1.0          # every toy landscape has sky
    with pytest.raises(ValueError, match=r"outside 0\.\.7"):
        label_statistics(np.full((1, 4, 4), 9), CLASSES)


def _weights(gaugan):
    out = {f"{k}/{i}": np.asarray(v) for k, net in gaugan.networks().items() for i, v in enumerate(net.weights)}
    out.update({f"opt_{k}/{i}": np.asarray(v)
                for k, o in gaugan.optimizers().items() for i, v in enumerate(o.variables)})
    return out


def test_resume_continues_exactly_and_the_cli_translates_label_maps(tmp_path, capsys):
    def make():
        keras.utils.set_random_seed(0)
        g, d, e = _nets()
        gaugan = GauGAN(g, d, e, vgg=None, palette=LANDSCAPE_PALETTE, seed=0)
        gaugan.compile(run_eagerly=True)
        return gaugan

    straight = make()
    straight.fit(_pairs(), epochs=2, run_dir=tmp_path / "straight", verbose=0)

    class StopAt(keras.callbacks.Callback):  # interrupted in the middle of epoch 2
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = int(self.model.global_step.numpy()) >= 3

    first = make()
    first.fit(_pairs(), epochs=2, run_dir=tmp_path / "split", checkpoint_every=1, callbacks=[StopAt()], verbose=0)
    assert int(first.global_step.numpy()) == 3
    keras.utils.set_random_seed(1)  # other initial weights: the checkpoint must bring everything back
    g, d, e = _nets()
    resumed = GauGAN(g, d, e, vgg=None, palette=LANDSCAPE_PALETTE, seed=0)
    resumed.compile(run_eagerly=True)
    resumed.fit(_pairs(), epochs=2, run_dir=tmp_path / "split", verbose=0)
    assert int(resumed.global_step.numpy()) == 4
    a, b = _weights(straight), _weights(resumed)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)

    run = tmp_path / "split"
    config = json.loads((run / "config.json").read_text())
    assert config["trainer"] == "GauGAN" and config["kind"] == "translation"
    assert config["model"]["palette"] == LANDSCAPE_PALETTE.tolist() and config["model"]["vgg"] is None
    assert list(config["generators"]) == ["generator", "style_encoder"]   # the default export is the generator
    assert train.load_generator(run).name == "spade_generator"
    # the headless sketch path: class-id PNGs and colour-coded PNGs with the run's palette -> images
    labels = make_landscapes(2, SIZE, seed=5)[1]
    sketches = tmp_path / "sketches"
    (sketches / "colour").mkdir(parents=True)
    Image.fromarray(labels[0]).save(sketches / "ids.png")
    Image.fromarray(colorize(labels[1], LANDSCAPE_PALETTE)).save(sketches / "colour" / "painted.png")
    assert cli.main(["translate", str(run), "--input", str(sketches), "--out", str(tmp_path / "out")]) == 0
    for name in ("ids.png", "colour/painted.png"):
        assert Image.open(tmp_path / "out" / name).size == (SIZE, SIZE)
    Image.fromarray(np.full((SIZE, SIZE), 12, np.uint8)).save(sketches / "bad.png")
    capsys.readouterr()
    assert cli.main(["translate", str(run), "--input", str(sketches), "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert "bad.png" in err and "[12]" in err
    g_loaded = keras.models.load_model(run / "export" / "generator.keras")
    written = synthesize_folder(g_loaded, sketches / "colour", tmp_path / "out3", palette=LANDSCAPE_PALETTE)
    assert [p.name for p in written] == ["painted.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(written[0])),                 # same code (seed + index 0)
                                  np.asarray(Image.open(tmp_path / "out" / "colour" / "painted.png")))
