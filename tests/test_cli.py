"""`python -m kitlib`: info, train -> generate on a run directory, error messages, the demo gallery writer."""

import errno
import json
import shutil
import subprocess
import sys

import keras
import nbformat
import numpy as np
import pytest
from PIL import Image

from kitlib import cli, demo


def test_info_prints_the_runtime_report(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "profile" in out and "keras" in out


TRAIN = ["train", "dcgan", "--epochs", "1", "--limit", "32", "--batch-size", "16", "--image-size", "32",
         "--precision", "float32", "--loss", "lsgan"]


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    """One quick DCGAN run trained through the CLI (copy it before changing it)."""
    run = tmp_path_factory.mktemp("dcgan") / "run"
    assert cli.main(TRAIN + ["--out", str(run)]) == 0
    return run


def test_train_then_generate_writes_every_image(dcgan_run, tmp_path, capsys):
    run = dcgan_run
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "unconditional" and config["data"]["source"] == "toy:faces"
    assert config["model"]["loss"] == "lsgan"
    out = tmp_path / "gen"
    assert cli.main(["generate", str(run), "--n", "5", "--out", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 5
    with Image.open(files[0]) as img:
        assert img.size == (32, 32) and img.mode == "RGB"
    # an unconditional run cannot translate, and the message says what to do instead
    assert cli.main(["translate", str(run), "--input", str(out), "--out", str(tmp_path / "t")]) == 2
    assert "use `python -m kitlib generate" in capsys.readouterr().err


def test_train_loss_is_refused_where_the_recipe_fixes_it(tmp_path):
    with pytest.raises(SystemExit, match="train gaugan has no --loss option"):
        cli.main(["train", "gaugan", "--out", str(tmp_path / "run"), "--loss", "bce"])
    assert not (tmp_path / "run").exists()


def test_generate_from_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["generate", str(tmp_path / "missing"), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "kitlib", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "generate" in result.stdout and "translate" in result.stdout


def test_gallery_collects_notebook_images(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
    nb.cells = [cell]
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, path)
    images = demo.extract_images(path, tmp_path / "00_x")
    assert len(images) == 1 and images[0].read_bytes()[:4] == b"\x89PNG"
    index = demo.write_gallery(tmp_path, [{"name": "00_x", "status": "ok", "seconds": 1.0, "notebook": "00_x.ipynb",
                                           "images": ["00_x/figure_01.png"]}])
    assert "00_x/figure_01.png" in index.read_text()


def test_demo_lists_numbered_notebooks_only(tmp_path):
    for name in ("00_a.ipynb", "01_b.ipynb", "scratch.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in demo.find_notebooks(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]
    with pytest.raises(ValueError, match="--only 99 matches none of the numbered notebooks"):
        demo.run_demo(notebooks=tmp_path, out=tmp_path / "out", only=["99"])


# -- numeric options: None is the default, nothing else is -----------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["train", "dcgan", "--out", "r", "--epochs", "0"], ["train", "dcgan", "--out", "r", "--epochs", "-2"],
    ["train", "dcgan", "--out", "r", "--image-size", "0"], ["train", "dcgan", "--out", "r", "--batch-size", "0"],
    ["train", "dcgan", "--out", "r", "--limit", "0"], ["generate", "r", "--out", "o", "--batch-size", "-2"],
    ["generate", "r", "--out", "o", "--n", "0"], ["generate", "r", "--out", "o", "--steps", "0"],
    ["translate", "r", "--input", "i", "--out", "o", "--steps", "0"], ["bench", "dcgan", "--steps", "0"],
])
def test_zero_and_negative_counts_are_refused(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2 and "must be >= 1" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_recipes_refuse_zero_counts_from_python(tmp_path):
    from kitlib import recipes

    with pytest.raises(ValueError, match="epochs must be >= 1 .* Received: epochs=0"):
        recipes.train("dcgan", out=tmp_path / "r", epochs=0)
    assert not (tmp_path / "r").exists()


# -- run directories through the CLI -----------------------------------------------------------------------------------
def test_refused_resume_leaves_config_untouched_and_names_the_cli_fix(dcgan_run, tmp_path, capsys):
    run = shutil.copytree(dcgan_run, tmp_path / "run")
    before = (run / "config.json").read_bytes()
    assert cli.main(TRAIN[:-1] + ["hinge", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "loss: saved 'lsgan' vs now 'hinge'" in err and "--no-resume" in err and "another --out" in err
    assert "resume=False" not in err and err.count("\n") == 1
    assert (run / "config.json").read_bytes() == before
    batch = TRAIN.index("--batch-size") + 1
    assert cli.main(TRAIN[:batch] + ["8"] + TRAIN[batch + 1:] + ["--out", str(run)]) == 2
    assert "batch_size: saved 16 vs now 8" in capsys.readouterr().err
    assert (run / "config.json").read_bytes() == before


def test_another_data_folder_is_refused(dcgan_run, tmp_path, capsys):
    run = shutil.copytree(dcgan_run, tmp_path / "run")
    data = tmp_path / "faces"
    data.mkdir()
    for i in range(16):
        Image.fromarray(np.full((32, 32, 3), 16 * i, np.uint8)).save(data / f"{i}.png")
    assert cli.main(TRAIN + ["--data", str(data), "--out", str(run)]) == 2
    assert f"data.source: saved 'toy:faces' vs now '{data.resolve()}'" in capsys.readouterr().err
    assert cli.main(TRAIN + ["--data", str(data), "--out", str(data / "run")]) == 2
    assert "inside --data" in capsys.readouterr().err and not (data / "run").exists()


def test_out_that_is_a_file_or_read_only_gives_one_line(tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli.main(TRAIN + ["--out", str(afile)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and afile.read_text() == "x"

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr("pathlib.Path.mkdir", read_only)
    assert cli.main(TRAIN + ["--out", str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Read-only file system" in err and "Traceback" not in err


def test_full_disk_during_a_checkpoint_is_one_clear_line(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    def full(self, *args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", full)
    run = tmp_path / "run"
    assert cli.main(TRAIN + ["--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "Could not write the checkpoint of step 2" in err and "No space left on device" in err
    assert "Free disk space" in err and not (run / ".kitlib.lock").exists()


def test_nan_guard_makes_train_exit_non_zero(tmp_path, capsys, monkeypatch):
    from kitlib import data as kdata

    prepare = kdata.prepare

    def poisoned(*args, **kwargs):
        batches = prepare(*args, **kwargs)
        nan = batches.map(lambda x: x * float("nan"))
        nan.steps_per_epoch = batches.steps_per_epoch
        return nan

    monkeypatch.setattr(kdata, "prepare", poisoned)
    run = tmp_path / "run"
    assert cli.main(TRAIN + ["--out", str(run)]) == 2
    assert "NaNGuard" in capsys.readouterr().err
    assert not list(run.glob("checkpoints/ckpt-*")) and not (run / "export").exists()


# -- generate / translate never lose a file ----------------------------------------------------------------------------
def test_generate_never_overwrites_without_the_flag(dcgan_run, tmp_path, capsys):
    out = tmp_path / "gen"
    out.mkdir()
    (out / "000000.png").write_bytes(b"mine")
    assert cli.main(["generate", str(dcgan_run), "--n", "2", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "000000.png").read_bytes() == b"mine" and sorted(p.name for p in out.iterdir()) == ["000000.png"]
    assert cli.main(["generate", str(dcgan_run), "--n", "2", "--out", str(out), "--overwrite"]) == 0
    assert (out / "000000.png").read_bytes()[:4] == b"\x89PNG" and len(list(out.iterdir())) == 2


def _identity_run(path, trainer="CycleGAN", size=8, palette=None):
    """A hand-made translation run whose generator returns its input (so outputs show the decoding)."""
    (path / "export").mkdir(parents=True)
    model = keras.Sequential([keras.Input((size, size, 3)), keras.layers.Identity()], name="generator")
    model.save(path / "export" / "generator.keras")
    (path / "config.json").write_text(json.dumps({
        "trainer": trainer, "kind": "translation", "model": {"palette": palette},
        "generators": {"generator": "export/generator.keras"}}))
    return path


def test_translate_keeps_every_name_and_never_touches_the_input(tmp_path, capsys):
    run = _identity_run(tmp_path / "run")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k, ext in enumerate(["jpg", "jpeg", "png", "bmp"]):
        Image.fromarray(np.full((8, 8, 3), 60 * k, np.uint8)).save(inputs / f"x.{ext}")
    originals = {p.name: p.read_bytes() for p in inputs.iterdir()}
    out = tmp_path / "out"
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(out)]) == 0
    assert "Translated 4 of 4" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["x.bmp.png", "x.jpeg.png", "x.jpg.png", "x.png.png"]
    with Image.open(out / "x.bmp.png") as img:
        assert np.asarray(img).max() == 180
    for target in (inputs, inputs / "sub"):
        assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(target)]) == 2
        assert "never writes into the input folder" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == originals
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(out), "--overwrite"]) == 0


def test_translate_decodes_like_training(tmp_path):
    from kitlib.data.folders import pil_to_rgb

    run = _identity_run(tmp_path / "run")
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.full((8, 8), 257 * 100, np.uint16)).save(inputs / "grey16.png")
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[2:6, 2:6] = (200, 40, 40, 255)  # an opaque sprite on a transparent (black) background
    Image.fromarray(rgba, "RGBA").save(inputs / "sprite.png")
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(tmp_path / "out")]) == 0
    for name in ("grey16", "sprite"):
        with Image.open(inputs / f"{name}.png") as src, Image.open(tmp_path / "out" / f"{name}.png") as out:
            np.testing.assert_array_equal(np.asarray(out), pil_to_rgb(src))
    with Image.open(tmp_path / "out" / "grey16.png") as out:
        assert np.asarray(out).max() == 100
    with Image.open(tmp_path / "out" / "sprite.png") as out:
        assert tuple(np.asarray(out)[0, 0]) == (255, 255, 255)


@pytest.mark.parametrize("bad", [b"<html><body>Not found</body></html>", "truncated"])
def test_a_bad_label_map_writes_nothing(tmp_path, capsys, bad):
    run = _identity_run(tmp_path / "run", trainer="GauGAN", palette=[[0, 0, 0], [255, 255, 255]])
    labels = tmp_path / "labels"
    labels.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), i % 2, np.uint8)).save(labels / f"{i}.png")
    if bad == "truncated":
        Image.fromarray(np.random.default_rng(0).integers(0, 2, (64, 64), dtype=np.uint8)).save(labels / "9.png")
        data = (labels / "9.png").read_bytes()
        (labels / "9.png").write_bytes(data[: len(data) // 2])
    else:
        (labels / "9.png").write_bytes(bad)
    out = tmp_path / "out"
    assert cli.main(["translate", str(run), "--input", str(labels), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Label map {labels / '9.png'} cannot be used" in err and err.count("\n") == 1
    assert not out.exists()


def test_outputs_left_by_a_killed_generate_are_removed(dcgan_run, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "gen"
    stale = out / f".kitlib-partial-{dead.pid}-abc123"
    stale.mkdir(parents=True)
    (stale / "000000.png").write_bytes(b"half")
    assert cli.main(["generate", str(dcgan_run), "--n", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["000000.png"]


SHOW_QUIET_STATE = """
import os, sys
from kitlib import cli
def stop():  # instead of the parser (which imports TensorFlow): what --verbose changed before it
    print(os.environ.get("TF_CPP_MIN_LOG_LEVEL"), os.environ.get("KITLIB_VERBOSE"), "tensorflow" in sys.modules,
          any(type(f).__name__ == "_QuietImport" for f in sys.meta_path))
    raise SystemExit(0)
cli.build_parser = stop
cli.main(sys.argv[1:])
"""


@pytest.mark.parametrize("argv, shown", [(["--verbose", "info"], "None 1 False False"),
                                         (["info", "--verbose"], "None 1 False False"),
                                         (["info"], "2 None False True")])
def test_verbose_takes_effect_before_tensorflow_is_imported(argv, shown):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KITLIB_VERBOSE")}
    done = subprocess.run([sys.executable, "-c", SHOW_QUIET_STATE, *argv], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.stdout.strip() == shown, done.stderr


def test_verbose_brings_tensorflow_log_lines_back():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KITLIB_VERBOSE")}
    done = subprocess.run([sys.executable, "-m", "kitlib", "info", "--verbose"], capture_output=True, text=True,
                          timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    # TensorFlow's C++ log lines: "I0000 ..." (TF 2.21) or "2026-... I tensorflow/..." (TF 2.20), e.g. oneDNN's banner
    assert any(line[:5] in ("I0000", "W0000") or " I tensorflow/" in line or " W tensorflow/" in line
               for line in done.stderr.splitlines()), done.stderr


def test_every_recipe_refuses_a_global_batch_its_replicas_cannot_share(tmp_path, monkeypatch, capsys):
    """Two replicas (as two machines or GPUs give): `--batch-size 3` is refused by every method, naming both numbers
    and a batch that works, before anything is built or written."""
    import contextlib
    import types

    from kitlib import recipes, runtime

    two = types.SimpleNamespace(num_replicas_in_sync=2, scope=contextlib.nullcontext)
    monkeypatch.setattr(runtime, "strategy", lambda: two)
    for method in recipes.trainable():
        assert cli.main(["train", method, "--batch-size", "3", "--out", str(tmp_path / method)]) == 2, method
        err = capsys.readouterr().err
        assert "split evenly over the 2 replicas" in err and "batch_size=3; pass a multiple of 2, e.g. 4" in err, err
        assert not (tmp_path / method).exists()


def test_a_run_resumed_on_another_number_of_replicas_is_refused_unless_allowed(dcgan_run, tmp_path, monkeypatch,
                                                                                capsys):
    """The run's identity records its replicas; as if it had trained on two machines of one replica each, the
    one-replica resume is refused naming both counts and the ways out, and KITLIB_ALLOW_REPLICA_CHANGE=1 continues."""
    run = tmp_path / "run"
    shutil.copytree(dcgan_run, run)
    config, meta = json.loads((run / "config.json").read_text()), json.loads((run / "kitlib_meta.json").read_text())
    assert (config["replicas"], config["workers"]) == (meta["identity"]["replicas"], meta["identity"]["workers"]) == (1, 1)
    meta["identity"].update(replicas=2, workers=2)
    (run / "kitlib_meta.json").write_text(json.dumps(meta))
    more = TRAIN[:2] + ["--epochs", "2"] + TRAIN[4:] + ["--out", str(run)]
    assert cli.main(more) == 2
    err = capsys.readouterr().err
    assert "trained on 2 replica(s) on 2 machine(s) and this process has 1 replica(s) on 1 machine(s)" in err, err
    assert "Run it on 2 replica(s) again" in err and "KITLIB_ALLOW_REPLICA_CHANGE=1" in err and "--no-resume" in err
    assert json.loads((run / "kitlib_meta.json").read_text()) == meta  # nothing changed
    monkeypatch.setenv("KITLIB_ALLOW_REPLICA_CHANGE", "1")
    assert cli.main(more) == 0
    assert "continues on 1 replica(s) on 1 machine(s)" in capsys.readouterr().out
    assert json.loads((run / "kitlib_meta.json").read_text())["identity"]["replicas"] == 1
