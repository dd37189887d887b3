"""``prepare``: the one way kitlib turns decoded images into training batches.

Order: (decoded, resized uint8 images) -> cache -> repeat -> seeded shuffle -> stateless augmentation ->
batch -> float [-1, 1] -> prefetch. The decoded images are cached in memory when they fit a memory budget
(``KITLIB_CACHE_MB``, default a quarter of the machine's RAM); a larger folder is streamed instead (decoded again on
every pass, in the same order), so a dataset of any size trains with the same batches and the same exact resume. By default the stream is infinite and a pure function of ``seed``: re-creating
it and skipping ``k`` batches gives exactly the batches a run saw after step ``k``, which is how ``GANTrainer.fit``
resumes mid-epoch. Shuffling after ``repeat`` without per-iteration reshuffling keeps that property (a reshuffling
``shuffle`` draws a new order each time an iterator is made, so its order depends on the process history); each
image still comes once per pass up to the shuffle buffer's blur at pass boundaries.

Example:
>>> import numpy as np, tensorflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(np.zeros((10, 8, 8, 3), np.uint8))
>>> batches = prepare(ds, 4, seed=0)
>>> batches.steps_per_epoch, tuple(next(iter(batches)).shape)
(2, (4, 8, 8, 3))
"""

from __future__ import annotations

from typing import Any, Callable

import os

import tensorflow as tf

from kitlib.images import to_float, to_uint8  # noqa: F401  (re-exported: data.to_float, data.to_uint8)


def _images_to_float(*batch):
    """Converts every uint8 NHWC image batch of a batched element (tensor, tuple or dict) to float32 [-1, 1];
    leaves the rest (label maps NHW, ints) unchanged. (tf.data passes tuple components as separate arguments.)"""
    def convert(t):
        return to_float(t) if t.dtype == tf.uint8 and t.shape.rank == 4 else t

    return tf.nest.map_structure(convert, batch[0] if len(batch) == 1 else batch)


def memory_budget_mb() -> float:
    """The in-memory cache budget of ``prepare``: ``KITLIB_CACHE_MB``, else a quarter of the physical RAM.

    >>> memory_budget_mb() > 0
    True
    """
    value = os.environ.get("KITLIB_CACHE_MB", "").strip()
    if value:
        try:
            budget = float(value)
        except ValueError:
            budget = -1.0
        if budget < 0:
            raise ValueError(f"KITLIB_CACHE_MB must be a number of megabytes >= 0. Received: {value!r}")
        return budget
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 4 / 2**20


def decoded_mb(ds: tf.data.Dataset) -> float | None:
    """Megabytes the elements of a finite dataset of fixed-shape tensors take decoded (None when unknown)."""
    count = int(ds.cardinality())
    specs = [s for s in tf.nest.flatten(ds.element_spec) if isinstance(s, tf.TensorSpec)]
    if count < 0 or any(not s.shape.is_fully_defined() for s in specs):
        return None
    return count * sum(s.shape.num_elements() * s.dtype.size for s in specs) / 2**20


