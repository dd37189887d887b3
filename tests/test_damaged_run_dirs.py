"""Damaged or surprising run directories and folders (issue 28): a deleted checkpoints/ folder, damaged
checkpoint files, a lock that is a symbolic link, unreadable data folders, a demo --out that is a user's folder.
Each is either refused before anything is written, naming the file and the fix, or handled and said so."""

import json
import os
import shutil
import signal
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import train
from kitlib.models.dcgan import build_dcgan
from kitlib.train.checkpoint import RunMismatchError
from kitlib.train.run_dir import RunLock

pytestmark = pytest.mark.usefixtures("float32_runtime")


def _batches(n=16, batch=8):
    images = np.random.default_rng(0).uniform(-1, 1, (n, 32, 32, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def _gan(seed=1):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, seed=seed)
    gan.compile()
    return gan


def _fit(gan, run, *, epochs=1, batch_size=8, source="toy:faces", **kwargs):
    info = {"data": {"source": source, "num_images": 16}, "batch_size": batch_size}
    return gan.fit(_batches(batch=batch_size), epochs=epochs, run_dir=run, verbose=0, run_info=info, **kwargs)


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    """A finished run of 2 epochs of 2 steps (checkpoints ckpt-2 and ckpt-4), copied by the tests that change it."""
    keras.mixed_precision.set_global_policy("float32")
    run = tmp_path_factory.mktemp("two") / "run"
    _fit(_gan(), run, epochs=2)
    return run


def _files(run):
    return {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}


# -- the run's identity is checked with or without a checkpoint --------------------------------------------------------
@pytest.mark.parametrize("also_meta", [False, True])
@pytest.mark.parametrize("change, named", [
    ({"batch_size": 4}, "batch_size: saved 8 vs now 4"),
    ({"source": "/data/faces"}, "data.source: saved 'toy:faces' vs now '/data/faces'"),
])
def test_a_deleted_checkpoints_folder_still_refuses_another_run(two_epochs, tmp_path, also_meta, change, named):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    shutil.rmtree(run / "checkpoints")  # what Colab users do when Drive fills up
    if also_meta:
        (run / "kitlib_meta.json").unlink()
    before = _files(run)
    with pytest.raises(RunMismatchError, match="Nothing was changed") as err:
        _fit(_gan(), run, epochs=2, **change)
    assert named in str(err.value)
    assert _files(run) == before


def test_a_deleted_checkpoints_folder_never_replaces_the_trained_exports(two_epochs, tmp_path):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    shutil.rmtree(run / "checkpoints")
    before = _files(run)
    with pytest.raises(RunMismatchError, match=r"holds no checkpoint \(deleted\?\).*generator\.keras.*resume=False"):
        _fit(_gan(), run, epochs=2)
    assert _files(run) == before
    gan = _gan()
    _fit(gan, run, epochs=2, resume=False)  # the fix the message names: the old run is moved aside
    assert int(gan.global_step.numpy()) == 4 and len(list(tmp_path.glob("run.old-*/export/generator.keras"))) == 1


def test_another_seed_is_refused(two_epochs, tmp_path):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    with pytest.raises(RunMismatchError, match="seed: saved 1 vs now 2"):
        _fit(_gan(seed=2), run, epochs=2)


def test_a_run_without_a_content_hash_resumes_and_another_content_is_refused(tmp_path):
    """Runs made before small data folders were hashed by content resume; a changed content hash is refused."""
    run = tmp_path / "run"
    old = {"source": "/data/faces", "num_files": 16, "files_sha256": "0123456789abcdef"}
    gan = _gan()
    gan.fit(_batches(), epochs=1, run_dir=run, verbose=0, run_info={"data": old, "batch_size": 8})
    now = {**old, "content_sha256": "fedcba9876543210"}
    gan = _gan()
    gan.fit(_batches(), epochs=2, run_dir=run, verbose=0, run_info={"data": now, "batch_size": 8})
    assert int(gan.global_step.numpy()) == 4
    with pytest.raises(RunMismatchError, match="data.content_sha256: saved 'fedcba9876543210' vs now 'ffff"):
        _gan().fit(_batches(), epochs=3, run_dir=run, verbose=0,
                   run_info={"data": {**now, "content_sha256": "ffffffffffffffff"}, "batch_size": 8})


# -- damaged checkpoint files --------------------------------------------------------------------------------------------
def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["data", "index", "deleted"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(two_epochs, tmp_path, capsys, damage):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    ckpt = run / "checkpoints"
    if damage == "deleted":
        for path in ckpt.glob("ckpt-4.*"):
            path.unlink()
        damaged = "ckpt-4.index"
    else:
        damaged = next(p.name for p in ckpt.glob(f"ckpt-4.{damage}*"))
        _truncate(ckpt / damaged)
    gan = _gan()
    _fit(gan, run, epochs=3)
    out = capsys.readouterr().out
    assert damaged in out and "resuming from the previous good checkpoint ckpt-2" in out
    assert int(gan.global_step.numpy()) == 6
    assert (run / "export" / "generator_epoch_0003.keras").exists()


def test_no_usable_checkpoint_is_one_error_naming_the_file_and_the_fix(two_epochs, tmp_path):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    for name in ("ckpt-2", "ckpt-4"):
        _truncate(next((run / "checkpoints").glob(f"{name}.data*")))
    before = _files(run)
    with pytest.raises(ValueError, match=r"ckpt-4\.data-00000-of-00001 is damaged.*resume=False") as err:
        _fit(_gan(), run, epochs=3)
    assert "ckpt-2.data-00000-of-00001" in str(err.value)
    assert _files(run) == before


# -- never follow links inside a run directory ---------------------------------------------------------------------------
def test_a_lock_that_is_a_symlink_is_refused(tmp_path):
    outside = tmp_path / "thesis.txt"
    outside.write_text("my thesis")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".kitlib.lock").symlink_to(outside)
    with pytest.raises(ValueError, match=r"\.kitlib\.lock is a symbolic link"):
        _fit(_gan(), run)
    assert outside.read_text() == "my thesis"


@pytest.mark.parametrize("name", ["checkpoints", "export", "kitlib_meta.json"])
def test_links_inside_a_run_directory_are_refused(two_epochs, tmp_path, name):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / name, elsewhere)
    (run / name).symlink_to(elsewhere)
    with pytest.raises(ValueError, match=f"{name} is a symbolic link.*Remove the link"):
        _fit(_gan(), run, epochs=3)


