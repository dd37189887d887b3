"""Recipe options used by the real-data runs (assets/real_data/): DCGAN width / DiffAugment / learning rate, and
pix2pix inpainting on a folder with train/ and heldout/ (the layout of data/fetch_real_data.py)."""

import json

import numpy as np
from PIL import Image

from kitlib import recipes
from kitlib.train.checkpoint import load_generator

TINY = dict(epochs=1, batch_size=8, image_size=32, precision="float32", seed=0)


def _photos(folder, n, seed):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_dcgan_width_diffaugment_and_learning_rate_reach_the_run(tmp_path):
    run = recipes.train("dcgan", out=tmp_path / "run", data="toy:faces", limit=16, variant="radford", filters=4,
                        diff_augment="translation", lr=1e-3, **TINY)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["diff_augment"] == "translation"
    assert (config["variant"], config["filters"], config["lr"]) == ("radford", 4, 1e-3)
    widths = [layer.filters for layer in load_generator(run).layers if hasattr(layer, "filters")]
    assert widths[-2:] == [4, 3]  # the last hidden block has `filters` channels, then RGB


def test_inpainting_holds_out_the_heldout_folder(tmp_path):
    _photos(tmp_path / "photos" / "train", 16, seed=0)
    _photos(tmp_path / "photos" / "heldout", 3, seed=1)
    run = recipes.train("pix2pix", out=tmp_path / "run", data=f"inpaint:{tmp_path / 'photos'}", loss="l1", filters=4,
                        **TINY)
    assert (run / "metrics.md").read_text().startswith("Held-out 3 images")
    info = json.loads((run / "config.json").read_text())["data"]
    assert info["held_out"] == 3 and info["num_images"] == 19


def test_train_dcgan_defaults_to_the_32_filter_radford_dcgan_and_keeps_the_report_network(tmp_path):
    from kitlib import cli

    args = ["--data", "toy:faces", "--limit", "16", "--batch-size", "8", "--image-size", "32", "--epochs", "1",
            "--precision", "float32"]
    assert cli.main(["train", "dcgan", "--out", str(tmp_path / "default"), *args]) == 0
    config = json.loads((tmp_path / "default" / "config.json").read_text())
    assert (config["variant"], config["filters"]) == ("radford", 32)
    assert cli.main(["train", "dcgan", "--out", str(tmp_path / "report"), "--variant", "seed", *args]) == 0
    assert json.loads((tmp_path / "report" / "config.json").read_text())["variant"] == "seed"
    assert load_generator(tmp_path / "report").name == "report_generator"


def test_variant_is_refused_where_the_model_has_one_network(tmp_path):
    import pytest

    from kitlib import cli

    with pytest.raises(SystemExit, match="train pix2pix has no --variant option"):
        cli.main(["train", "pix2pix", "--out", str(tmp_path / "run"), "--variant", "seed"])


def test_inpainting_photos_default_to_the_recipe_that_beat_biharmonic(tmp_path):
    _photos(tmp_path / "photos" / "train", 16, seed=0)
    _photos(tmp_path / "photos" / "heldout", 2, seed=1)
    run = recipes.train("pix2pix", out=tmp_path / "run", data=f"inpaint:{tmp_path / 'photos'}", epochs=1,
                        image_size=32, precision="float32")
    config = json.loads((run / "config.json").read_text())
    assert (config["model"]["loss"], config["test_mode"], config["batch_size"]) == ("l1", "eval", 8)
    toy = recipes.train("pix2pix", out=tmp_path / "toy", data="toy:landscapes", limit=16, epochs=1, image_size=32,
                        precision="float32")
    config = json.loads((toy / "config.json").read_text())
    assert (config["model"]["loss"], config["test_mode"], config["batch_size"]) == ("l1+cgan", "paper", 1)
