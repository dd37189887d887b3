"""kitlib.runtime: profiles, precision/XLA policy, environment checks, report."""

import pytest

from kitlib import runtime


def test_profile_from_environment(monkeypatch):
    monkeypatch.delenv("KITLIB_PROFILE", raising=False)
    monkeypatch.delenv("KITLIB_QUICK", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert runtime.profile() == "demo"
    monkeypatch.setenv("CI", "true")
    assert runtime.profile() == "quick" and runtime.is_quick()
    monkeypatch.delenv("CI")
    monkeypatch.setenv("KITLIB_QUICK", "1")
    assert runtime.pick(quick=1, demo=2, full=3) == 1
    monkeypatch.setenv("KITLIB_PROFILE", "full")
    assert runtime.pick(quick=1, demo=2, full=3) == 3
    assert runtime.pick(quick=1, demo=2) == 2
    monkeypatch.setenv("KITLIB_PROFILE", "huge")
    with pytest.raises(ValueError, match="KITLIB_PROFILE must be one of"):
        runtime.profile()


@pytest.mark.parametrize(
    "kind, bf16, expected",
    [("cuda", False, "mixed_float16"), ("metal", False, "float32"), ("cpu", True, "mixed_bfloat16"), ("cpu", False, "float32")],
)
def test_precision_policy_per_device(kind, bf16, expected):
    device = runtime.Device(kind, ("x",), bf16, ("avx512_bf16",) if bf16 else (), 1 if kind != "cpu" else 0)
    policy, reason = runtime.choose_precision("auto", device)
    assert policy == expected and reason
    assert runtime.choose_precision("float32", device) == ("float32", "asked for explicitly")
    use_xla, _ = runtime.choose_xla("auto", device)
    assert use_xla == (kind == "cuda")


def test_bad_choices_are_named():
    with pytest.raises(ValueError, match="precision must be one of"):
        runtime.choose_precision("fp8")
    with pytest.raises(ValueError, match="xla must be one of"):
        runtime.choose_xla("maybe")


def test_environment_checks(monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    with pytest.raises(RuntimeError, match="TF_USE_LEGACY_KERAS"):
        runtime.check_environment()
    monkeypatch.delenv("TF_USE_LEGACY_KERAS")
    real = runtime._version
    monkeypatch.setattr(runtime, "_version", lambda d: "3.12.0" if d == "keras" else real(d))
    with pytest.raises(RuntimeError, match="Keras >= 3.13"):
        runtime.check_environment()
    monkeypatch.setattr(runtime, "_version", lambda d: {"keras": "3.15.1", "tensorflow": "2.21.0", "tensorflow-metal": "1.2.0"}.get(d))
    with pytest.raises(RuntimeError, match="tensorflow-metal"):
        runtime.check_environment()
    monkeypatch.setattr(runtime, "_version", lambda d: {"keras": "3.15.1", "tensorflow": "2.21.0"}.get(d))
    runtime.check_environment()
    with pytest.raises(RuntimeError, match="tensorboard"):
        runtime.check_environment(tensorboard=True)


def test_setup_and_report():
    import keras

    try:
        choice = runtime.setup(seed=3, precision="float32")
        assert keras.mixed_precision.global_policy().name == "float32"
        text = runtime.report()
        assert "precision" in text and "float32" in text and "keras" in text and choice.seed == 3
        assert '"precision": "float32"' in runtime.report(as_json=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _quiet_env():
    import os

    return {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KITLIB_VERBOSE")}


NP_OBJECT = "exec('hasattr(np, \"object\")', {'__name__': MODULE, 'np': np})"


@pytest.mark.parametrize("module, verbose, fails", [
    ("keras.src.export.tf2onnx_lib", False, False),  # Keras 3.13's import-time check: hidden
    ("keras.src.export.tf2onnx_lib", True, False),   # shown again by verbose() (as a warning, not an error)
    ("some_other_module", False, True),              # the same warning from anywhere else is left alone
])
def test_only_keras_np_object_warning_is_hidden(module, verbose, fails):
    import subprocess
    import sys

    code = (f"import kitlib, numpy as np; MODULE = {module!r}\n"
            + ("kitlib.runtime.verbose()\n" if verbose else "") + NP_OBJECT + "\nprint('imported')")
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code], capture_output=True, text=True,
                          timeout=120, env=_quiet_env())
    assert (done.returncode != 0) == fails, done.stderr
    assert ("np.object" in done.stderr) == (fails or verbose), done.stderr


def test_cluster_task_reads_tf_config(monkeypatch, tmp_path):
    import json
    import pathlib
    import tempfile

    def cluster(task, **hosts):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": hosts, "task": task}))

    cluster({"type": "chief", "index": 0}, chief=["a:1"], worker=["b:1"])
    assert runtime.cluster_task() == ("chief", 0) and runtime.is_chief()
    cluster({"type": "worker", "index": 0}, chief=["a:1"], worker=["b:1"])
    assert not runtime.is_chief()  # with a chief, worker 0 is not the one that writes
    cluster({"type": "worker", "index": 1}, worker=["a:1", "b:1"])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with runtime.worker_run_dir("runs/x") as scratch:
        assert pathlib.Path(scratch).parent == tmp_path and pathlib.Path(scratch).is_dir()
        with runtime.worker_run_dir(scratch) as again:  # Trainer.fit inside the CLI's folder: the same one
            assert again == scratch
    assert list(tmp_path.iterdir()) == [] and not pathlib.Path("runs/x").exists()
    for bad in ("not json", '{"cluster": {"worker": ["a:1"]}}',
                '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
                '{"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}'):
        monkeypatch.setenv("TF_CONFIG", bad)
        with pytest.raises(ValueError, match="TF_CONFIG"):
            runtime.cluster_task()


def test_lost_worker_names_the_machine_from_tensorflows_error(monkeypatch):
    """The three errors measured when a peer of a two-process cluster is killed (SIGKILL) or frozen (SIGSTOP; a
    machine gone without closing its connections) on TF 2.20/2.21; the first line of each, as TensorFlow words it."""
    import json

    import tensorflow as tf

    hosts = {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}
    heartbeats = ("Collective ops is aborted by: Error reported from /job:worker/task:1: The following tasks are "
                  "unhealthy (stopped sending heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have crashed.")
    closed = ("Collective ops is aborted by: Socket closed\nAdditional GRPC error information from remote target "
              "/job:worker/replica:0/task:0 while calling /tensorflow.WorkerService/CompleteInstance")
    deadline = "Collective ops is aborted by: Deadline Exceeded\nRPC: /tensorflow.CoordinationService/Heartbeat"
    for me, error, lost in ((0, tf.errors.UnavailableError(None, None, heartbeats), "worker 1 (10.0.0.2:2222)"),
                            (1, tf.errors.UnavailableError(None, None, closed), "worker 0 (10.0.0.1:2222)"),
                            (1, tf.errors.DeadlineExceededError(None, None, deadline), "worker 0 (10.0.0.1:2222)")):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": hosts, "task": {"type": "worker", "index": me}}))
        message = runtime.lost_worker(error)
        assert message.startswith(f"Lost {lost} of the cluster") and "run the same command on every machine" in message
        assert f"so worker {me} " in message, message
    assert runtime.lost_worker(ValueError("batch_size")) is None  # any other error stays as it is
    monkeypatch.delenv("TF_CONFIG")
    assert runtime.lost_worker(tf.errors.UnavailableError(None, None, heartbeats)) is None  # one machine
