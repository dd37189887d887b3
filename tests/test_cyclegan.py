"""CycleGAN trainer: variant builder, every weight trains, exact mid-run resume with LinearDecay + pool, unpaired
streams, the held-out monitor, sample grids, and the headless train/translate commands."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib.data import prepare
from kitlib.models.patchgan import patchgan_discriminator
from kitlib.models.resnet import resnet_generator
from kitlib.train.callbacks import LossHistory, read_history
from kitlib.train.cyclegan import (CYCLEGAN_DISCRIMINATORS, CYCLEGAN_GENERATORS, CycleGAN, CycleGANMonitor,
                                   build_cyclegan)
from kitlib.data.domains import unpaired
from kitlib.train.schedules import LinearDecay


pytestmark = pytest.mark.usefixtures("float32_runtime")


def _uint8(n, size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _stream(n_a=6, n_b=3, batch=1, size=32):
    a = prepare(tf.data.Dataset.from_tensor_slices(_uint8(n_a, size, 1)), batch, seed=0)
    b = prepare(tf.data.Dataset.from_tensor_slices(_uint8(n_b, size, 2)), batch, seed=1)
    return unpaired(a, b)


@pytest.mark.parametrize("generator,size,bottleneck", [
    ("resnet_9blocks", 32, None), ("resnet_6blocks", 32, None), ("unet_256", 256, 1), ("unet_128", 128, 1),
    ("seed_unet", 32, 1),
])
def test_build_cyclegan_generators(generator, size, bottleneck):
    gan = build_cyclegan(generator, "patchgan_70", image_size=size, filters=2)
    for net in (gan.generator_ab, gan.generator_ba):
        assert net.output_shape == (None, size, size, 3)
        assert net.layers[-1].dtype_policy.name == "float32"  # tanh output stays float32 under mixed precision
    assert gan.generator_ab.name == "generator_ab" and gan.discriminator_b.name == "discriminator_b"
    if generator.startswith("resnet"):
        blocks = int(generator.split("_")[1][0])
        assert sum(layer.name.endswith("_add") for layer in gan.generator_ab.layers) == blocks
    else:
        deepest = max(int(layer.name[4:-5]) for layer in gan.generator_ab.layers if layer.name.startswith("down")
                      and layer.name.endswith("_conv"))
        assert deepest == int(math.log2(size)) if generator == "seed_unet" else deepest in (7, 8)
        assert gan.generator_ab.get_layer(f"down{deepest}_conv").output.shape[1:3] == (bottleneck, bottleneck)
    assert gan.run_config()["architecture"]["generator"] == generator


@pytest.mark.parametrize("discriminator,logits", [("patchgan_70", 2), ("seed_patchgan", 2), ("patchgan_16", 14),
                                                  ("pixelgan", 32)])
def test_build_cyclegan_discriminators(discriminator, logits):
    gan = build_cyclegan("resnet_6blocks", discriminator, image_size=32, filters=2)
    assert gan.discriminator_a.output_shape == (None, logits, logits, 1)
    assert set(CYCLEGAN_DISCRIMINATORS) >= {"patchgan_70", "seed_patchgan"}


def test_build_cyclegan_rejects_bad_names_and_sizes():
    with pytest.raises(ValueError, match="generator must be one of"):
        build_cyclegan("resnet_12blocks")
    with pytest.raises(ValueError, match="discriminator must be one of"):
        build_cyclegan("resnet_6blocks", "patchgan_99")
    with pytest.raises(ValueError, match="divisible by 256"):
        build_cyclegan("unet_256", image_size=64, filters=2)
    assert set(CYCLEGAN_GENERATORS) == {"resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128", "seed_unet"}


def _snapshot(gan):
    return {(k, v.path): np.asarray(v).copy() for k, net in gan.networks().items() for v in net.trainable_weights}


def test_one_step_trains_every_weight_of_all_four_networks_and_logs_monitor(tmp_path):
    gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=4, pool_size=4)
    gan.compile(run_eagerly=True)
    held_a, held_b = _uint8(2, seed=5), _uint8(2, seed=6)
    before = _snapshot(gan)
    history = gan.fit(_stream(n_a=2, n_b=2, batch=2), epochs=1, run_dir=tmp_path, verbose=0,
                      callbacks=[CycleGANMonitor(held_a, held_b, pixel_grid="ab"), LossHistory(tmp_path)])
    after = _snapshot(gan)
    assert {k for k, _ in before} == {"generator_ab", "generator_ba", "discriminator_a", "discriminator_b"}
    unchanged = [k for k in before if np.array_equal(before[k], after[k])]
    assert not unchanged, f"weights that did not train: {unchanged}"
    logs = history.history
    expected = {"g_loss", "d_a_loss", "d_b_loss", "adv_ab", "adv_ba", "cycle_a", "cycle_b", "identity",
                "val_cycle_a", "val_cycle_b", "val_d_a_loss", "val_d_b_loss", "val_pixel_grid"}
    assert set(logs) == expected
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    assert 0.0 <= logs["val_pixel_grid"][0] <= 1.0
    row = read_history(tmp_path)[0]
    assert row["step"] == 1 and "val_cycle_a" in row and "val_pixel_grid" in row
    assert int(gan.pool_a.count.numpy()) == 2  # the two fakes of the batch went into the pool


def test_stacked_passes_equal_separate_passes():
    """Instance-norm networks see each sample on their own, so the trainer stacks the identity and translation
    inputs (and real + fake for each D) into one call; the step must equal the one with separate calls."""
    gans = []
    for stacked in (True, False):
        keras.utils.set_random_seed(3)
        gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=4, pool_size=0)
        assert gan.stack_generators and gan.stack_discriminators
        gan.stack_generators = gan.stack_discriminators = stacked
        gan.compile()
        gan.fit(_stream(n_a=2, n_b=2, batch=2), epochs=1, verbose=0)
        gans.append(gan)
    stacked, separate = (_snapshot(g) for g in gans)
    for key in stacked:
        np.testing.assert_allclose(stacked[key], separate[key], rtol=1e-4, atol=1e-6, err_msg=str(key))
    batch_norm = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=4, norm="batch")
    assert not batch_norm.stack_generators and not batch_norm.stack_discriminators


def test_seed_unet_bottleneck_never_trains():
    """The seed's U-Net normalises its 1x1 bottleneck: instance norm of one value is 0, so the innermost conv and the
    first decoder block receive no gradient. Everything else trains."""
    gan = build_cyclegan("seed_unet", "seed_patchgan", image_size=32, filters=4, loss="bce")
    gan.compile(run_eagerly=True)
    before = _snapshot(gan)
    gan.fit(_stream(n_a=2, n_b=2, batch=2), epochs=1, verbose=0)
    after = _snapshot(gan)
    unchanged = {k for k in before if np.array_equal(before[k], after[k])}
    dead = {"down5_conv/kernel", "down5_norm/gamma", "down5_norm/beta", "up1_conv/kernel", "up1_norm/gamma",
            "up1_norm/beta"}
    assert unchanged == {(g, w) for g in ("generator_ab", "generator_ba") for w in dead}


def _make_resumable():
    keras.utils.set_random_seed(0)  # same initial weights for the straight and the interrupted run
    shape = (32, 32, 3)
    gan = CycleGAN(resnet_generator(shape, num_blocks=1, filters=4, name="g_ab"),
                   resnet_generator(shape, num_blocks=1, filters=4, name="g_ba"),
                   patchgan_discriminator(shape, n_layers=1, filters=4, name="d_a"),
                   patchgan_discriminator(shape, n_layers=1, filters=4, name="d_b"), pool_size=2, seed=3)
    gan.compile(constant_steps=1, decay_steps=4, run_eagerly=True)
    return gan


def _state(gan):
    out = _snapshot(gan)
    out.update({(f"opt_{k}", i): np.asarray(v).copy() for k, o in gan.optimizers().items()
                for i, v in enumerate(o.variables)})
    out.update({("state", str(i)): np.asarray(v).copy() for i, v in enumerate(gan.state_variables())})
    return out


def test_midrun_restore_with_linear_decay_and_pool_is_exact(tmp_path):
    """3 steps straight == 2 steps, a fresh trainer restored from the run directory, 1 more step (mid-epoch)."""
    straight = _make_resumable()
    straight.fit(_stream(), epochs=1, steps_per_epoch=3, run_dir=tmp_path / "straight", verbose=0)

    class StopAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.global_step.numpy()) == 2:
                self.model.stop_training = True

    first = _make_resumable()
    first.fit(_stream(), epochs=1, steps_per_epoch=3, run_dir=tmp_path / "split", checkpoint_every=1, verbose=0,
              callbacks=[StopAt()])
    assert int(first.global_step.numpy()) == 2
    resumed = _make_resumable()
    resumed.fit(_stream(), epochs=1, steps_per_epoch=3, run_dir=tmp_path / "split", verbose=0)

    assert int(resumed.global_step.numpy()) == 3
    assert int(resumed.pool_a.count.numpy()) == 2  # the pool came back full, so step 3 drew from its history
    lr = resumed.optimizers()["generator_ab"].learning_rate
    assert isinstance(resumed.optimizers()["generator_ab"]._learning_rate, LinearDecay)
    np.testing.assert_allclose(float(lr), 2e-4 * (1 - (3 - 1) / 4), rtol=1e-6)
    a, b = _state(straight), _state(resumed)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=str(key))


def test_unpaired_repeats_the_smaller_domain():
    data = _stream(n_a=6, n_b=2, batch=2)
    assert data.steps_per_epoch == 3
    batches = list(data.take(6).as_numpy_iterator())
    assert all(a.shape == (2, 32, 32, 3) and b.shape == (2, 32, 32, 3) for a, b in batches)
    assert all(-1.0 <= a.min() and a.max() <= 1.0 for a, _ in batches)
    b_images = {x.tobytes() for _, b in batches for x in b}
    assert len(b_images) == 2  # 12 domain-B images drawn from its 2 images
    with pytest.raises(ValueError, match="same batch size"):
        four = tf.data.Dataset.from_tensor_slices(_uint8(4))
        unpaired(prepare(four, 2), prepare(four, 1))


def _identity_cyclegan(size=32):
    def identity(name):
        inputs = keras.Input((size, size, 3))
        return keras.Model(inputs, keras.layers.Identity()(inputs), name=name)

    def zero_critic(name):  # logits 0 everywhere: BCE real and fake terms are both log 2
        inputs = keras.Input((size, size, 3))
        return keras.Model(inputs, keras.layers.Lambda(lambda x: keras.ops.zeros_like(x[..., :1]))(inputs), name=name)

    return CycleGAN(identity("gab"), identity("gba"), zero_critic("da"), zero_critic("db"), loss="bce")


def test_monitor_values_by_hand():
    gan = _identity_cyclegan()
    blocky = np.repeat(np.repeat(_uint8(2, 8), 4, axis=1), 4, axis=2)  # 4x4 cells: perfect pixel art
    monitor = CycleGANMonitor(_uint8(2), blocky, pixel_grid="ba")
    values = monitor.measure(gan)
    assert values["val_cycle_a"] == 0.0 and values["val_cycle_b"] == 0.0  # identity generators reconstruct exactly
    np.testing.assert_allclose(values["val_d_a_loss"], 0.5 * 2 * math.log(2), rtol=1e-6)
    assert values["val_pixel_grid"] == pytest.approx(1.0)  # B->A of blocky images (identity) is blocky
    assert monitor.pixel_grid_input == pytest.approx(1.0)
    with pytest.raises(ValueError, match="pixel_grid must be"):
        CycleGANMonitor(_uint8(1), _uint8(1), pixel_grid="xy")


@pytest.mark.parametrize("cycle,columns", [(False, 4), (True, 6)])
def test_sample_images_rows(cycle, columns):
    gan = _identity_cyclegan()
    a, b = _uint8(3, seed=1), _uint8(3, seed=2)
    gan.set_sample_inputs(a, b, cycle=cycle)
    grid = np.asarray(gan.sample_images())
    assert grid.shape == (3 * columns, 32, 32, 3)
    np.testing.assert_allclose(grid[0], a[0] / 127.5 - 1, atol=1e-6)  # row 0 starts with A[0]
    np.testing.assert_allclose(grid[columns], a[1] / 127.5 - 1, atol=1e-6)  # row 1 starts with A[1]
    np.testing.assert_allclose(grid[3 if cycle else 2], b[0] / 127.5 - 1, atol=1e-6)


def test_headless_train_then_translate_every_image(tmp_path, monkeypatch):
    from PIL import Image

    from kitlib import cli
    from kitlib.data import toy

    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run = tmp_path / "run"
    assert cli.main(["train", "cyclegan", "--data", "toy:drawings,pixel_art", "--out", str(run), "--epochs", "1",
                     "--precision", "float32"]) == 0
    config = read_history(run)[0]
    assert config["step"] == 8 and 0.0 <= config["val_pixel_grid"] <= 1.0  # quick: 8 toy images, batch 1
    inputs = toy.write_folder("drawings", tmp_path / "in" / "nested", 3, image_size=48)
    assert cli.main(["translate", str(run), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                     "--keep-size"]) == 0
    outputs = sorted((tmp_path / "out" / "nested").glob("*.png"))
    assert [p.stem for p in outputs] == [p.stem for p in inputs]  # every image, same relative names
    with Image.open(outputs[0]) as img:
        assert img.size == (48, 48) and img.mode == "RGB"


def test_load_unpaired_reads_every_supported_layout(tmp_path):
    from PIL import Image

    from kitlib.data import write_tfrecords
    from kitlib.data.domains import load_unpaired

    rng = np.random.default_rng(0)
    kaggle = tmp_path / "gan-getting-started"  # the competition layout, written as fixture TFRecords
    write_tfrecords(rng.integers(0, 256, (3, 40, 40, 3), dtype=np.uint8), kaggle / "monet_tfrec" / "monet")
    write_tfrecords(rng.integers(0, 256, (5, 40, 40, 3), dtype=np.uint8), kaggle / "photo_tfrec" / "photo",
                    target="photo", shards=2)
    photos, monets, info = load_unpaired(str(kaggle), image_size=32)
    assert (int(photos.cardinality()), int(monets.cardinality())) == (5, 3) and info["a"] == "photo"
    assert next(iter(photos)).shape == (32, 32, 3)

    def write(folder, n):
        folder.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(_uint8(1, 40, i)[0]).save(folder / f"{i}.png")

    write(tmp_path / "junyanz" / "trainA", 2)
    write(tmp_path / "junyanz" / "trainB", 4)
    a, b, info = load_unpaired(str(tmp_path / "junyanz"), image_size=32)
    assert (int(a.cardinality()), int(b.cardinality()), info["source"]) == (2, 4, "junyanz")

    write(tmp_path / "drawings", 3)
    for cell, n in (("2", 1), ("cell_4", 2), ("5x5", 3)):  # Pixelization layout: one folder per cell size
        write(tmp_path / "pixel" / cell, n)
    spec = f"{tmp_path / 'drawings'},{tmp_path / 'pixel'}"
    a, b, info = load_unpaired(spec, image_size=32, min_cell=4)
    assert (int(a.cardinality()), int(b.cardinality())) == (3, 5) and info["b"]["cell_folders"] == ["5x5", "cell_4"]
    assert int(load_unpaired(spec, image_size=32)[1].cardinality()) == 6  # no filter: every image
    with pytest.raises(ValueError, match="min_cell=9 needs sub-folders"):
        load_unpaired(spec, image_size=32, min_cell=9)

    a, b, info = load_unpaired("toy:drawings,pixel_art", image_size=32, num_toy=6, min_cell=4)
    assert info["source"] == "toy:drawings,pixel_art" and int(b.cardinality()) == 6
    with pytest.raises(ValueError, match="Toy domains must be two of"):
        load_unpaired("toy:drawings", image_size=32)