# -- the run directory is checked before an epoch is trained ---------------------------------------------------------
@pytest.mark.parametrize("name, content, said", [
    ("config.json", "not json", r"config\.json is not valid JSON"),
    ("kitlib_meta.json", "[1, 2]", r"kitlib_meta\.json does not hold a JSON object"),
    ("history.csv", "epoch,step,g_loss\n1,2,abc\n", r"history\.csv cannot be read as a table of numbers"),
    ("samples", "a file", r"samples is a file, but kitlib keeps its samples in a folder"),
])
def test_a_damaged_run_file_is_named_before_training(two_epochs, tmp_path, name, content, said):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    if (run / name).is_dir():
        shutil.rmtree(run / name)
    (run / name).write_text(content)
    trained = []
    gan = _gan()
    gan.train_step = lambda data: trained.append(1)
    with pytest.raises(ValueError, match=said):
        _fit(gan, run, epochs=3)
    assert not trained


def test_a_truncated_export_is_called_damaged_not_missing(two_epochs, tmp_path, capsys):
    from kitlib import cli

    run = shutil.copytree(two_epochs, tmp_path / "run")
    _truncate(run / "export" / "generator.keras")
    assert cli.main(["generate", str(run), "--n", "2", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "generator.keras cannot be loaded" in err and "damaged or truncated" in err and "not found" not in err
    assert not (tmp_path / "out").exists()


def test_a_missing_export_is_written_again_by_the_rerun(two_epochs, tmp_path, capsys):
    run = shutil.copytree(two_epochs, tmp_path / "run")
    (run / "export" / "generator.keras").unlink()
    _fit(_gan(), run, epochs=2)
    assert "Exporting step 4 again: export/generator.keras is missing" in capsys.readouterr().out
    assert (run / "export" / "generator.keras").exists()


# -- demo --out ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    """A folder with two numbered notebooks, and papermill replaced by a copy (no kernel is started)."""
    import papermill

    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("00_quickstart.ipynb", "01_dcgan.ipynb"):
        (folder / name).write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setattr(papermill, "execute_notebook", lambda source, target, **kwargs: shutil.copy(source, target))
    return folder


def test_demo_never_writes_into_a_users_folder(notebooks, tmp_path):
    from kitlib import demo

    user = tmp_path / "u"
    (user / "work").mkdir(parents=True)
    (user / "work" / "thesis.txt").write_text("thesis")
    with pytest.raises(ValueError, match=r"--out .*u is not empty \(work\) and is not a demo output folder"):
        demo.run_demo(profile="quick", out=user, notebooks=notebooks, only=["00"])
    assert [p.name for p in user.rglob("*")] == ["work", "thesis.txt"]
    out = tmp_path / "gallery"
    demo.run_demo(profile="quick", out=out, notebooks=notebooks, only=["00"])
    index = demo.run_demo(profile="quick", out=out, notebooks=notebooks)  # its own earlier output: rewritten
    assert index == out.resolve() / "index.html" and (out / "01_dcgan.ipynb").exists()


def test_demo_only_names_the_notebooks_it_has_and_creates_nothing(notebooks, tmp_path):
    from kitlib import demo

    with pytest.raises(ValueError, match=r"--only zz matches none of the numbered notebooks .*: 00, 01"):
        demo.run_demo(profile="quick", out=tmp_path / "out", notebooks=notebooks, only=["zz"])
    assert not (tmp_path / "out").exists()


# -- unreadable data ----------------------------------------------------------------------------------------------------
@pytest.fixture
def faces(tmp_path):
    """40 small PNGs: 16 in the top folder, 24 in ``locked/`` (made unreadable by the tests, also as root)."""
    from PIL import Image

    folder = tmp_path / "faces"
    (folder / "locked").mkdir(parents=True)
    for i in range(40):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(folder / ("locked" if i >= 16 else "") / f"{i:02d}.png")
    return folder


def _deny_folder(monkeypatch, folder):
    """Listing ``folder`` fails as it does without read permission (chmod 000 does not stop root)."""
    scandir = os.scandir

    def guarded(path=".", *args, **kwargs):
        if os.path.abspath(os.fspath(path)) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", guarded)


def _deny_files(monkeypatch, where):
    """Opening a file at or inside ``where`` fails as it does without read permission."""
    from kitlib.data import folders

    image_open = folders.Image.open

    def guarded(path, *args, **kwargs):
        if str(path) == str(where) or str(path).startswith(f"{where}{os.sep}"):
            raise PermissionError(13, "Permission denied", str(path))
        return image_open(path, *args, **kwargs)

    monkeypatch.setattr(folders.Image, "open", guarded)


def test_an_unreadable_sub_folder_is_refused_unless_the_user_goes_on(faces, monkeypatch):
    from kitlib.data.folders import scan_images

    _deny_folder(monkeypatch, faces / "locked")
    with pytest.raises(ValueError, match=r"cannot be listed \(permission denied\): locked\..*KITLIB_SKIP_UNREADABLE=1"):
        scan_images(faces)
    monkeypatch.setenv("KITLIB_SKIP_UNREADABLE", "1")
    report = scan_images(faces)
    assert len(report.good) == 16 and report.unreadable == [faces / "locked"]
    assert "Unreadable (permission denied): 1 folder" in report.summary()


def test_unreadable_files_are_called_permission_denied_and_many_are_refused(faces, monkeypatch):
    from kitlib.data.folders import scan_images

    (faces / "locked" / "16.png").rename(faces / "16.png")
    _deny_files(monkeypatch, faces / "16.png")  # 1 of 40: a small share, skipped and reported as what it is
    report = scan_images(faces)
    assert report.skipped == {"permission denied": [faces / "16.png"]} and len(report.good) == 39
    _deny_files(monkeypatch, faces / "locked")  # 24 of 40: refused
    with pytest.raises(ValueError, match=r"24 of 40 image files .*cannot be read \(permission denied\)"):
        scan_images(faces)


# -- Ctrl-C ---------------------------------------------------------------------------------------------------------------
class _CtrlC(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.global_step.numpy()) == 1:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_checkpoints_the_step_and_the_rerun_continues(tmp_path, capsys):
    run = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)  # Python's default, or the test runner's (pytest-xdist workers)
    with pytest.raises(KeyboardInterrupt):
        _fit(_gan(), run, epochs=2, callbacks=[_CtrlC()])
    out = capsys.readouterr().out
    assert f"Interrupted at step 1: checkpointed in {run}" in out and "rerun" in out
    assert [p.name for p in (run / "checkpoints").glob("*.index")] == ["ckpt-1.index"]
    assert signal.getsignal(signal.SIGINT) is before  # the handler fit replaced is back
    gan = _gan()
    _fit(gan, run, epochs=2)
    assert int(gan.global_step.numpy()) == 4 and "Resuming from step 1" in capsys.readouterr().out


def test_ctrl_c_in_train_exits_130_without_a_traceback(tmp_path, monkeypatch, capsys):
    from kitlib import cli, recipes

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipes, "train", interrupted)
    assert cli.main(["train", "dcgan", "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert "Interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- a lock of another machine (a run directory on a drive two machines share) --------------------------------------------
def test_a_fresh_lock_of_another_host_is_refused_and_a_stale_one_taken_over_with_a_word(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    lock = run / ".kitlib.lock"
    lock.write_text(json.dumps({"pid": 4242, "host": "other-vm", "since": "2026-01-01T10:00:00"}))
    with pytest.raises(RuntimeError, match=r"pid 4242 on other-vm.*another machine.*delete .*\.kitlib\.lock"):
        _fit(_gan(), run)
    assert json.loads(lock.read_text())["host"] == "other-vm" and not (run / "config.json").exists()
    an_hour_ago = time.time() - 3600
    os.utime(lock, (an_hour_ago, an_hour_ago))
    held = RunLock(run)
    held.acquire()
    assert json.loads(lock.read_text())["pid"] == os.getpid()  # the new owner's JSON only, from the first byte
    held.release()
    assert "Took over the lock of pid 4242 on other-vm" in capsys.readouterr().out
    lock.write_text(json.dumps({"pid": 4242, "host": "other-vm", "since": "2026-01-01T10:00:00"}))
    os.utime(lock, (an_hour_ago, an_hour_ago))
    gan = _gan()
    _fit(gan, run)
    assert int(gan.global_step.numpy()) == 2


# -- translate: every skipped input is named, with its reason, and the exit code says so -------------------------------
def test_translate_exits_non_zero_naming_each_skipped_input(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from kitlib import cli

    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Identity()], name="generator").save(
        run / "export" / "generator.keras")
    (run / "config.json").write_text(json.dumps({"trainer": "CycleGAN", "kind": "translation", "model": {},
                                                 "generators": {"generator": "export/generator.keras"}}))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.png", "b.png", "c.png", "d.png", "e.png", "f.png", "g.png", "h.png", "i.png", "j.png", "k.png"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(inputs / name)
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(inputs / "broken.png")
    _truncate(inputs / "broken.png")
    _deny_files(monkeypatch, inputs / "k.png")
    assert cli.main(["translate", str(run), "--input", str(inputs), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "Translated 10 of 12 images" in captured.out
    assert "broken.png: corrupt or truncated" in captured.err and "k.png: permission denied" in captured.err
    assert len(list((tmp_path / "out").glob("*.png"))) == 10
