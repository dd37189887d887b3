"""Stateless, seeded augmentation: pix2pix/CycleGAN random jitter (pipeline side) and DiffAugment (train-step side).

Every op here takes an explicit seed (a shape-``[2]`` integer tensor) and uses only stateless random ops, so the
same seed always gives the same transform: ``kitlib.data.prepare`` hands each element of its stream a seed made of
``(seed, element_counter)``, which keeps the augmented stream a pure function of the pipeline seed (exact resume).

Example:
>>> import numpy as np, tensorflow as tf
>>> image = tf.zeros((32, 32, 3), tf.uint8)
>>> tuple(random_jitter(image, tf.constant([0, 1]), image_size=32).shape)
(32, 32, 3)
>>> augment = jitter(32)          # for prepare(ds, 16, augment=augment)
"""

from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf

DIFF_AUGMENT_OPS = ("color", "translation", "cutout")


def _as_seed(seed) -> tf.Tensor:
    """A shape-[2] int32 seed from a Python int (``[seed, 0]``) or a shape-[2] integer tensor."""
    if isinstance(seed, int):
        return tf.constant([seed % (2**31 - 1), 0], tf.int32)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank != 1 or (seed.shape[0] is not None and seed.shape[0] != 2):
        raise ValueError(f"seed must be an int or a shape-[2] integer tensor. Received shape {seed.shape}")
    return tf.cast(seed, tf.int32) if seed.dtype not in (tf.int32, tf.int64) else seed