def prepare(ds: tf.data.Dataset, batch_size: int, *, seed: int = 0, shuffle: bool = True,
            augment: Callable[[Any, tf.Tensor], Any] | None = None, repeat: bool = True,
            drop_remainder: bool = True, cache: bool | str = "auto", shuffle_buffer: int = 2048) -> tf.data.Dataset:
    """Caches, repeats, shuffles (seeded), augments (stateless), converts to [-1, 1], batches and prefetches.

    Determinism: with ``repeat=True`` (training) the batch stream is a pure function of the input data and
    ``seed`` (and of the global TF seed that ``kitlib.runtime.setup`` sets): re-creating it and skipping ``k``
    batches gives exactly the batches after step ``k``. Augmentation receives a per-element seed
    ``(seed, k)`` where ``k`` counts elements of the stream after shuffling, so it must use stateless random ops
    only (``kitlib.data.jitter`` does). Nothing random is ever cached.

    Args:
        ds: an UNBATCHED dataset of uint8 HWC images, or of tuples/dicts containing them (paired data, labels).
            uint8 rank-3 tensors become float32 in [-1, 1]; other components (label maps, ints) pass unchanged.
        batch_size: images per batch.
        seed: the seed of the shuffle and of every augmentation.
        shuffle: shuffle with a buffer of ``shuffle_buffer`` (False keeps the order, e.g. for evaluation).
        augment: ``augment(element, seed) -> element`` using stateless random ops only (``seed`` is a shape-[2]
            int32 tensor unique to each element of the stream), e.g. ``kitlib.data.jitter(image_size)``. Needed
            when the images have different sizes (``image_folder(crop="random")``): it must crop them to one size.
        repeat: True (default): an infinite stream carrying ``steps_per_epoch``, for ``trainer.fit``. False: one
            pass over the data (evaluation, benchmarks, plain ``keras.Model.fit``), reshuffled each time it is
            iterated again; its first iteration is a pure function of ``seed``.
        drop_remainder: with ``repeat=False``, drop the last partial batch (an infinite stream has only full
            batches; a batch may straddle two passes).
        cache: ``"auto"`` (default): cache the decoded uint8 elements in memory (before any random op) when they
            fit ``memory_budget_mb()`` (or their size is unknown), else stream them from the source on every pass;
            True/False: always/never cache. The batches are the same either way.
        shuffle_buffer: shuffle buffer size (capped at the number of images).

    Returns:
        A ``tf.data.Dataset`` of batches with an attribute ``steps_per_epoch`` (batches per pass) when the input
        size is known, and ``cached`` (whether the decoded images are held in memory); pass it to ``trainer.fit``.

    Example:
    >>> from kitlib import data
    >>> batches = prepare(data.toy.faces(32, 32), 8, seed=0, augment=data.jitter(32))
    >>> batches.steps_per_epoch, tuple(next(iter(batches)).shape)
    (4, (8, 32, 32, 3))
    """
    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(f"prepare expects an unbatched tf.data.Dataset. Received: {type(ds).__name__}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    if int(shuffle_buffer) < 1:
        raise ValueError(f"shuffle_buffer must be >= 1. Received: shuffle_buffer={shuffle_buffer}")
    batch_size = int(batch_size)
    spec = ds.element_spec
    if augment is None and any(s.shape.rank is None or not s.shape.is_fully_defined()
                               for s in tf.nest.flatten(spec) if isinstance(s, tf.TensorSpec)):
        raise ValueError(f"The images have no fixed size (element_spec={spec}), so they cannot be batched. "
                         "Load them with a fixed image_size, or pass augment=data.jitter(image_size, scale=1.0) "
                         "to crop them to one size.")
    count = int(ds.cardinality())
    if count == 0:
        raise ValueError("The dataset is empty: check the folder or the loader's filters (limit=, min_size=).")
    if 0 < count < batch_size and (repeat or drop_remainder):
        raise ValueError(f"The dataset has {count} images, fewer than one batch of {batch_size}. "
                         f"Use batch_size <= {count} or add images.")
    if cache not in (True, False, "auto"):
        raise ValueError(f"cache must be True, False or 'auto'. Received: cache={cache!r}")
    if cache == "auto":
        size = decoded_mb(ds)
        cache = size is None or size <= memory_budget_mb()
    if cache:
        ds = ds.cache()
    buffer = max(1, min(int(shuffle_buffer), count) if count > 0 else int(shuffle_buffer))
    if repeat:
        ds = ds.repeat()
        if shuffle:
            ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=False)
    elif shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        counter = tf.data.Dataset.counter(dtype=tf.int64)
        ds = tf.data.Dataset.zip((ds, counter))
        base = tf.constant(int(seed) % (2**31 - 1), tf.int64)

        def apply(element, k):
            return augment(element, tf.cast(tf.stack([base, k % (2**31 - 1)]), tf.int32))

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=bool(repeat or drop_remainder))
    ds = ds.map(_images_to_float, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)  # one op per batch
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds.cached = bool(cache)
    if count > 0:
        full, rest = divmod(count, batch_size)
        ds.steps_per_epoch = full + (1 if rest and not repeat and not drop_remainder else 0)
    return ds
