"""CycleGAN's image history pool: junyanz semantics and checkpointable state."""

import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf

from kitlib.train.pool import ImagePool


def _img(value):
    return np.full((1, 2, 2, 3), value, "float32")


def test_pool_fills_then_mixes_history():
    pool = ImagePool(3, (2, 2, 3))
    seeds = keras.random.SeedGenerator(0)
    for v in range(3):  # filling: every new image is returned as is and stored
        out = pool.query(_img(v), seeds)
        assert float(out[0, 0, 0, 0]) == v
    assert int(pool.count.numpy()) == 3
    stored = sorted(float(x) for x in pool.images.numpy()[:, 0, 0, 0])
    assert stored == [0.0, 1.0, 2.0]
    returned = [float(pool.query(_img(10 + k), seeds)[0, 0, 0, 0]) for k in range(40)]
    from_history = [r for k, r in enumerate(returned) if r != 10 + k]
    assert 8 < len(from_history) < 32  # about half of the queries return an older image
    assert all(r <= 10 + k for k, r in enumerate(returned))  # never an image from the future
    assert int(pool.count.numpy()) == 3


def test_pool_size_zero_is_identity():
    pool = ImagePool(0, (2, 2, 3))
    x = tf.constant(_img(5.0))
    assert pool.query(x, keras.random.SeedGenerator(0)) is x


def test_pool_state_round_trips_through_a_checkpoint(tmp_path):
    pool = ImagePool(2, (2, 2, 3))
    pool.query(np.concatenate([_img(1), _img(2)]), keras.random.SeedGenerator(0))
    ckpt = tf.train.Checkpoint(state=pool.variables())
    path = ckpt.write(str(tmp_path / "pool"))
    other = ImagePool(2, (2, 2, 3))
    tf.train.Checkpoint(state=other.variables()).read(path).assert_consumed()
    np.testing.assert_array_equal(other.images.numpy(), pool.images.numpy())
    assert int(other.count.numpy()) == 2


TWO_REPLICAS = """
import keras, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from kitlib.train.pool import ImagePool

batches = np.random.default_rng(0).uniform(-1, 1, (6, 4, 2, 2, 3)).astype("float32")  # 6 global batches of 4


def run(strategy):
    with strategy.scope():
        pool, seeds = ImagePool(3, (2, 2, 3)), keras.random.SeedGenerator(0)
    query = tf.function(lambda x: strategy.run(lambda local: pool.query(local, seeds), args=(x,)))
    out = [np.concatenate([np.asarray(r) for r in strategy.experimental_local_results(query(x))])
           for x in strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(batches))]
    copies = [np.asarray(c) for c in getattr(pool.images, "values", [pool.images])]
    return np.stack(out), copies


one, (one_pool,) = run(tf.distribute.get_strategy())
two, two_pools = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
print(np.array_equal(one, two), all(np.array_equal(one_pool, p) for p in two_pools), len(two_pools))
"""


def test_pool_on_two_replicas_equals_one_device():
    """Each replica queries the pool with the global batch and keeps its rows: the same images out, and every
    replica's copy of the pool equal to one device's (a subprocess: the two logical CPUs precede TensorFlow's start)."""
    done = subprocess.run([sys.executable, "-c", TWO_REPLICAS], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True", "2"], done.stdout
