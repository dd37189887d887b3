"""The one pair of image-range converters: uint8 ``[0, 255]`` <-> float32 ``[-1, 1]`` (the GAN convention).

Every kitlib module that converts between the two ranges calls these (bottom layer: no kitlib imports, TensorFlow
imported only when a tensor is given). Both accept numpy arrays (or anything ``numpy.asarray`` takes) and TensorFlow
tensors (eager or inside ``tf.data``/``tf.function``) and return the same kind they were given.

Example:
>>> import numpy as np
>>> to_float(np.array([0, 255], np.uint8)).tolist()
[-1.0, 1.0]
>>> to_uint8(np.array([-1.0, 0.0, 1.0, 2.0])).tolist()
[0, 128, 255, 255]
"""

from __future__ import annotations

import numpy as np


def _is_tensor(images) -> bool:
    return type(images).__module__.startswith("tensorflow")


def to_float(images):
    """uint8 ``[0, 255]`` -> float32 ``[-1, 1]``; float inputs are taken to be in ``[-1, 1]`` already (cast only).

    Args:
        images: uint8 or float images of any shape (numpy array, list, or TensorFlow tensor).

    Returns:
        float32 images of the same shape and kind (numpy in, numpy out; tensor in, tensor out).

    Example:
    >>> float(to_float(np.full((1, 2, 2, 3), 255, np.uint8)).max())
    1.0
    """
    if _is_tensor(images):
        import tensorflow as tf

        if images.dtype == tf.uint8:
            return tf.cast(images, tf.float32) / 127.5 - 1.0
        return tf.cast(images, tf.float32)
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr.astype("float32") / 127.5 - 1.0
    return arr.astype("float32")


def to_uint8(images):
    """float ``[-1, 1]`` -> uint8 ``[0, 255]``, rounded and clipped; uint8 inputs are returned unchanged.

    Args:
        images: float or uint8 images of any shape (numpy array, list, or TensorFlow tensor).

    Returns:
        uint8 images of the same shape and kind (numpy in, numpy out; tensor in, tensor out).

    Example:
    >>> to_uint8([[-1.0, 1.0]]).dtype.name
    'uint8'
    """
    if _is_tensor(images):
        import tensorflow as tf

        if images.dtype == tf.uint8:
            return images
        return tf.cast(tf.clip_by_value(tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5), 0, 255), tf.uint8)
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr
    return np.clip(np.round((arr.astype("float32") + 1.0) * 127.5), 0, 255).astype(np.uint8)


def from_pixels(images):
    """Pixel values in ``[0, 255]`` (uint8, or floats such as a resized image's) -> float32 ``[-1, 1]``.

    ``to_float`` takes floats to be in ``[-1, 1]`` already; this one is for floats still on the pixel scale.

    Example:
    >>> from_pixels(np.array([0.0, 127.5, 255.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    if _is_tensor(images):
        import tensorflow as tf

        return tf.cast(images, tf.float32) / 127.5 - 1.0
    return np.asarray(images, dtype="float32") / 127.5 - 1.0


__all__ = ["from_pixels", "to_float", "to_uint8"]
