"""A real ``python -m kitlib train`` killed (SIGKILL) at each phase of a run, then rerun: the run ends complete, its
exports equal an uninterrupted run's, and no temporary file is left.

One run directory goes through every phase in turn (each rerun starts from what the previous kill left):
mid-epoch -> during the epoch-1 checkpoint write -> during the epoch-1 export -> between the last checkpoint and
the final export -> a plain rerun that only finishes the exports.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np

from kitlib.history import read_history

WORKER = pathlib.Path(__file__).with_name("fault_worker.py")
TRAIN = ["train", "dcgan", "--epochs", "2", "--limit", "32", "--batch-size", "16", "--image-size", "32",
         "--precision", "float32"]  # 2 steps per epoch, 4 in all
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KITLIB_QUICK": "1"}


def _train(run, phase=None, step=0, wait=True):
    prefix = [str(WORKER), phase, str(step), "--"] if phase else ["-m", "kitlib"]
    proc = subprocess.Popen([sys.executable, *prefix, *TRAIN, "--out", str(run)], env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc if not wait else (proc.wait(timeout=300), proc.stdout.read())


def _weights(path):
    import keras

    import kitlib.models.layers  # noqa: F401  (registers kitlib layers)

    return [np.asarray(w) for w in keras.saving.load_model(path, compile=False).weights]


def _leftovers(run):
    return sorted(str(p.relative_to(run)) for p in run.rglob("*")
                  if p.name.startswith(".") or p.name.endswith("_temp") or ".tmp" in p.name)


def test_kill_at_every_phase_then_rerun_gives_the_uninterrupted_run(tmp_path):
    straight = _train(tmp_path / "straight", wait=False)  # runs alongside the killed ones
    run = tmp_path / "killed"

    rc, log = _train(run, "step", 2)
    assert rc == -signal.SIGKILL, log
    assert not list(run.glob("checkpoints/ckpt-*"))

    rc, log = _train(run, "checkpoint", 2)
    assert rc == -signal.SIGKILL, log
    assert (run / "checkpoints" / "ckpt-2_temp").is_dir() and not list(run.glob("checkpoints/ckpt-2.*"))

    rc, log = _train(run, "export", 2)
    assert rc == -signal.SIGKILL, log
    assert (run / "export" / ".generator.tmp.keras").exists() and not (run / "export" / "generator.keras").exists()
    assert json.loads((run / "kitlib_meta.json").read_text())["step"] == 2

    rc, log = _train(run, "before-export", 4)
    assert rc == -signal.SIGKILL, log
    assert "Finishing the exports of step 2" in log and "Resuming from step 2" in log
    meta = json.loads((run / "kitlib_meta.json").read_text())
    assert meta["step"] == 4 and meta["exported_step"] == 2 and not (run / "export" / "generator_epoch_0002.keras").exists()

    rc, log = _train(run)
    assert rc == 0, log
    assert "Finishing the exports of step 4" in log and "Run already complete" in log

    assert straight.wait(timeout=300) == 0, straight.stdout.read()
    reference = tmp_path / "straight"
    names = sorted(p.name for p in (reference / "export").iterdir())
    assert names == ["generator.keras", "generator_epoch_0001.keras", "generator_epoch_0002.keras"]
    assert sorted(p.name for p in (run / "export").iterdir()) == names
    for name in names:
        for a, b in zip(_weights(reference / "export" / name), _weights(run / "export" / name), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert json.loads((run / "kitlib_meta.json").read_text())["exported_step"] == 4
    assert [row["epoch"] for row in read_history(run)] == [1, 2]
    assert _leftovers(run) == [] and _leftovers(reference) == []
