"""The image history buffer of CycleGAN (Shrivastava et al. 2017), as variables so it is checkpointed."""

from __future__ import annotations

import keras
import tensorflow as tf

from kitlib.train.base import all_replicas, this_replica


class ImagePool:
    """Keeps up to ``pool_size`` generated images; the discriminator sees a mix of new and older fakes.

    Same rule as junyanz's ``ImagePool``: while the pool is filling, each new image is stored and returned; once
    full, with probability 0.5 a stored image is returned and replaced by the new one, otherwise the new image is
    returned. ``pool_size=0`` returns the batch unchanged.

    Several replicas (``tf.distribute``, the pool built in the strategy's scope): every replica gathers the global
    batch, queries the pool with it in order with the same draws (the generator state is mirrored) and so updates its
    copy of the pool identically, then returns its own rows: the images and pool one device holds with that batch.

    Reference: https://arxiv.org/abs/1612.07828 ; https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix

    Args:
        pool_size: capacity.
        image_shape: ``(H, W, C)`` of the images.
        name: variable name prefix.

    Example:
    >>> import numpy as np
    >>> pool = ImagePool(2, (4, 4, 3))
    >>> out = pool.query(np.ones((1, 4, 4, 3), "float32"), keras.random.SeedGenerator(0))
    >>> int(pool.count.numpy())
    1
    """

    def __init__(self, pool_size: int, image_shape: tuple[int, int, int], *, name: str = "pool"):
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0. Received: pool_size={pool_size}")
        self.pool_size = int(pool_size)
        # Plain tf.Variables: updated in place with scatter (no copy of the whole pool per image).
        self.images = tf.Variable(tf.zeros((max(1, pool_size), *image_shape), "float32"), trainable=False,
                                  name=f"{name}_images")
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name=f"{name}_count")

    def variables(self) -> list:
        return [self.images, self.count]

    def query(self, images, seed_generator):
        """Returns a batch of the same shape as ``images`` drawn from the pool history (see class docstring)."""
        if self.pool_size == 0:
            return images
        images = all_replicas(tf.cast(images, "float32"))
        batch = tf.shape(images)[0]  # a tensor under a distribution strategy, whose local batches have no static size
        coins = keras.random.uniform((batch,), seed=seed_generator)
        picks = keras.random.randint((batch,), 0, self.pool_size, seed=seed_generator)

        def one_image(i, out):  # the images in order, each seeing the pool the previous one left
            image = images[i]
            count = self.count.read_value()
            filling = count < self.pool_size
            swap = tf.logical_and(tf.logical_not(filling), coins[i] > 0.5)
            slot = tf.where(filling, count, picks[i])
            old = self.images[slot]
            write = tf.logical_or(filling, swap)
            # scatter_update, not scatter_nd_update: the only in-place row update a mirrored variable has
            self.images.scatter_update(tf.IndexedSlices(tf.where(write, image, old)[None], slot[None]))
            self.count.assign(tf.minimum(count + 1, self.pool_size))
            return i + 1, out.write(i, tf.where(swap, old, image))

        _, out = tf.while_loop(lambda i, _: i < batch, one_image, (tf.constant(0), tf.TensorArray(tf.float32, batch)),
                               parallel_iterations=1)
        return this_replica(tf.ensure_shape(out.stack(), images.shape))
