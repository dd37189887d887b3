"""kitlib.train.optimizers.FusedAdam == keras.optimizers.Adam (one fused kernel per variable)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib.train.optimizers import FusedAdam
from kitlib.train.schedules import LinearDecay


def _train(optimizer, steps=6):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32"), name=f"w{i}")
                 for i, shape in enumerate([(3, 4), (5,), (2, 2, 3)])]
    grads = [[rng.normal(size=v.shape).astype("float32") for v in variables] for _ in range(steps)]

    @tf.function
    def step(g):
        optimizer.apply(g, variables)

    for g in grads:
        step(g)
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 1e-2, "beta_1": 0.5},                                          # the GAN trainers' setting
    {"learning_rate": LinearDecay(1e-2, 2, 3), "beta_1": 0.0, "beta_2": 0.9},        # GauGAN's TTUR + decay
    {"learning_rate": 1e-3, "weight_decay": 0.01, "epsilon": 1e-3},                  # AdamW (diffusion)
    {"learning_rate": 1e-2, "amsgrad": True},                                        # Keras code path
])
def test_fused_adam_equals_keras_adam(kwargs):
    ours, reference = _train(FusedAdam(**kwargs)), _train(keras.optimizers.Adam(**kwargs))
    assert len(ours) == len(reference)  # same slots: iterations, momentums, velocities (+ v_hat)
    for got, expected in zip(ours, reference):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_fused_adam_uses_one_kernel_per_variable():
    variables = [keras.Variable(np.ones((4, 4), "float32")), keras.Variable(np.ones(3, "float32"))]
    opt = FusedAdam(1e-3)
    opt.build(variables)
    graph = tf.function(lambda g: opt.apply(g, variables)).get_concrete_function(
        [tf.TensorSpec((4, 4)), tf.TensorSpec((3,))]).graph
    assert [op.type for op in graph.get_operations()].count("ResourceApplyAdam") == 2


def test_fused_adam_config_round_trip_and_loss_scaling():
    opt = FusedAdam(2e-4, beta_1=0.5)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(restored, FusedAdam) and restored.get_config() == opt.get_config()
    # under float16 the trainers wrap it in a LossScaleOptimizer: the update divides the scale back out
    variable = keras.Variable(np.ones(2, "float32"))
    scaled = keras.optimizers.LossScaleOptimizer(FusedAdam(0.1), initial_scale=8.0)
    scaled.apply([np.full(2, 8.0 * 2.0, "float32")], [variable])
    np.testing.assert_allclose(variable.numpy(), 0.9, rtol=1e-5)  # Adam's first step moves by lr


MIRRORED = """
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from kitlib.train.optimizers import FusedAdam
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
weights = []
for cls in (FusedAdam, keras.optimizers.Adam):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
        model.compile(optimizer=cls(1e-2), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, np.ones((8, 2), "float32"), batch_size=4, epochs=2, verbose=0)
    weights.append([w.numpy() for w in model.weights])
assert strategy.num_replicas_in_sync == 2
print(max(float(np.max(np.abs(a - b))) for a, b in zip(*weights)))
"""


def test_fused_adam_under_mirrored_strategy_equals_keras_adam():
    """Two logical CPUs (set before TensorFlow starts, hence a subprocess): each replica updates its own copy."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 1e-5
