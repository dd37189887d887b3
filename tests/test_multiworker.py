"""`python -m kitlib train cyclegan` on a cluster of two machines (TF_CONFIG, MultiWorkerMirroredStrategy), played by
two worker processes on this machine (localhost ports). Slow for a unit test (about 95 s on this shared 2-core
machine): five TensorFlow processes of 12 CycleGAN steps at 32 px.

What it checks: the two workers start a two-epoch run that a time budget stops after its first step, then finish it
from the chief's checkpoint (the other worker has none: it gets the chief's values); the chief's exported generator
equals that of one process training the same global batch of 2 data-parallel over two logical CPUs (the same
arithmetic: one image per replica, gradients summed; found equal to the last bit); only the chief wrote the run
directory, and the other worker's temporary folder is gone.

Why not against a plain one-device run: with Adam, a few GAN steps turn last-bit differences of the batch-2 kernels
into differences of the order of the learning rate (measured after 6 steps: a one-device run differs from the
two-replica runs by 15% of the weights' movement, and from itself with oneDNN off by 42%); tests/test_strategy.py
checks that a two-replica step equals the one-device step.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np

TRAIN = ["-m", "kitlib", "train", "cyclegan", "--batch-size", "2", "--precision", "float32"]
ON_TWO_LOGICAL_CPUS = """
import sys, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kitlib.cli import main
sys.exit(main(sys.argv[1:]))
"""
EXPECTED = {"checkpoints", "config.json", "export", "history.csv", "kitlib_meta.json", "samples"}


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "KITLIB_PROFILE")}
    return {**env, "KITLIB_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _cluster(out, scratch, *options):
    """Both workers of a two-machine cluster, `train ... --out out --epochs 2 OPTIONS`; returns their stdout."""
    for attempt in range(2):  # a port taken between _free_ports and the worker's bind: once more, new ports
        hosts = [f"localhost:{p}" for p in _free_ports(2)]
        logs = [(folder.with_suffix(".out"), folder.with_suffix(".err")) for folder in scratch]
        procs = []
        for i, (stdout, stderr) in enumerate(logs):
            with open(stdout, "w") as o, open(stderr, "w") as e:
                procs.append(subprocess.Popen(
                    [sys.executable, *TRAIN, "--out", str(out), "--epochs", "2", *options], stdout=o, stderr=e,
                    env=_env(TF_CONFIG=json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}}),
                             TMPDIR=str(scratch[i]))))
        deadline = time.monotonic() + 400
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            if any(p.poll() not in (None, 0) for p in procs):  # the other worker would wait for it forever
                break
            time.sleep(0.5)
        for p in procs:
            p.kill()
            p.wait()
        if all(p.returncode == 0 for p in procs):
            return [stdout.read_text() for stdout, _ in logs]
        errors = "\n".join(stderr.read_text()[-3000:] for _, stderr in logs)
        if attempt or not any(text in errors.lower() for text in ("in use", "could not start")):
            raise AssertionError(errors)


def _generator_weights(run_dir):
    import keras

    import kitlib.models.layers  # noqa: F401

    model = keras.saving.load_model(run_dir / "export" / "generator_ab.keras", compile=False)
    return model.get_weights()


def test_two_workers_train_and_resume_like_one_process(tmp_path):
    scratch = [tmp_path / "tmp0", tmp_path / "tmp1"]
    for folder in scratch:
        folder.mkdir()
    single = subprocess.Popen([sys.executable, "-c", ON_TWO_LOGICAL_CPUS, *TRAIN[2:], "--out", str(tmp_path / "single"),
                               "--epochs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    run = tmp_path / "cluster"
    try:  # the single process trains while the cluster starts (less waiting on two cores)
        first = _cluster(run, scratch, "--minutes", "0.001")  # the budget is spent before the first step ends
    finally:
        _, single_err = single.communicate(timeout=400)
    assert single.returncode == 0, single_err[-3000:]
    assert f"Run directory: {run}" in first[0] and "Trained as worker 1" in first[1], first
    second = _cluster(run, scratch)  # resumes: the chief from its checkpoint, worker 1 from the chief's values
    assert all("Resuming from step 1 " in out for out in second), second

    assert {p.name for p in run.iterdir()} == EXPECTED  # no lock, no temporary file, nothing of worker 1
    assert [float(line.split(",")[0]) for line in (run / "history.csv").read_text().splitlines()[1:]] == [1, 2]
    assert list(scratch[1].iterdir()) == []  # worker 1 wrote only its temporary folder, and deleted it
    ours, theirs = _generator_weights(run), _generator_weights(tmp_path / "single")
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    assert worst < 1e-6, worst  # 12 steps; found 0 here
