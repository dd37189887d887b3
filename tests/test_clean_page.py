"""A clean page: no TensorFlow C++ log lines by default, and no Grappler remapper error from LeakyReLU gradients."""

import os
import subprocess
import sys

import numpy as np
import pytest

from kitlib import runtime

TRAIN_STEP = """
import kitlib, keras, numpy as np
from kitlib.models.layers import LeakyReLU, NearestUpSampling2D
model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 4, strides=2, padding="same"),
                          LeakyReLU(0.3), NearestUpSampling2D(2), keras.layers.Flatten(), keras.layers.Dense(1)])
model.compile("adam", "mse")
model.fit(np.zeros((4, 16, 16, 3)), np.zeros((4, 1)), verbose=0)
print("trained")
"""
SPADE_STEP = """
import kitlib, keras, tensorflow as tf
from kitlib.models.spade import SPADEResBlock
x, segmap = keras.Input((8, 8, 16)), keras.Input((8, 8, 3))
model = keras.Model([x, segmap], SPADEResBlock(8, hidden=8)([x, segmap]))
optimizer = keras.optimizers.Adam()


@tf.function  # a plain train step as in GauGAN (the same block under model.fit did not show the error)
def step(x, segmap):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model([x, segmap], training=True) ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))


step(tf.random.normal((2, 8, 8, 16)), tf.random.normal((2, 8, 8, 3)))
print("trained")
"""


def _run(code, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KITLIB_VERBOSE")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240,
                          env={**environ, **env})


def test_stderr_filter_drops_info_lines_and_keeps_errors(capfd):
    with runtime._stderr_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"I0000 00:00:1796236475.688925   10552 port.cc:153] oneDNN custom operations are on.\n"
                    b"W0000 00:00:1796236475.7   10552 cpu_feature_guard.cc:227] note\n"
                    b"E0000 00:00:1796236475.8   10552 real.cc:1] a real error\n")
    err = capfd.readouterr().err
    assert err == "E0000 00:00:1796236475.8   10552 real.cc:1] a real error\n"


@pytest.mark.parametrize("code", [TRAIN_STEP, SPADE_STEP], ids=["conv_leaky_relu_upsampling", "spade_block"])
def test_training_step_prints_no_tensorflow_log_lines(code):
    """kitlib imported first: TensorFlow's start-up lines are filtered; a conv + bias + LeakyReLU training step, and
    a SPADE block (its ``x * (1 + gamma) + beta`` feeds a LeakyReLU), no longer make Grappler's remapper fail
    (keras.layers.LeakyReLU, ops.leaky_relu: `E0000 ... remapper failed`); nearest upsampling no longer prints
    `E0000 ... oneDNN supports DT_INT32 only ...` (keras.layers.UpSampling2D does)."""
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert "trained" in done.stdout
    noisy = [line for line in done.stderr.splitlines() if line[:5] in ("I0000", "W0000", "E0000") or "remapper" in line]
    assert noisy == [], done.stderr


def test_verbose_switch_leaves_tensorflow_alone():
    done = _run("import kitlib, os, sys; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), "
                "any(type(f).__name__ == '_QuietImport' for f in sys.meta_path))", KITLIB_VERBOSE="1")
    assert done.stdout.split() == ["None", "False"], done.stderr
    quiet = _run("import kitlib, os, sys; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), "
                 "any(type(f).__name__ == '_QuietImport' for f in sys.meta_path))")
    assert quiet.stdout.split() == ["2", "True"], quiet.stderr


@pytest.mark.parametrize("slope", [0.0, 0.2, 0.3])
def test_leaky_relu_equals_keras(slope):
    import keras
    import tensorflow as tf

    from kitlib.models.layers import LeakyReLU

    x = tf.constant(np.random.default_rng(0).normal(size=(2, 5, 5, 3)).astype("float32"))
    ours, theirs = LeakyReLU(slope), keras.layers.LeakyReLU(slope)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_ours, y_theirs = ours(x), theirs(x)
        loss_ours, loss_theirs = tf.reduce_sum(y_ours * x), tf.reduce_sum(y_theirs * x)
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.numpy())
    np.testing.assert_array_equal(tape.gradient(loss_ours, x).numpy(), tape.gradient(loss_theirs, x).numpy())
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert type(again) is LeakyReLU and again.negative_slope == slope


@pytest.mark.parametrize("size", [(2, 2), (2, 3)])
def test_nearest_upsampling_equals_keras(size):
    import keras
    import tensorflow as tf

    from kitlib.models.layers import NearestUpSampling2D

    x = tf.constant(np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype("float32"))
    ours, theirs = NearestUpSampling2D(size), keras.layers.UpSampling2D(size)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_ours, y_theirs = ours(x), theirs(x)
        weights = tf.constant(np.random.default_rng(2).normal(size=y_ours.shape).astype("float32"))
        loss_ours, loss_theirs = tf.reduce_sum(y_ours * weights), tf.reduce_sum(y_theirs * weights)
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.numpy())
    np.testing.assert_allclose(tape.gradient(loss_ours, x).numpy(), tape.gradient(loss_theirs, x).numpy(), rtol=1e-5, atol=1e-6)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert type(again) is NearestUpSampling2D and again.size == size
    assert ours.compute_output_shape((None, 3, 4, 5)) == (None, 6, 4 * size[1], 5)
