"""`python -m kitlib train MODEL --help` shows the registry's defaults (= the notebooks' parameters cells) for every
method and profile, and the recipes train with them."""

import ast
import re

import pytest

from kitlib import cli, methods, recipes
from kitlib.method import PROFILES, UNTIL_BUDGET_EPOCHS
from test_methods import NOTEBOOK_PARAMETERS, parameters_cell

def _use_profile(monkeypatch, profile):
    monkeypatch.setenv("KITLIB_PROFILE", profile)


def help_defaults(model: str, capsys) -> list[dict]:
    """The ``key = value`` blocks of ``train MODEL --help``, one per setup (the plain defaults first)."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", model, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    blocks = []
    for line in text.splitlines():
        if line.startswith("defaults for the "):
            blocks.append({})
        elif blocks and (match := re.match(r"^  (\w+) = (.*?)(  \(.*\))?$", line)):
            blocks[-1][match[1]] = ast.literal_eval(match[2])
    return blocks


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("model", recipes.trainable())
def test_train_help_shows_the_registry_and_notebook_defaults(model, profile, monkeypatch, capsys):
    _use_profile(monkeypatch, profile)
    method = methods.get(model)
    blocks = help_defaults(model, capsys)
    setups = [None, *method.setups]
    assert len(blocks) == len(setups), f"train {model} --help shows {len(blocks)} default blocks for {setups}"
    for setup, shown in zip(setups, blocks):
        assert shown == method.defaults(profile, setup), (model, profile, setup)
        key = model if setup is None else f"{model}/{setup}"
        if key in NOTEBOOK_PARAMETERS:
            notebook, _, names = NOTEBOOK_PARAMETERS[key]
            cell = parameters_cell(notebook, profile)
            differ = {nb: (cell[nb], shown[reg]) for nb, reg in names.items()
                      if cell[nb] != shown[reg]}
            assert not differ, f"train {model} --help vs {notebook} ({profile}): {differ}"


@pytest.mark.parametrize("model", recipes.trainable())
def test_no_recipe_keyword_default_overrides_the_registry(model):
    """`train` and the notebook train the same thing: a recipe leaves every registry key's default to the registry."""
    assert cli.train_defaults(model) == methods.get(model).defaults()


def test_train_refuses_a_loss_the_method_does_not_offer(tmp_path):
    with pytest.raises(SystemExit, match=r"train ddim --loss must be one of mae, mse. Received: --loss bce"):
        cli.main(["train", "ddim", "--out", str(tmp_path / "run"), "--loss", "bce"])
    assert not (tmp_path / "run").exists()


class _Captured(Exception):
    pass


@pytest.mark.parametrize("model", ["dcgan", "ddim", "palette", "cyclegan", "pix2pix", "gaugan"])
def test_recipes_train_with_the_registry_defaults(model, monkeypatch, tmp_path):
    """Each recipe, left to its defaults in the quick profile, fits with the registry's epochs, batch and size."""
    _use_profile(monkeypatch, "quick")
    seen = {}

    def fake_fit(trainer, batches, *, callbacks, **kwargs):
        seen.update(kwargs)
        raise _Captured

    monkeypatch.setattr(recipes, "_fit", fake_fit)
    with pytest.raises(_Captured):
        recipes.train(model, out=str(tmp_path / "run"), precision="float32")
    d = methods.get(model).defaults("quick")
    assert seen["epochs"] == d["epochs"]
    assert seen["run_info"]["image_size"] == d["image_size"] and seen["run_info"]["batch_size"] == d["batch_size"]
    if model == "cyclegan":
        assert seen["steps_per_epoch"] == d["steps_per_epoch"]


def test_a_time_budget_without_epochs_trains_until_the_budget(monkeypatch):
    _use_profile(monkeypatch, "quick")
    assert recipes._budget_epochs(None, 5.0, "cyclegan") == UNTIL_BUDGET_EPOCHS == 100_000
    assert recipes._budget_epochs(None, None, "cyclegan", "pixel_art") == 2
    assert recipes._budget_epochs(7, 5.0, "dcgan") == 7


def test_recipes_read_data_through_the_methods_parser(monkeypatch, tmp_path):
    """dcgan/ddim load ``--data`` with ``Method.data`` (``load_images``): every toy family it knows works."""
    _use_profile(monkeypatch, "quick")
    seen = {}

    def fake_fit(trainer, batches, *, callbacks, **kwargs):
        seen.update(kwargs)
        raise _Captured

    monkeypatch.setattr(recipes, "_fit", fake_fit)
    for model in ("dcgan", "ddim"):
        with pytest.raises(_Captured):
            recipes.train(model, data="toy:landscapes", limit=8, batch_size=4, out=str(tmp_path / model), precision="float32")
        assert seen["run_info"]["data"]["source"] == "toy:landscapes"
        assert methods.get(model).default_data == "toy:faces"
