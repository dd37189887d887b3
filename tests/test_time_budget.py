"""`train ... --minutes N` / `recipes.train(..., minutes=N)`: stop at the budget with a checkpoint, exports and
history, then resume exactly where the budget stopped."""

import json

import numpy as np
import pytest

from kitlib import cli, recipes
import kitlib.train.budget as train_budget
from kitlib.train.callbacks import TimeBudget
from kitlib.train.checkpoint import META_FILE, load_generator

TINY = dict(data="toy:faces", limit=32, batch_size=16, image_size=32, precision="float32", seed=0)


def _step(run_dir) -> int:
    return int(json.loads((run_dir / META_FILE).read_text())["step"])


def test_budget_stops_after_the_batch_that_crosses_it(tmp_path):
    from kitlib import data, runtime, train
    from kitlib.models.dcgan import build_dcgan

    runtime.setup(seed=0, precision="float32")
    batches = data.prepare(data.toy.faces(64, image_size=32, seed=0), 16, seed=0)  # 4 steps per epoch
    gan = train.GAN(*build_dcgan("radford", image_size=32, filters=4), seed=0)
    gan.compile()
    budget = TimeBudget(1)
    ticks = iter(range(1000))
    budget._clock = lambda: float(next(ticks))  # one "second" per clock reading: one reading per batch
    budget.deadline = 6.0
    gan.fit(batches, epochs=5, run_dir=tmp_path, callbacks=[budget], verbose=0)
    assert budget.stopped_at_step == 7 == _step(tmp_path)  # readings 0..6 at the ends of steps 1..7
    assert (tmp_path / "export" / "generator.keras").exists()


def test_minutes_must_be_positive_or_none():
    with pytest.raises(ValueError, match="minutes must be > 0, or None for no limit. Received: minutes=0"):
        TimeBudget(0)
    unlimited = TimeBudget(None)  # a notebook's MINUTES = None: the callback never stops training
    unlimited._clock = lambda: 1e12
    assert not unlimited.expired and unlimited.minutes is None


