"""Run directories you can trust: identity checks before any write, one owner, only kitlib's folders, complete
exports, no NaN checkpoints, no leftovers, normal file modes."""

import json
import os
import stat
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import train
from kitlib.models.dcgan import build_dcgan
from kitlib.train import run_dir as rd
from kitlib.train.checkpoint import RunMismatchError, load_generator, write_json_atomic
from kitlib.train.optimizers import FusedAdam

pytestmark = pytest.mark.usefixtures("float32_runtime")


def _batches(n=16, batch=8, scale=1.0):
    images = np.random.default_rng(0).uniform(-1, 1, (n, 32, 32, 3)).astype("float32") * scale
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def _gan(loss="bce", optimizer=None):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, loss=loss, seed=1)
    gan.compile(g_optimizer=optimizer)
    return gan


def _fit(gan, run, **kwargs):
    kwargs.setdefault("run_info", {"data": {"source": "toy:faces", "num_images": 16}, "batch_size": 8})
    return gan.fit(kwargs.pop("batches", None) or _batches(), epochs=kwargs.pop("epochs", 1), run_dir=run,
                   verbose=0, **kwargs)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished bce run (2 steps), copied by the tests that change it."""
    keras.mixed_precision.set_global_policy("float32")
    run = tmp_path_factory.mktemp("trained") / "run"
    _fit(_gan(), run)
    return run


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("change, named", [
    ({"loss": "hinge"}, "loss: saved 'bce' vs now 'hinge'"),
    ({"run_info": {"data": {"source": "/data/images.zip", "num_images": 16}, "batch_size": 8}},
     "data.source: saved 'toy:faces' vs now '/data/images.zip'"),
    ({"run_info": {"data": {"source": "toy:faces", "num_images": 16}, "batch_size": 4}},
     "batch_size: saved 8 vs now 4"),
    ({"optimizer": "sgd"}, "optimizers.generator.class: saved 'FusedAdam' vs now 'SGD'"),
])
def test_refused_resume_names_both_values_and_leaves_the_run_untouched(trained, tmp_path, change, named):
    run = _copy(trained, tmp_path / "run")
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    gan = _gan(loss=change.get("loss", "bce"), optimizer=keras.optimizers.SGD(0.1) if "optimizer" in change else None)
    kwargs = {"run_info": change["run_info"]} if "run_info" in change else {}
    with pytest.raises(RunMismatchError, match="Nothing was changed") as err:
        _fit(gan, run, epochs=2, **kwargs)
    assert named in str(err.value) and "another run_dir" in str(err.value) and "resume=False" in str(err.value)
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before  # config.json included, and no lock file left


def test_refused_trainer_leaves_config_so_generate_still_works(trained, tmp_path):
    from kitlib.train.pix2pix import build_pix2pix

    run = _copy(trained, tmp_path / "run")
    p2p = build_pix2pix((32, 32, 3), filters=4)
    p2p.compile()
    pairs = tf.data.Dataset.from_tensor_slices((np.zeros((2, 32, 32, 3), "float32"),) * 2).batch(1)
    with pytest.raises(RunMismatchError, match="trainer: saved 'GAN' vs now 'Pix2Pix'"):
        p2p.fit(pairs, epochs=1, run_dir=run, verbose=0)
    assert json.loads((run / "config.json").read_text())["kind"] == "unconditional"


def test_another_number_of_steps_per_epoch_is_refused(trained, tmp_path):
    run = _copy(trained, tmp_path / "run")
    with pytest.raises(RunMismatchError, match="steps_per_epoch: saved 2 vs now 4"):
        _fit(_gan(), run, batches=_batches(n=32), epochs=2)


def test_a_learning_rate_change_still_resumes(trained, tmp_path):
    run = _copy(trained, tmp_path / "run")
    gan = _gan(optimizer=FusedAdam(1e-4, beta_1=0.5))
    _fit(gan, run, epochs=2)
    assert int(gan.global_step.numpy()) == 4


def test_no_resume_moves_the_old_run_aside(trained, tmp_path, capsys):
    run = _copy(trained, tmp_path / "run")
    gan = _gan(loss="hinge")
    _fit(gan, run, resume=False)
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(moved) == 1 and str(moved[0]) in capsys.readouterr().out
    assert json.loads((moved[0] / "kitlib_meta.json").read_text())["model_config"]["loss"] == "bce"
    assert json.loads((run / "kitlib_meta.json").read_text())["model_config"]["loss"] == "hinge"
    assert sorted(p.name for p in (run / "checkpoints").glob("ckpt-*.index")) == ["ckpt-2.index"]


def test_only_empty_folders_or_kitlib_runs_are_written(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "config.json").write_text('{"my": "settings"}')
    (user / "history.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a kitlib run directory.*another --out"):
        _fit(_gan(), user)
    assert (user / "config.json").read_text() == '{"my": "settings"}' and len(list(user.iterdir())) == 2
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        _fit(_gan(), afile)
    assert rd.is_kitlib_run(tmp_path / "mine") is False


def test_second_process_is_refused_and_a_dead_owner_is_taken_over(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from kitlib.train.run_dir import RunLock\n"
        f"lock = RunLock({str(run)!r}); lock.acquire(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RuntimeError, match=rf"in use by another training process \(pid {holder.pid} on "):
            _fit(_gan(), run)
        assert not (run / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert json.loads((run / ".kitlib.lock").read_text())["pid"] == holder.pid  # stale: its owner is dead
    gan = _gan()
    _fit(gan, run)
    assert int(gan.global_step.numpy()) == 2 and not (run / ".kitlib.lock").exists()


def test_a_kill_between_checkpoint_and_export_is_finished_by_the_rerun(tmp_path, capsys):
    run = tmp_path / "run"
    gan = _gan()
    _fit(gan, run)
    expected = [np.asarray(w) for w in gan.generator.weights]
    # the state a kill after the epoch-end checkpoint leaves: exports of the previous epoch (here: none) and a
    # half-written export and checkpoint folder
    meta = json.loads((run / "kitlib_meta.json").read_text())
    write_json_atomic(run / "kitlib_meta.json", {**meta, "exported_step": None})
    for path in (run / "export").iterdir():
        path.unlink()
    (run / "export" / ".generator.tmp.keras").write_bytes(b"partial")
    (run / "checkpoints" / "ckpt-9_temp").mkdir()
    (run / ".config.json.1234abcd.tmp").write_text("{")
    again = _gan()
    _fit(again, run)
    out = capsys.readouterr().out
    assert "Finishing the exports of step 2" in out and "Run already complete" in out
    exported = load_generator(run)
    for a, b in zip(expected, exported.weights):
        np.testing.assert_array_equal(a, np.asarray(b))
    assert (run / "export" / "generator_epoch_0001.keras").exists()
    assert not [p for p in run.rglob("*") if p.name.startswith(".") or p.name.endswith("_temp")]


def test_nan_before_the_first_checkpoint_is_never_saved(tmp_path):
    run = tmp_path / "run"
    guard = train.NaNGuard()
    with pytest.raises(RuntimeError, match="NaNGuard: d_loss=nan at step 1. Non-finite weights are never saved"):
        _fit(_gan(), run, batches=_batches(scale=np.nan), callbacks=[guard])
    assert guard.tripped and "no checkpoint to restore" in guard.message
    assert not list(run.glob("checkpoints/ckpt-*"))
    assert not (run / "export").exists()
    gan = _gan()
    gan.generator.weights[0].assign(np.full(gan.generator.weights[0].shape, np.nan, "float32"))
    with pytest.raises(ValueError, match="non-finite"):
        train.Checkpointer(gan, tmp_path / "direct").save()


def test_files_are_created_with_the_usual_modes(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json_atomic(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_generator_path_outside_the_run_is_refused(trained, tmp_path):
    run = _copy(trained, tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    config["generators"]["generator"] = "../../elsewhere/generator.keras"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="outside the run directory"):
        load_generator(run)


def test_out_inside_data_is_refused(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(ValueError, match="inside --data"):
        rd.check_not_inside(data / "run", data)
    rd.check_not_inside(tmp_path / "run", data)


def test_data_identity_changes_with_the_file_list(tmp_path):
    data = tmp_path / "faces"
    data.mkdir()
    for name in ("a.png", "b.png"):
        (data / name).write_bytes(b"x" * 10)
    (data / ".DS_Store").write_bytes(b"ignored")
    first = rd.data_identity(str(data))
    assert first["source"] == str(data) and first["num_files"] == 2
    assert rd.data_identity(str(data)) == first
    (data / "c.png").write_bytes(b"x")
    second = rd.data_identity(str(data))
    assert second["num_files"] == 3 and second["files_sha256"] != first["files_sha256"]
    (data / "c.png").unlink()
    (data / "b.png").write_bytes(b"x" * 11)  # same names, another size
    assert rd.data_identity(str(data))["files_sha256"] != first["files_sha256"]
    assert rd.data_identity("toy:faces", {"source": "toy:faces", "num_images": 64}) == {
        "source": "toy:faces", "num_images": 64}


def test_small_data_folders_are_fingerprinted_by_content_too(tmp_path):
    data = tmp_path / "faces"
    data.mkdir()
    (data / "a.png").write_bytes(b"x" * 10)
    first = rd.data_identity(str(data))
    (data / "a.png").write_bytes(b"y" * 10)  # edited in place, same name and size
    second = rd.data_identity(str(data))
    assert second["files_sha256"] == first["files_sha256"] and second["content_sha256"] != first["content_sha256"]
    large = rd.files_identity([data / "a.png"], data, content_max_bytes=9)  # over the limit: names and sizes only
    assert set(large) == {"num_files", "files_sha256"}


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    (tmp_path / "x.json").write_text('{"old": 1}')
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full_disk)
        with pytest.raises(OSError, match="No space left"):
            write_json_atomic(tmp_path / "x.json", {"new": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"] and json.loads((tmp_path / "x.json").read_text()) == {
        "old": 1}
    gan = _gan()
    gan.generator.save = full_disk
    with pytest.raises(OSError, match="No space left"):
        gan.export(tmp_path / "run")
    assert list((tmp_path / "run" / "export").iterdir()) == []


def test_a_notebook_fit_with_run_info_refuses_a_resume_after_data_changes(tmp_path):
    """The notebooks' `fit(..., run_info=train.run_info(DATA, batch_size=..., image_size=...))`: a student who
    changes DATA after a first run gets a RunMismatchError naming both data sources, not the old weights on new
    data; config.json records the data, the batch size, the image size and the method."""
    folder = tmp_path / "faces"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(b"x" * 10)
    run = tmp_path / "run"
    _fit(_gan(), run, run_info=train.run_info(None, batch_size=8, image_size=32))  # DATA = None: embedded images
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == {"source": None} and config["batch_size"] == 8 and config["image_size"] == 32
    assert config["method"] == "dcgan"
    with pytest.raises(RunMismatchError, match="Nothing was changed") as err:
        _fit(_gan(), run, epochs=2, run_info=train.run_info(str(folder), batch_size=8, image_size=32))
    assert f"data.source: saved None vs now {str(folder)!r}" in str(err.value) and "resume=False" in str(err.value)
    with pytest.raises(RunMismatchError, match="batch_size: saved 8 vs now 4"):
        _fit(_gan(), run, epochs=2, run_info=train.run_info(None, batch_size=4, image_size=32))
    _fit(_gan(), run, resume=False, run_info=train.run_info(str(folder), batch_size=8, image_size=32))
    (folder / "c.png").write_bytes(b"x")  # the same folder, another file: refused too
    with pytest.raises(RunMismatchError, match=r"data\.num_files: saved 2 vs now 3"):
        _fit(_gan(), run, epochs=2, run_info=train.run_info(folder, batch_size=8, image_size=32))
    (folder / "c.png").unlink()
    gan = _gan()
    _fit(gan, run, epochs=2, run_info=train.run_info(folder, batch_size=8, image_size=32))  # the same data: resumes
    assert int(gan.global_step.numpy()) == 4


def test_run_info_records_a_pair_of_folders_as_one_spec(tmp_path):
    for name in ("content", "style"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.png").write_bytes(b"x")
    info = train.run_info((tmp_path / "content", tmp_path / "style"), batch_size=8, image_size=32)
    assert info["data"]["source"] == f"{tmp_path / 'content'},{tmp_path / 'style'}" and info["data"]["num_files"] == 2