def _split(seed: tf.Tensor, num: int) -> list[tf.Tensor]:
    """``num`` independent shape-[2] seeds derived from ``seed``."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, num=num))


def _is_image(t) -> bool:
    """Images (HWC) and label maps (HW) are transformed; scalars, vectors and strings pass through."""
    return isinstance(t, tf.Tensor) and t.shape.rank in (2, 3) and t.dtype != tf.string


def random_jitter(element: Any, seed, *, image_size: int, scale: float = 286 / 256, flip: bool = True,
                  resize: bool = True) -> Any:
    """pix2pix/CycleGAN random jitter: upscale by ``scale`` (nearest), random crop back, random horizontal flip.

    All images of a tuple/dict element (an input and its target, an image and its label map) are stacked along
    the channels and get exactly the same resize, crop and flip, so pairs stay aligned and label ids stay valid
    (nearest-neighbour resizing never invents values). The shorter side is resized to
    ``round(image_size * scale)`` keeping the aspect ratio (286 for 256 as in the papers; 1.0 gives a plain random
    square crop of a non-square image, see ``image_folder(crop="random")``).

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks" (2017),
        https://arxiv.org/abs/1611.07004 (section 6.2: resize to 286, random crop to 256, mirroring).

    Args:
        element: an image ``(H, W, C)``, a label map ``(H, W)``, or a tuple/dict of them (same ``H, W``).
            Other components (scalars, vectors) are returned unchanged.
        seed: shape-``[2]`` integer tensor (or a Python int): the same seed gives the same transform.
        image_size: output height and width.
        scale: upscaling factor before the crop, ``>= 1``.
        flip: also flip left-right with probability 1/2.
        resize: False crops ``image_size`` windows from the images at their own scale (``scale`` unused): training
            on patches of large images, e.g. 64-px windows of 256-px paintings, keeps their brush scale.

    Returns:
        The element with the same structure and dtypes, images ``(image_size, image_size, C)``.

    Example:
    >>> a = tf.random.uniform((64, 64, 3), maxval=255, dtype=tf.int32)
    >>> a = tf.cast(a, tf.uint8)
    >>> x, y = random_jitter((a, a), tf.constant([1, 2]), image_size=64)
    >>> bool(tf.reduce_all(x == y))
    True
    """
    image_size = int(image_size)
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1. Received: image_size={image_size}")
    if not scale >= 1.0:
        raise ValueError(f"scale must be >= 1 (upscale, then crop back). Received: scale={scale}")
    seed = _as_seed(seed)
    flat = tf.nest.flatten(element)
    picks = [i for i, t in enumerate(flat) if _is_image(t)]
    if not picks:
        raise ValueError("random_jitter found no image (rank-2 or rank-3 tensor) in the element. "
                         f"Received: {tf.nest.map_structure(lambda t: getattr(t, 'shape', t), element)}")
    static = {tuple(flat[i].shape[:2]) for i in picks}
    if len(static) > 1 and all(None not in hw for hw in static):
        raise ValueError(f"All images of an element must have the same height and width. Received {sorted(static)}")
    # Resize (nearest), crop and flip are one index mapping: two gathers per image, the same for all images.
    shape = tf.shape(flat[picks[0]])
    h, w = shape[0], shape[1]
    if resize:
        big = max(image_size, int(round(image_size * scale)))
        ratio = float(big) / tf.cast(tf.minimum(h, w), tf.float32)
        new_h = tf.maximum(big, tf.cast(tf.round(tf.cast(h, tf.float32) * ratio), tf.int32))
        new_w = tf.maximum(big, tf.cast(tf.round(tf.cast(w, tf.float32) * ratio), tf.int32))
    else:
        tf.debugging.assert_greater_equal(tf.minimum(h, w), image_size,
                                          message=f"random_jitter(resize=False): images smaller than {image_size}")
        new_h, new_w = h, w
    u = tf.random.stateless_uniform([3], seed)
    top = tf.minimum(tf.cast(u[0] * tf.cast(new_h - image_size + 1, tf.float32), tf.int32), new_h - image_size)
    left = tf.minimum(tf.cast(u[1] * tf.cast(new_w - image_size + 1, tf.float32), tf.int32), new_w - image_size)
    rows = top + tf.range(image_size)
    cols = left + tf.range(image_size)
    if flip:
        cols = tf.where(u[2] < 0.5, tf.reverse(cols, [0]), cols)

    def source(index, size, new_size):  # nearest neighbour with half-pixel centres, as tf.image.resize
        pos = (tf.cast(index, tf.float32) + 0.5) * tf.cast(size, tf.float32) / tf.cast(new_size, tf.float32)
        return tf.minimum(tf.cast(tf.floor(pos), tf.int32), size - 1)

    src_rows, src_cols = source(rows, h, new_h), source(cols, w, new_w)
    for i in picks:
        out = tf.gather(tf.gather(flat[i], src_rows, axis=0), src_cols, axis=1)
        out.set_shape([image_size, image_size] + flat[i].shape[2:].as_list())
        flat[i] = out
    return tf.nest.pack_sequence_as(element, flat)


def jitter(image_size: int, *, scale: float = 286 / 256, flip: bool = True,
           resize: bool = True) -> Callable[[Any, tf.Tensor], Any]:
    """``random_jitter`` with fixed settings, as an ``augment(element, seed)`` callable for ``prepare``.

    Args:
        image_size: output height and width.
        scale: upscaling factor before the random crop (``1.0``: crop only).
        flip: random horizontal flips.
        resize: False: random ``image_size`` windows of the images at their own scale (see ``random_jitter``).

    Returns:
        A function ``augment(element, seed) -> element``.

    Example:
    >>> from kitlib import data
    >>> batches = data.prepare(data.toy.faces(32, 32), 8, augment=jitter(32))
    """
    image_size = int(image_size)
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1. Received: image_size={image_size}")
    if not scale >= 1.0:
        raise ValueError(f"scale must be >= 1 (upscale, then crop back). Received: scale={scale}")

    def augment(element, seed):
        return random_jitter(element, seed, image_size=image_size, scale=scale, flip=flip, resize=resize)

    return augment


# ------------------------------------------------------------------------------------------------- DiffAugment
def _uniform(shape, seed, dtype, low=0.0, high=1.0):
    return tf.cast(tf.random.stateless_uniform(shape, seed, minval=low, maxval=high), dtype)


def _color(x, seed):
    """Brightness +U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5) (per image)."""
    b = tf.shape(x)[0]
    s1, s2, s3 = _split(seed, 3)
    x = x + _uniform([b, 1, 1, 1], s1, x.dtype, -0.5, 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * _uniform([b, 1, 1, 1], s2, x.dtype, 0.0, 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _uniform([b, 1, 1, 1], s3, x.dtype, 0.5, 1.5) + mean


def _translation(x, seed, ratio=0.125):
    """Shifts each image by up to ``ratio`` of its size in x and y, filling with zeros (grey in [-1, 1])."""
    b, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    shift_h = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    shift_w = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    s1, s2 = _split(seed, 2)
    ty = tf.random.stateless_uniform([b, 1], s1, minval=-shift_h, maxval=shift_h + 1, dtype=tf.int32)
    tx = tf.random.stateless_uniform([b, 1], s2, minval=-shift_w, maxval=shift_w + 1, dtype=tf.int32)
    rows = tf.clip_by_value(tf.range(h)[None] + ty + 1, 0, h + 1)  # index into a zero-padded image
    cols = tf.clip_by_value(tf.range(w)[None] + tx + 1, 0, w + 1)
    x = tf.gather(tf.pad(x, [[0, 0], [1, 1], [0, 0], [0, 0]]), rows, axis=1, batch_dims=1)
    return tf.gather(tf.pad(x, [[0, 0], [0, 0], [1, 1], [0, 0]]), cols, axis=2, batch_dims=1)


def _cutout(x, seed, ratio=0.5):
    """Zeroes one square of ``ratio`` x size per image at a random centre (it may stick out of the image)."""
    b, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    size_h = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    size_w = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    s1, s2 = _split(seed, 2)
    cy = tf.random.stateless_uniform([b, 1, 1], s1, minval=0, maxval=h + (1 - size_h % 2), dtype=tf.int32)
    cx = tf.random.stateless_uniform([b, 1, 1], s2, minval=0, maxval=w + (1 - size_w % 2), dtype=tf.int32)
    top, left = cy - size_h // 2, cx - size_w // 2
    rows = tf.range(h)[None, :, None]
    cols = tf.range(w)[None, None, :]
    inside = (rows >= top) & (rows < top + size_h) & (cols >= left) & (cols < left + size_w)
    return x * tf.cast(~inside, x.dtype)[..., None]


def diff_augment(images, seed, policy: str = "color,translation,cutout"):
    """DiffAugment: differentiable colour, translation and cutout augmentation of a batch (real and fake alike).

    Applied to both real and generated images right before the discriminator (in the D and G steps), it lets
    GANs train on a few hundred images without the discriminator memorising them. Values are not clipped (as in
    the paper): colour jitter can leave [-1, 1]. Gradients flow to the input images through every op.

    Reference:
        Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training" (NeurIPS 2020),
        https://arxiv.org/abs/2006.10738 (official code: https://github.com/mit-han-lab/data-efficient-gans).

    Args:
        images: float ``(B, H, W, C)`` batch in [-1, 1].
        seed: shape-``[2]`` integer tensor (or Python int); draw a fresh one per call in a train step.
        policy: comma-separated subset of ``"color"``, ``"translation"``, ``"cutout"`` (``""``: identity).

    Returns:
        The augmented batch, same shape and dtype.

    Example:
    >>> x = tf.zeros((4, 32, 32, 3))
    >>> tuple(diff_augment(x, tf.constant([0, 1])).shape)
    (4, 32, 32, 3)
    """
    ops = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in ops if p not in DIFF_AUGMENT_OPS]
    if unknown:
        raise ValueError(f"policy must be a comma-separated subset of {', '.join(DIFF_AUGMENT_OPS)}. "
                         f"Received: policy={policy!r}")
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"diff_augment expects a (B, H, W, C) batch. Received shape {images.shape}")
    if not images.dtype.is_floating:
        raise ValueError(f"diff_augment expects float images in [-1, 1] (use data.to_float). "
                         f"Received dtype {images.dtype.name}")
    if not ops:
        return images
    seeds = _split(_as_seed(seed), len(ops))
    functions = {"color": _color, "translation": _translation, "cutout": _cutout}
    for op, op_seed in zip(ops, seeds):
        images = functions[op](images, op_seed)
    return images