def test_cli_minutes_stops_then_a_later_run_resumes_exactly(tmp_path, capsys):
    budget_run, straight = tmp_path / "budget", tmp_path / "straight"
    args = ["--limit", "32", "--batch-size", "16", "--image-size", "32", "--precision", "float32"]
    # a budget shorter than one step: the run stops after its first step (of 2 per epoch), checkpointed and exported
    assert cli.main(["train", "dcgan", "--out", str(budget_run), "--minutes", "0.0001", *args]) == 0
    assert _step(budget_run) == 1
    assert "TimeBudget: 0.0001 min used; stopping at step 1" in capsys.readouterr().out
    assert (budget_run / "export" / "generator.keras").exists() and (budget_run / "history.csv").exists()
    # with more epochs (no budget) it continues from step 1, and ends where an uninterrupted run ends
    recipes.train("dcgan", out=budget_run, epochs=1, **TINY)
    assert "Resuming from step 1" in capsys.readouterr().out
    recipes.train("dcgan", out=straight, epochs=1, **TINY)
    assert _step(budget_run) == _step(straight) == 2
    for a, b in zip(load_generator(budget_run).get_weights(), load_generator(straight).get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_python_api_minutes_without_epochs_trains_until_the_budget(tmp_path, capsys):
    run = recipes.train("dcgan", out=tmp_path / "run", minutes=0.0001, **TINY)
    assert _step(run) == 1  # no epoch count: the budget ended the run
    assert "Epoch 1/100000" in capsys.readouterr().out


CYCLEGAN = ["train", "cyclegan", "--precision", "float32"]  # quick: 6 steps of batch 1 per epoch, 32 px


def test_cyclegan_budget_plans_its_decay_and_resumes_it_exactly(tmp_path, monkeypatch, capsys):
    """`train cyclegan --minutes N` without --epochs trains for N minutes (issue 25, item 6): at a constant learning
    rate it measures its epochs until it has done half of those that fit (here fixed at 3, so the test does not
    depend on this machine's speed: 2 done, the constant half of 3), then the linear decay is compiled for them
    (junyanz: constant for the first half), the plan is saved; the run equals one started with --epochs 3, and the
    same command again keeps the plan (the run is complete)."""
    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    planned = []
    monkeypatch.setattr(train_budget, "plan_epochs", lambda *args: planned.append(args) or 3)
    budget_run, straight = tmp_path / "budget", tmp_path / "straight"
    assert cli.main(CYCLEGAN + ["--minutes", "10", "--out", str(budget_run)]) == 0
    out = capsys.readouterr().out
    epochs_done, seconds_per_epoch, seconds_left, restart = planned[0]
    assert epochs_done == 2 and 0 < seconds_per_epoch and 0 < restart and seconds_left < 600
    config = json.loads((budget_run / "config.json").read_text())
    assert config["epochs"] == 3 and config["budget_plan"]["epochs"] == 3 and config["budget_plan"]["minutes"] == 10
    assert "so 3 epochs of 6 steps fit in 10 min" in out and "Continuing from epoch 2's checkpoint" in out
    assert _step(budget_run) == 18
    assert cli.main(CYCLEGAN + ["--epochs", "3", "--out", str(straight)]) == 0
    for name in ("generator_ab", "generator_ba"):
        for a, b in zip(load_generator(budget_run, name=name).get_weights(),
                        load_generator(straight, name=name).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    capsys.readouterr()
    assert cli.main(CYCLEGAN + ["--minutes", "10", "--out", str(budget_run)]) == 0
    assert "Run already complete: step 18 of 18 (3 epochs)" in capsys.readouterr().out
    assert len(planned) == 1
    assert json.loads((budget_run / "config.json").read_text())["budget_plan"] == config["budget_plan"]


def test_cyclegan_trains_on_windows_of_larger_images_and_translates_them_whole(tmp_path, monkeypatch):
    """``load_size``: the images are read at 64 px, the networks train on random 32-px windows (brush strokes keep
    their scale), and the generators rebuilt fully convolutional translate the whole 64-px images."""
    from PIL import Image

    from kitlib.train.checkpoint import read_run_config
    from kitlib.train.cyclegan import build_generator
    from kitlib.infer.cyclegan import translate_unpaired

    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    run = recipes.train_cyclegan(out=tmp_path / "run", image_size=32, load_size=64, epochs=1, precision="float32")
    config = read_run_config(run)
    assert config["load_size"] == 64 and config["image_size"] == 32
    trained = load_generator(run, name="generator_ba")
    assert trained.input_shape == (None, 32, 32, 3)
    whole = build_generator(config["model"]["architecture"], "generator_ba", image_size=None)
    whole.set_weights(trained.get_weights())
    assert translate_unpaired(whole, np.zeros((2, 64, 64, 3), "uint8")).shape == (2, 64, 64, 3)
    with pytest.raises(ValueError, match="load_size must be >= image_size"):
        recipes.train_cyclegan(out=tmp_path / "bad", image_size=32, load_size=16, epochs=1)
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    Image.fromarray(np.zeros((80, 80, 3), "uint8")).save(inputs / "a.png")
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(outputs)]) == 0
    with Image.open(outputs / "a.png") as image:  # whole images at the load size, not 32-px thumbnails
        assert image.size == (64, 64)


NOTEBOOK_EPOCHS = 1  # a notebook's EPOCHS for the quick profile


def test_a_notebook_budget_trains_past_epochs_until_the_budget(tmp_path):
    """A notebook's ``MINUTES = N`` (issue 25, item 6): ``fit(epochs=train.budget_epochs(EPOCHS, MINUTES), ...)``
    trains for the budget, not for the profile's EPOCHS; MINUTES = None trains EPOCHS."""
    from kitlib import data, runtime, train
    from kitlib.models.dcgan import build_dcgan

    runtime.setup(seed=0, precision="float32")
    batches = data.prepare(data.toy.faces(64, image_size=32, seed=0), 16, seed=0)  # 4 steps per epoch
    gan = train.GAN(*build_dcgan("radford", image_size=32, filters=4), seed=0)
    gan.compile()
    assert train.budget_epochs(NOTEBOOK_EPOCHS, None) == NOTEBOOK_EPOCHS
    budget = TimeBudget(5)
    ticks = iter(range(1000))
    budget._clock = lambda: float(next(ticks))  # one "second" per batch: the budget ends after the 10th step
    budget.deadline = 9.0
    gan.fit(batches, epochs=train.budget_epochs(NOTEBOOK_EPOCHS, 5), run_dir=tmp_path, callbacks=[budget], verbose=0)
    assert budget.stopped_at_step == 10 == _step(tmp_path) > NOTEBOOK_EPOCHS * batches.steps_per_epoch


