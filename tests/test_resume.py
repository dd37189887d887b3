"""Exact resume: a run killed with SIGKILL mid-training and resumed ends bit-identical to an uninterrupted run."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np

WORKER = pathlib.Path(__file__).with_name("resume_worker.py")
EPOCHS = 3  # 6 steps per epoch -> 18 steps


def _run(run_dir, out, slow=False):
    cmd = [sys.executable, str(WORKER), str(run_dir), str(EPOCHS), str(out)] + (["--slow"] if slow else [])
    return subprocess.Popen(cmd, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def _latest_step(run_dir: pathlib.Path) -> int:
    index = run_dir / "checkpoints" / "checkpoint"
    if not index.exists():
        return 0
    text = index.read_text()
    first = text.splitlines()[0]  # model_checkpoint_path: ".../ckpt-N"
    return int(first.rsplit("-", 1)[1].strip().strip('"'))


def test_sigkill_then_resume_is_exact(tmp_path):
    straight = _run(tmp_path / "straight", tmp_path / "straight.npz")
    assert straight.wait(timeout=300) == 0

    run_dir = tmp_path / "killed"
    proc = _run(run_dir, tmp_path / "never.npz", slow=True)
    deadline = time.time() + 240
    while _latest_step(run_dir) < 8 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the worker finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    killed_at = _latest_step(run_dir)
    assert 8 <= killed_at < 18, killed_at
    assert not (tmp_path / "never.npz").exists()

    resumed = _run(run_dir, tmp_path / "resumed.npz")
    assert resumed.wait(timeout=300) == 0

    a = np.load(tmp_path / "straight.npz")
    b = np.load(tmp_path / "resumed.npz")
    assert sorted(a.files) == sorted(b.files)
    assert int(a["step"]) == int(b["step"]) == 18
    assert any(k.startswith("opt_generator/") for k in a.files)
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    meta = json.loads((run_dir / "kitlib_meta.json").read_text())
    assert meta["step"] == 18 and meta["trainer"] == "GAN"
    assert (run_dir / "export" / "generator.keras").exists()
