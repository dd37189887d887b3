"""`python -m kitlib train METHOD` on a cluster of two machines (TF_CONFIG, MultiWorkerMirroredStrategy), played by
two worker processes on this machine (localhost ports). TensorFlow allows one such strategy per process, so each
worker process runs a list of `train` commands one after another (`DRIVER`, calling `kitlib.cli.main`), and the
cluster starts only twice:

1. every method at its tiniest (2 steps of a global batch of 2 at 32 px; CycleGAN 6), DCGAN's run of 4 steps stopped
   by a time budget after its first step, while one process trains the same DCGAN run over two logical CPUs;
2. the DCGAN run resumed (the chief from its checkpoint, worker 1 from the chief's values): its exported generator
   (the weight average) equals that of the one process to the last bit (the same arithmetic: one image per replica,
   gradients and batch-norm sums over both); a DCGAN run whose worker 1 was given another `--batch-size`, refused by
   both workers before a step, naming both values; a DCGAN run whose worker 1 is killed (SIGKILL) after the chief's
   first checkpoint: the chief stops with a message naming worker 1's host:port within `runtime.PEER_LOST_SECONDS`,
   and its checkpoint reads whole.

Then this process (one replica) resumes the two-replica DCGAN run: refused, naming both replica counts.

Measured on the project's 2-core machine (AMD EPYC, uncontended, Keras 3.15 / TF 2.21): 172 s for the whole test
(every method on the cluster, the exact resume, the refusals), worker 1's loss noticed by the chief 10.4 s after the
SIGKILL; under a load average of 8 (other test runs) the first cluster run alone took over 600 s. Most of the time is
tracing each train step under the strategy.

Why the exact comparison is not against a plain one-device run: with Adam, a few GAN steps turn last-bit differences
of the batch-2 kernels into differences of the order of the learning rate (measured after 6 steps: a one-device run
differs from the two-replica runs by 15% of the weights' movement); tests/test_strategy.py checks that a two-replica
step equals the one-device step.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
from PIL import Image

TINY = ["--batch-size", "2", "--precision", "float32"]
TWO_STEPS = [*TINY, "--epochs", "1", "--limit", "5"]  # 5 images: 2 steps of a global batch of 2 (CycleGAN: 6)
EXACT = ["train", "dcgan", *TINY, "--epochs", "2", "--limit", "5", "--out", "dcgan"]  # 4 steps
ON_TWO_LOGICAL_CPUS = """
import sys, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kitlib.cli import main
sys.exit(main(sys.argv[1:]))
"""
DRIVER = """
import json, sys, time
from kitlib.cli import main
for argv in json.loads(sys.argv[1]):
    start = time.monotonic()
    code = main(argv)
    print(f"@@ {argv[1]} {argv[argv.index('--out') + 1]} exit {code} in {time.monotonic() - start:.1f} s", flush=True)
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


class Cluster:
    """Both workers of a two-machine cluster, each running its list of `train` commands (DRIVER)."""

    def __init__(self, tmp_path, name, commands):
        self.hosts = [f"localhost:{p}" for p in _free_ports(2)]
        self.logs = [tmp_path / f"{name}{i}.out" for i in range(2)]
        self.procs = []
        for i, log in enumerate(self.logs):
            scratch = tmp_path / f"tmp{i}"
            scratch.mkdir(exist_ok=True)
            with open(log, "w") as out:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-c", DRIVER, json.dumps(commands[i])], stdout=out, stderr=subprocess.STDOUT,
                    cwd=tmp_path, env=_env(TMPDIR=str(scratch), TF_CONFIG=json.dumps(
                        {"cluster": {"worker": self.hosts}, "task": {"type": "worker", "index": i}}))))

    def wait(self, timeout=1200):
        deadline = time.monotonic() + timeout
        try:
            for p in self.procs:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        return [log.read_text() for log in self.logs]


def _exits(log):
    """`{out: exit code}` of the commands a worker ran."""
    return {line.split()[2]: int(line.split()[4]) for line in log.splitlines() if line.startswith("@@ ")}


def _folders(tmp_path):
    """A GauGAN folder (images/ and labels/) and a pix2pix A|B folder of 5 tiny images each: trained on, they skip
    the toy-data evaluations (label fidelity, inpainting table) that a two-step run does not need."""
    rng = np.random.default_rng(0)
    gaugan, pairs = tmp_path / "gaugan_data", tmp_path / "ab_pairs"
    for folder in (gaugan / "images", gaugan / "labels", pairs):
        folder.mkdir(parents=True)
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(gaugan / "images" / f"{i}.png")
        Image.fromarray(rng.integers(0, 3, (32, 32), dtype=np.uint8)).save(gaugan / "labels" / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)).save(pairs / f"{i}.png")
    return gaugan, pairs


