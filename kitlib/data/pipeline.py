"""``prepare``: the one way kitlib turns decoded images into training batches.

Order: (decoded uint8 images) -> cache -> repeat -> seeded shuffle -> stateless augmentation -> float [-1, 1] ->
batch -> prefetch. The stream is infinite and a pure function of ``seed``: re-creating it and skipping ``k``
batches gives exactly the batches a run saw after step ``k``, which is how ``GANTrainer.fit`` resumes mid-epoch.
Shuffling after ``repeat`` without per-iteration reshuffling keeps that property (a reshuffling ``shuffle`` draws
a new order each time an iterator is made, so its order depends on the process history); each image still comes
once per pass up to the shuffle buffer's blur at pass boundaries.

Example:
>>> import numpy as np, tensorflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(np.zeros((10, 8, 8, 3), np.uint8))
>>> batches = prepare(ds, 4, seed=0)
>>> batches.steps_per_epoch, tuple(next(iter(batches)).shape)
(2, (4, 8, 8, 3))
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import tensorflow as tf


def to_float(images):
    """uint8 [0, 255] -> float32 [-1, 1] (tf tensors or numpy arrays)."""
    if isinstance(images, np.ndarray):
        return images.astype("float32") / 127.5 - 1.0
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255], rounded and clipped (tf tensors or numpy arrays)."""
    if isinstance(images, np.ndarray):
        return np.clip(np.round((images.astype("float32") + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return tf.cast(tf.clip_by_value(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), 0, 255), tf.uint8)


def _images_to_float(element):
    """Converts every uint8 HWC image of an element (tensor, tuple or dict) to float32 [-1, 1]; leaves the rest."""
    def convert(t):
        return to_float(t) if t.dtype == tf.uint8 and t.shape.rank == 3 else t

    return tf.nest.map_structure(convert, element)


def prepare(ds: tf.data.Dataset, batch_size: int, *, seed: int = 0, shuffle: bool = True,
            augment: Callable[[Any, tf.Tensor], Any] | None = None, cache: bool = True,
            shuffle_buffer: int = 2048) -> tf.data.Dataset:
    """Caches, repeats, shuffles (seeded), augments (stateless), converts to [-1, 1], batches and prefetches.

    Args:
        ds: an UNBATCHED dataset of uint8 HWC images, or of tuples/dicts containing them (paired data, labels).
            uint8 rank-3 tensors become float32 in [-1, 1]; other components (label maps, ints) pass unchanged.
        batch_size: images per batch.
        seed: the seed of the shuffle and of every augmentation.
        shuffle: shuffle with a buffer of ``shuffle_buffer`` (False keeps the order, e.g. for evaluation).
        augment: ``augment(element, seed) -> element`` using stateless random ops only (``seed`` is a shape-[2]
            int32 tensor unique to each element of the stream), e.g. ``kitlib.data.jitter(image_size)``.
        cache: cache the decoded uint8 elements in memory.

    Returns:
        An infinite ``tf.data.Dataset`` of full batches (static batch size; a batch may straddle two passes) with
        an attribute ``steps_per_epoch`` (whole batches per pass) when the input size is known; pass it to
        ``trainer.fit`` as is.
    """
    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(f"prepare expects an unbatched tf.data.Dataset. Received: {type(ds).__name__}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    count = int(ds.cardinality())
    if count == 0:
        raise ValueError("The dataset is empty: check the folder or the loader's filters (limit=, min_size=).")
    if 0 < count < batch_size:
        raise ValueError(f"The dataset has {count} images, fewer than one batch of {batch_size}. "
                         f"Use batch_size <= {count} or add images.")
    if cache:
        ds = ds.cache()
    ds = ds.repeat()
    if shuffle:
        buffer = max(1, min(shuffle_buffer, count) if count > 0 else shuffle_buffer)
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=False)
    if augment is not None:
        counter = tf.data.Dataset.counter(dtype=tf.int64)
        ds = tf.data.Dataset.zip((ds, counter))

        def apply(element, k):
            element_seed = tf.stack([tf.constant(seed % (2**31), tf.int64), k])
            return augment(element, tf.cast(element_seed % (2**31 - 1), tf.int32))

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(_images_to_float, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    if count > 0:
        ds.steps_per_epoch = count // batch_size
    return ds
