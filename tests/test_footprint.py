"""A run directory's footprint (issue 28): per-epoch exports kept by a policy (the first, every k-th and the last N
epochs), the run directory's size printed after training, and ``python -m kitlib runs`` listing runs and pruning
them safely (a dry run by default; only kitlib's own epoch exports and older checkpoints, never through a link)."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import cli, train
from kitlib.models.dcgan import build_dcgan
from kitlib.train.checkpoint import KeepEpochs, epoch_exports

pytestmark = pytest.mark.usefixtures("float32_runtime")


def _batches(n=8, batch=8):
    images = np.random.default_rng(0).uniform(-1, 1, (n, 32, 32, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def _fit(run, *, epochs, callbacks=(), **kwargs):
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, seed=1)
    gan.compile()
    info = {"data": {"source": "toy:faces", "num_images": 8}, "batch_size": 8}
    return gan.fit(_batches(), epochs=epochs, run_dir=run, verbose=0, run_info=info, callbacks=list(callbacks),
                   **kwargs)


def _ckpt_prefixes(run):
    return sorted({p.name.split(".")[0] for p in (run / "checkpoints").glob("ckpt-*")})


# -- the keep policy ------------------------------------------------------------------------------------------------
def test_keep_policy_keeps_the_first_every_kth_and_the_last_epochs():
    assert KeepEpochs().keeps(range(1, 26)) == {1, 5, 10, 15, 20, 23, 24, 25}
    assert KeepEpochs(last=2, every=0).keeps([1, 2, 3, 4]) == {1, 3, 4}
    assert KeepEpochs.parse("all").keeps(range(1, 8)) == set(range(1, 8))
    assert KeepEpochs.parse("last=1,every=3") == KeepEpochs(last=1, every=3)


@pytest.mark.parametrize("spec", ["last=0", "every=-1", "first=2", "3"])
def test_a_bad_keep_policy_is_refused_naming_it(spec):
    with pytest.raises(ValueError, match="KITLIB_KEEP_EPOCHS"):
        KeepEpochs.parse(spec)


def test_the_environment_variable_sets_the_default_policy(monkeypatch):
    monkeypatch.setenv("KITLIB_KEEP_EPOCHS", "last=1,every=2")
    assert KeepEpochs.parse(None) == KeepEpochs(last=1, every=2)
    monkeypatch.delenv("KITLIB_KEEP_EPOCHS")
    assert KeepEpochs.parse(None) == KeepEpochs()


# -- training keeps what the policy names and says how big the run is ---------------------------------------------
def test_fit_keeps_only_the_policy_epochs_and_prints_the_size(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "export").mkdir()
    (run / "export" / "my_notes.txt").write_text("mine")  # not kitlib's: never removed
    (run / "kitlib_meta.json").write_text("{}")  # makes the folder a kitlib run despite the user's file
    _fit(run, epochs=7, keep_epochs="last=2,every=3")
    assert sorted(epoch_exports(run)) == [1, 3, 6, 7]
    assert (run / "export" / "generator.keras").is_file() and (run / "export" / "my_notes.txt").is_file()
    out = capsys.readouterr().out
    size = sum(p.stat().st_size for p in run.rglob("*") if p.is_file())
    line = [text for text in out.splitlines() if text.startswith(f"Run directory {run}:")]
    assert len(line) == 1 and f"{size / 1e6:.1f} MB" in line[0], out


def test_keep_all_keeps_every_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("KITLIB_KEEP_EPOCHS", "all")
    _fit(tmp_path / "run", epochs=4)
    assert sorted(epoch_exports(tmp_path / "run")) == [1, 2, 3, 4]


# -- python -m kitlib runs ----------------------------------------------------------------------------------------
class _StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    """``ROOT/done`` (7 epochs of 1 step, every epoch kept, 3 checkpoints) and ``ROOT/part/half`` (1 of 2 epochs)."""
    root = tmp_path_factory.mktemp("runs")
    keras.mixed_precision.set_global_policy("float32")
    _fit(root / "done", epochs=7, keep_epochs="all")
    _fit(root / "part" / "half", epochs=2, callbacks=[_StopAfterFirstEpoch()])
    (root / "not_a_run").mkdir()
    (root / "not_a_run" / "data.bin").write_bytes(b"x" * 100)
    return root


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_runs_lists_size_method_steps_and_status(runs_root, capsys):
    assert cli.main(["runs", str(runs_root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    done = next(text for text in lines if text.startswith("done "))
    half = next(text for text in lines if text.startswith(os.path.join("part", "half") + " "))
    assert "dcgan" in done and "7/7" in done and "complete" in done and " MB" in done, lines
    assert "1/2" in half and "incomplete" in half, lines
    assert not any("not_a_run" in text for text in lines)
    assert lines[-1].startswith("2 runs,") and "MB" in lines[-1]


def test_runs_prune_is_a_dry_run_until_yes(runs_root, tmp_path, capsys):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(runs_root, root, symlinks=True)
    before = _files(root)
    assert cli.main(["runs", str(root), "--prune"]) == 0
    out = capsys.readouterr().out
    assert _files(root) == before
    assert "generator_epoch_0002.keras" in out and "ckpt-5" in out and "--yes" in out, out

    assert cli.main(["runs", str(root), "--prune", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Freed" in out, out
    assert sorted(epoch_exports(root / "done")) == [1, 5, 6, 7]  # the first, every 5th, the last 3
    assert _ckpt_prefixes(root / "done") == ["ckpt-7"]
    assert (root / "not_a_run" / "data.bin").read_bytes() == b"x" * 100
    # what is left still loads and resumes
    assert train.load_generator(root / "done", epoch=5) is not None
    _fit(root / "done", epochs=8)
    assert json.loads((root / "done" / "kitlib_meta.json").read_text())["step"] == 8


def test_prune_never_follows_a_link_nor_removes_other_files(runs_root, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs_root / "done", run)
    outside = tmp_path / "precious.keras"
    outside.write_bytes(b"precious")
    (run / "export" / "generator_epoch_0002.keras").unlink()
    (run / "export" / "generator_epoch_0002.keras").symlink_to(outside)  # a link named like an export
    (run / "export" / "generator_epoch_0003.keras.bak").write_bytes(b"mine")
    assert cli.main(["runs", str(run), "--prune", "--yes"]) == 0
    assert outside.read_bytes() == b"precious"
    assert (run / "export" / "generator_epoch_0002.keras").is_symlink()
    assert (run / "export" / "generator_epoch_0003.keras.bak").read_bytes() == b"mine"
    assert not (run / "export" / "generator_epoch_0003.keras").exists()

    linked = tmp_path / "linked"  # an export folder that is a link: the run is skipped, nothing deleted there
    shutil.copytree(runs_root / "done", tmp_path / "target")
    linked.mkdir()
    for name in ("config.json", "kitlib_meta.json"):
        shutil.copy(tmp_path / "target" / name, linked / name)
    (linked / "export").symlink_to(tmp_path / "target" / "export")
    before = _files(tmp_path / "target")
    capsys.readouterr()
    assert cli.main(["runs", str(linked), "--prune", "--yes"]) == 0
    assert "symbolic link" in capsys.readouterr().out
    assert _files(tmp_path / "target") == before


def test_runs_refuses_a_missing_root(tmp_path, capsys):
    assert cli.main(["runs", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_a_rewritten_checkpoint_index_still_lists_its_checkpoints(runs_root, tmp_path):
    """The index kitlib rewrites (prune, or setting a damaged checkpoint aside) keeps the save times without which
    ``tf.train.CheckpointManager`` lists no checkpoint and the next run would refuse to resume."""
    import shutil

    from kitlib.train.checkpoint import Checkpointer

    run = tmp_path / "run"
    shutil.copytree(runs_root / "done", run)
    data = run / "checkpoints" / "ckpt-7.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])  # truncated: restore falls back to ckpt-6 and sets ckpt-7 aside
    g, d = build_dcgan("seed", latent_dim=8, image_size=32)
    gan = train.GAN(g, d, seed=1)
    gan.compile()
    assert Checkpointer(gan, run).restore() == 6
    assert Checkpointer(gan, run).usable() == (str(run / "checkpoints" / "ckpt-6"), [])


def test_train_keep_epochs_sets_the_policy_and_refuses_a_typo_before_training(tmp_path, monkeypatch, capsys):
    from kitlib import recipes

    seen = []
    monkeypatch.setattr(recipes, "train", lambda model, **kwargs: seen.append(KeepEpochs.parse(None)))
    monkeypatch.setenv("KITLIB_KEEP_EPOCHS", "")  # the default policy; restored after the test (main sets it)
    assert cli.main(["train", "dcgan", "--out", str(tmp_path / "run"), "--keep-epochs", "first=2"]) == 2
    assert "keep_epochs / KITLIB_KEEP_EPOCHS must read like" in capsys.readouterr().err and seen == []
    assert cli.main(["train", "dcgan", "--out", str(tmp_path / "run"), "--keep-epochs", "last=1,every=0"]) == 0
    assert seen == [KeepEpochs(last=1, every=0)]