def _generator_weights(run_dir):
    import keras

    import kitlib.models.layers  # noqa: F401

    model = keras.saving.load_model(run_dir / "export" / "generator.keras", compile=False)
    return model.get_weights()


def test_every_method_on_two_workers(tmp_path, capsys):
    from kitlib import methods, recipes, runtime
    from kitlib.cli import main
    from kitlib.train.checkpoint import checkpoint_damage, read_json

    gaugan_data, pairs = _folders(tmp_path)
    data = {"gaugan": ["--data", str(gaugan_data)], "pix2pix": ["--data", str(pairs)]}
    others = [m for m in recipes.trainable() if m != "dcgan"]
    assert {"dcgan", *others} == {m.name for m in methods.all() if m.name in recipes.trainable()}
    every_method = [[*EXACT, "--minutes", "0.001"]]  # the budget is spent before the first step ends
    every_method += [["train", m, "--out", m, *TWO_STEPS, *data.get(m, [])] for m in others]

    started = time.monotonic()
    single = subprocess.Popen([sys.executable, "-c", ON_TWO_LOGICAL_CPUS, *EXACT[:-1], "single"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
    try:  # the single process trains while the cluster starts (less waiting on two cores)
        first = Cluster(tmp_path, "first", [every_method] * 2).wait()
    finally:
        single_out, _ = single.communicate(timeout=1200)
    assert single.returncode == 0, single_out[-3000:]
    for log in first:
        assert _exits(log) == {argv[argv.index("--out") + 1]: 0 for argv in every_method}, log[-5000:]
    assert "Run directory: dcgan" in first[0] and "Trained as worker 1" in first[1], first
    for method in recipes.trainable():  # only the chief wrote, and wrote a whole run; worker 1's folders are gone
        assert EXPECTED <= {p.name for p in (tmp_path / method).iterdir()}, method
        meta = read_json(tmp_path / method / "kitlib_meta.json")
        assert (meta["identity"]["replicas"], meta["identity"]["workers"]) == (2, 2), method
    assert list((tmp_path / "tmp1").iterdir()) == []

    dead = ["train", "dcgan", "--out", "dead", *TINY, "--epochs", "50", "--limit", "5"]
    second = Cluster(tmp_path, "second", [
        [EXACT, ["train", "dcgan", "--out", "refused", *TWO_STEPS, *more], dead]
        for more in ([], ["--batch-size", "4"])])  # worker 1: another global batch (the last option counts)
    while not (tmp_path / "dead" / "kitlib_meta.json").exists():  # the chief's first checkpoint of the DCGAN run
        assert second.procs[0].poll() is None, second.logs[0].read_text()[-5000:]
        time.sleep(0.2)
    killed = time.monotonic()
    os.kill(second.procs[1].pid, signal.SIGKILL)
    chief_log, _ = second.wait(timeout=runtime.PEER_LOST_SECONDS + 60)
    stopped = time.monotonic() - killed
    assert second.procs[0].returncode == 0 and stopped < runtime.PEER_LOST_SECONDS, (stopped, chief_log[-5000:])
    assert _exits(chief_log) == {"dcgan": 0, "refused": 2, "dead": 2}, chief_log[-5000:]
    assert "Resuming from step 1 " in chief_log
    assert f"Lost worker 1 ({second.hosts[1]})" in chief_log, chief_log[-3000:]
    for log in (chief_log, second.logs[1].read_text()):  # both workers refuse, naming both values
        assert f"batch_size: 2 on worker 0 ({second.hosts[0]}) vs 4 on worker 1 ({second.hosts[1]})" in log, log
    assert not (tmp_path / "refused" / "kitlib_meta.json").exists()
    step = read_json(tmp_path / "dead" / "kitlib_meta.json")["step"]  # the chief's last checkpoint reads whole
    assert step >= 2 and checkpoint_damage(str(tmp_path / "dead" / "checkpoints" / f"ckpt-{step}")) is None

    run = tmp_path / "dcgan"
    assert {p.name for p in run.iterdir()} == EXPECTED  # no lock, no temporary file, nothing of worker 1
    assert [float(line.split(",")[0]) for line in (run / "history.csv").read_text().splitlines()[1:]] == [1, 2]
    ours, theirs = _generator_weights(run), _generator_weights(tmp_path / "single")
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    assert worst < 1e-6, worst  # the weight average after 4 steps

    # this process has one replica: resuming the two-replica DCGAN run is refused, naming both counts and the fixes
    assert main([*EXACT[:-1], str(run)]) == 2
    err = capsys.readouterr().err
    assert "trained on 2 replica(s) on 2 machine(s) and this process has 1 replica(s) on 1 machine(s)" in err, err
    assert "KITLIB_ALLOW_REPLICA_CHANGE=1" in err and "--no-resume" in err, err
    print(f"wall time {time.monotonic() - started:.0f} s, worker 1 lost after {stopped:.1f} s")
