"""CycleGAN's image history pool: junyanz semantics and checkpointable state."""

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