def _tiny_cyclegan():
    import tensorflow as tf

    from kitlib import data, runtime
    from kitlib.train import build_cyclegan, unpaired

    runtime.setup(seed=0, precision="float32")
    images = [np.random.default_rng(k).integers(0, 256, (4, 32, 32, 3), dtype="uint8") for k in (1, 2)]
    batches = unpaired(*(data.prepare(tf.data.Dataset.from_tensor_slices(x), 2, seed=k) for k, x in enumerate(images)))
    gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=2, pool_size=0, seed=0)

    def compile_for(epochs):  # as notebook 02: constant for the first half of the epochs, then linearly to 0
        gan.compile(constant_steps=(epochs - epochs // 2) * 2, decay_steps=(epochs // 2) * 2)

    return gan, batches, compile_for


def _schedule(gan):
    schedule = gan.optimizers()["generator_ab"]._learning_rate
    return schedule.constant_steps, schedule.decay_steps


def test_fit_for_budget_plans_the_decay_from_the_budget(tmp_path, monkeypatch, capsys):
    """Notebook 02 with MINUTES: ``train.fit_for_budget`` trains past EPOCHS at a constant rate until the epochs done
    are half of those that fit (here fixed at 3: 2 done), then compiles the decay for them and finishes the plan; the
    plan is kept in config.json, and the same cell again keeps it."""
    from kitlib import train

    planned = []
    monkeypatch.setattr(train_budget, "plan_epochs", lambda *args: planned.append(args) or 3)
    gan, batches, compile_for = _tiny_cyclegan()
    epochs = train.budget_epochs(NOTEBOOK_EPOCHS, 10)
    train.fit_for_budget(gan, batches, epochs=epochs, compile_for=compile_for, run_dir=tmp_path,
                         callbacks=[TimeBudget(10)], verbose=0)
    assert [args[0] for args in planned] == [2]  # planned once, after 2 epochs (the first one is not timed)
    assert "so 3 epochs of 2 steps fit in 10 min" in capsys.readouterr().out
    assert _step(tmp_path) == 6 and _schedule(gan) == (4, 2)  # 2 epochs constant, 1 decaying to 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["epochs"] == 3 and config["budget_plan"]["epochs"] == 3 and config["budget_plan"]["minutes"] == 10
    gan, batches, compile_for = _tiny_cyclegan()  # the notebook run again: the run keeps its plan
    train.fit_for_budget(gan, batches, epochs=epochs, compile_for=compile_for, run_dir=tmp_path,
                         callbacks=[TimeBudget(10)], verbose=0)
    assert "Run already complete: step 6 of 6 (3 epochs)" in capsys.readouterr().out
    assert len(planned) == 1 and _schedule(gan) == (4, 2)


def test_fit_for_budget_without_a_budget_trains_its_epochs(tmp_path):
    from kitlib import train

    gan, batches, compile_for = _tiny_cyclegan()
    train.fit_for_budget(gan, batches, epochs=train.budget_epochs(2, None), compile_for=compile_for,
                         run_dir=tmp_path / "run", callbacks=[TimeBudget(None)], verbose=0)
    assert _step(tmp_path / "run") == 4 and _schedule(gan) == (2, 2)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["epochs"] == 2
    with pytest.raises(ValueError, match="pass train.TimeBudget"):
        train.fit_for_budget(gan, batches, epochs=train.budget_epochs(2, 5), compile_for=compile_for,
                             run_dir=tmp_path / "other", callbacks=[], verbose=0)
