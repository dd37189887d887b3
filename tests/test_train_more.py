"""Training a finished run for more epochs continues from its checkpoint (issue 18): the optimizers' checkpoint
layout no longer depends on the epoch count, runs written before that still resume, and a checkpoint that cannot
fit the trainer is refused with a RunMismatchError before anything is written, not a TensorFlow error."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import cli, train
from kitlib.history import read_history
from kitlib.models.dcgan import build_dcgan
from kitlib.train import pix2pix
from kitlib.train.checkpoint import RunMismatchError
from kitlib.train.optimizers import FusedAdam
from kitlib.train.schedules import LinearDecay


def _files(run):
    return {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}


def _number_when_constant(lr, constant_steps, decay_steps):
    """What the trainers passed before issue 18: a plain learning rate when there is no decay phase."""
    return LinearDecay(lr, constant_steps, decay_steps) if decay_steps else lr


CYCLEGAN = ["train", "cyclegan", "--precision", "float32"]  # quick: 6 steps of batch 1 per epoch, 32 px


def test_cli_trains_a_finished_cyclegan_for_more_epochs(tmp_path, monkeypatch, capsys):
    """`train cyclegan --epochs 1` then `--epochs 2` on the same --out: epoch 1 of 1 has no decay phase, epoch 2 of
    2 decays (the learning-rate schedule follows the new total); the second command continues at step 6 and
    exports epoch 2. Runs of the previous code (a plain learning rate for one epoch) resuming: see below and
    test_resume_across_a_number_and_a_schedule_is_exact."""
    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run = tmp_path / "run"
    assert cli.main(CYCLEGAN + ["--epochs", "1", "--out", str(run)]) == 0
    assert json.loads((run / "kitlib_meta.json").read_text())["step"] == 6
    capsys.readouterr()
    assert cli.main(CYCLEGAN + ["--epochs", "2", "--out", str(run)]) == 0
    assert "Resuming from step 6 (epoch 2" in capsys.readouterr().out
    assert json.loads((run / "kitlib_meta.json").read_text())["exported_step"] == 12
    assert [row["step"] for row in read_history(run)] == [6, 12]
    assert (run / "export" / "generator_ab_epoch_0002.keras").is_file()
    assert json.loads((run / "config.json").read_text())["epochs"] == 2


def test_cli_resumes_a_pix2pix_run_of_the_previous_code_for_more_epochs(tmp_path, monkeypatch, capsys):
    """pix2pix's recipe has no decay phase, so before issue 18 its optimizers kept a plain learning rate; they now
    hold a constant LinearDecay and such a run still trains on."""
    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run = tmp_path / "run"
    argv = ["train", "pix2pix", "--data", "toy:paintings", "--limit", "6", "--image-size", "32", "--precision",
            "float32", "--out", str(run)]
    monkeypatch.setattr(pix2pix, "LinearDecay", _number_when_constant)
    assert cli.main(argv + ["--epochs", "1"]) == 0
    monkeypatch.setattr(pix2pix, "LinearDecay", LinearDecay)
    steps = json.loads((run / "kitlib_meta.json").read_text())["step"]
    capsys.readouterr()
    assert cli.main(argv + ["--epochs", "2"]) == 0
    assert f"Resuming from step {steps} (epoch 2" in capsys.readouterr().out
    assert [row["step"] for row in read_history(run)] == [steps, 2 * steps]
    assert json.loads((run / "kitlib_meta.json").read_text())["exported_step"] == 2 * steps


# -- the checkpointer, on a small DCGAN ------------------------------------------------------------------------------
def _batches():
    images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)


def _fit(run, epochs, rate=2e-4, loss_scale=False, **network):
    def optimizer():
        opt = FusedAdam(rate, beta_1=0.5)
        return keras.optimizers.LossScaleOptimizer(opt) if loss_scale else opt

    keras.utils.set_random_seed(0)  # the same initial weights in every call
    g, d = build_dcgan("radford", latent_dim=8, image_size=32, **{"filters": 8, **network})
    gan = train.GAN(g, d, loss="bce", seed=1)
    gan.compile(optimizer(), optimizer())
    gan.fit(_batches(), epochs=epochs, run_dir=run, verbose=0,
            run_info={"data": {"source": "toy:faces", "num_images": 16}, "batch_size": 8})
    return gan


def _state(gan):
    weights = [w for net in gan.networks().values() for w in net.weights]
    slots = [v for opt in gan.optimizers().values() for v in opt.variables if "learning_rate" not in v.path]
    return [np.asarray(v) for v in weights + slots + gan.state_variables()]


@pytest.mark.usefixtures("float32_runtime")
@pytest.mark.parametrize("loss_scale", [False, True], ids=["adam", "loss_scale_optimizer"])
@pytest.mark.parametrize("first, then", [(2e-4, LinearDecay(2e-4, 0, 0)), (LinearDecay(2e-4, 0, 0), 2e-4)],
                         ids=["number_then_schedule", "schedule_then_number"])
def test_resume_across_a_number_and_a_schedule_is_exact(tmp_path, first, then, loss_scale):
    """The same constant rate given as a number (a learning-rate variable in the checkpoint) for epoch 1 and as a
    schedule (none) for epoch 2, or the reverse: the Adam moments come back in their places, so the split run
    equals the straight one to the last bit."""
    straight = _fit(tmp_path / "straight", 2, rate=first, loss_scale=loss_scale)
    _fit(tmp_path / "split", 1, rate=first, loss_scale=loss_scale)
    resumed = _fit(tmp_path / "split", 2, rate=then, loss_scale=loss_scale)
    assert int(resumed.global_step.numpy()) == 4
    for expected, got in zip(_state(straight), _state(resumed), strict=True):
        np.testing.assert_array_equal(expected, got)


@pytest.mark.usefixtures("float32_runtime")
@pytest.mark.parametrize("saved, now, named", [
    ({"filters": 8}, {"filters": 16},
     "net_discriminator/down1_conv/kernel shape: saved (4, 4, 3, 8) vs now (4, 4, 3, 16)"),
    ({"norm": "layer"}, {"norm": "batch"}, "net_discriminator/down2_batchnorm/moving_mean: not in the checkpoint"),
    ({"norm": "batch"}, {"norm": "layer"}, "moving_mean: in the checkpoint, not in this network"),
], ids=["width", "layer_to_batch_norm", "batch_to_layer_norm"])
def test_a_checkpoint_that_cannot_fit_is_refused_before_anything_is_written(tmp_path, saved, now, named):
    """Network widths and norms are not part of a GAN's run_config; resuming with others names the variable and
    both shapes (or the missing variable) instead of failing inside TensorFlow, and leaves every file as it was."""
    run = tmp_path / "run"
    _fit(run, 1, **saved)
    before = _files(run)
    with pytest.raises(RunMismatchError, match="Nothing was changed") as err:
        _fit(run, 2, **now)
    assert named in str(err.value)
    assert _files(run) == before
