"""pix2pix paired data: A|B side-by-side images, and the central-square inpainting pairs of seed 004.

pix2pix datasets (facades, maps, edges2shoes, ...) store each pair as one image twice as wide as it is high: the
left half and the right half. ``ab_pairs`` splits them; ``inpainting_pair`` builds (masked, original) pairs by
painting a centred rectangle white, and ``write_inpainting_pairs`` writes such pairs as A|B JPEGs.

Example:
>>> pairs = ab_pairs("facades/train", 256, input_side="right")       # doctest: +SKIP
>>> pairs = inpainting_pairs(toy.landscapes(64, 64).map(lambda im, label: im))   # doctest: +SKIP
"""

from __future__ import annotations

import math
import pathlib
import warnings
from typing import Any, Callable

import numpy as np
import tensorflow as tf
from PIL import Image

from kitlib.data.augment import jitter
from kitlib.data.folders import decode_rgb, fit_image, scan_images

INPUT_SIDES = ("left", "right")


def ab_pairs(path, image_size: int, *, input_side: str = "left", limit: int | None = None,
             recursive: bool = True, strict: bool = False) -> tf.data.Dataset:
    """A folder of A|B side-by-side images as ``(input, target)`` pairs of uint8 ``(S, S, 3)`` images.

    Each file is split at half its width. Files whose width is not twice their height are skipped and named in a
    warning (``strict=True``: ValueError).

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks" (2017),
        https://arxiv.org/abs/1611.07004; datasets: http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/.

    Args:
        path: folder of A|B images (any depth).
        image_size: output side ``S`` of each half.
        input_side: which half is the generator's input. In the facades files the photo is on the left and the
            label map on the right, so labels -> photo is ``input_side="right"``.
        limit: use only the first ``limit`` pairs (sorted file order).
        recursive: include sub-folders.
        strict: raise on the first unreadable or wrongly shaped file instead of skipping it.

    Returns:
        An unbatched ``tf.data.Dataset`` of ``(input, target)`` uint8 pairs, carrying ``scan_report``.

    Example:
    >>> pairs = ab_pairs("maps/train", 256)                          # doctest: +SKIP
    """
    if input_side not in INPUT_SIDES:
        raise ValueError(f"input_side must be 'left' or 'right'. Received: input_side={input_side!r}")
    if int(image_size) < 1:
        raise ValueError(f"image_size must be a positive int (e.g. 256). Received: image_size={image_size}")
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1 or None (all pairs). Received: limit={limit}")
    image_size = int(image_size)
    report = scan_images(path, recursive=recursive, strict=strict)
    keep = [i for i, (w, h) in enumerate(report.sizes) if w == 2 * h]
    wrong = sorted(set(range(len(report.good))) - set(keep))
    if wrong:
        shown = ", ".join(f"{report.good[i].name} ({report.sizes[i][0]}x{report.sizes[i][1]})" for i in wrong[:3])
        message = (f"{len(wrong)} of {len(report.good)} files in {report.root} are not A|B pairs (width must be "
                   f"2 x height): {shown}{', ...' if len(wrong) > 3 else ''}")
        if strict or not keep:
            raise ValueError(message + ". Expected side-by-side pairs as in the pix2pix datasets; for two "
                                       "separate folders of images use label_map_pairs or two image_folder calls.")
        warnings.warn(message + "; they are skipped.", stacklevel=2)
    if report.skipped:
        warnings.warn(f"ab_pairs({str(path)!r}): {report.summary()}", stacklevel=2)
    if not keep:
        raise ValueError(f"No usable A|B image in {report.root}.\n{report.summary()}")
    keep = keep[:limit] if limit is not None else keep
    paths = [str(report.good[i]) for i in keep]
    flags = [report.needs_pil[i] for i in keep]

    def load(file, needs_pil):
        image = decode_rgb(file, needs_pil)
        half = tf.shape(image)[1] // 2
        left = fit_image(image[:, :half], image_size, "none")
        right = fit_image(image[:, half:2 * half], image_size, "none")
        return (left, right) if input_side == "left" else (right, left)

    ds = tf.data.Dataset.from_tensor_slices((paths, flags))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds.scan_report = report
    return ds


def _hole(height: int, width: int, hole_fraction: float) -> tuple[int, int, int, int]:
    """(top, left, hole_height, hole_width) of the centred hole covering ``hole_fraction`` of the area."""
    side = math.sqrt(hole_fraction)
    hole_h, hole_w = max(1, int(round(height * side))), max(1, int(round(width * side)))
    return (height - hole_h) // 2, (width - hole_w) // 2, hole_h, hole_w


def _check_fraction(hole_fraction: float) -> float:
    if not 0.0 < float(hole_fraction) < 1.0:
        raise ValueError(f"hole_fraction must be in (0, 1), e.g. 1/9 (a centred square of a third of the side). "
                         f"Received: hole_fraction={hole_fraction}")
    return float(hole_fraction)


def inpainting_mask(image_size, hole_fraction: float = 1 / 9) -> np.ndarray:
    """Boolean ``(H, W)`` mask, True on the centred rectangle of ``hole_fraction`` of the area.

    Each side of the hole is ``round(side * sqrt(hole_fraction))``: a third of H and of W for 1/9.

    Args:
        image_size: ``S`` or ``(H, W)``.
        hole_fraction: hole area / image area.

    Returns:
        bool array ``(H, W)``.

    Example:
    >>> int(inpainting_mask(9).sum()), bool(inpainting_mask(9)[4, 4])
    (9, True)
    """
    height, width = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    top, left, hole_h, hole_w = _hole(int(height), int(width), _check_fraction(hole_fraction))
    mask = np.zeros((int(height), int(width)), bool)
    mask[top:top + hole_h, left:left + hole_w] = True
    return mask


def inpainting_pair(image, *, hole_fraction: float = 1 / 9, fill: int = 255):
    """``(masked, image)``: the image with its centred hole painted ``fill`` (white), and the original.

    The seed notebook's inpainting task: pix2pix learns to fill the hole (input = masked, target = original).

    Args:
        image: uint8 ``(H, W, C)`` numpy array or tensor.
        hole_fraction: hole area / image area (1/9: a square of a third of each side).
        fill: value painted into the hole.

    Returns:
        ``(masked, image)``, same type, dtype and shape as ``image``.

    Example:
    >>> masked, original = inpainting_pair(np.zeros((9, 9, 3), np.uint8))
    >>> int(masked[4, 4, 0]), int(masked[0, 0, 0])
    (255, 0)
    """
    hole_fraction = _check_fraction(hole_fraction)
    if isinstance(image, np.ndarray):
        mask = inpainting_mask(image.shape[:2], hole_fraction)
        masked = image.copy()
        masked[mask] = fill
        return masked, image
    image = tf.convert_to_tensor(image)
    if image.shape[0] is not None and image.shape[1] is not None:
        mask = tf.constant(inpainting_mask(image.shape[:2], hole_fraction))
    else:
        h, w = tf.shape(image)[0], tf.shape(image)[1]
        side = math.sqrt(hole_fraction)
        hole_h = tf.maximum(1, tf.cast(tf.round(tf.cast(h, tf.float64) * side), tf.int32))
        hole_w = tf.maximum(1, tf.cast(tf.round(tf.cast(w, tf.float64) * side), tf.int32))
        top, left = (h - hole_h) // 2, (w - hole_w) // 2
        rows, cols = tf.range(h)[:, None], tf.range(w)[None, :]
        mask = (rows >= top) & (rows < top + hole_h) & (cols >= left) & (cols < left + hole_w)
    masked = tf.where(mask[..., None], tf.cast(fill, image.dtype), image)
    return masked, image


def inpainting_pairs(ds: tf.data.Dataset, *, hole_fraction: float = 1 / 9, fill: int = 255) -> tf.data.Dataset:
    """Maps a dataset of images to ``(masked, original)`` pairs (streaming, no files written).

    Example:
    >>> from kitlib.data import toy
    >>> masked, original = next(iter(inpainting_pairs(toy.faces(2, 32))))
    >>> tuple(masked.shape)
    (32, 32, 3)
    """
    hole_fraction = _check_fraction(hole_fraction)
    return ds.map(lambda image: inpainting_pair(image, hole_fraction=hole_fraction, fill=fill),
                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def inpainting_jitter(image_size: int, *, scale: float = 286 / 256, flip: bool = True, hole_fraction: float = 1 / 9,
                      fill: int = 255) -> Callable[[Any, tf.Tensor], Any]:
    """An ``augment(photo, seed) -> (masked, photo)`` for ``prepare``: jitter the photo, then cut the centred hole.

    Jittering ``(masked, photo)`` pairs instead would move and rescale the hole (a crop of an upscaled image puts it
    off-centre and makes it larger), so the model would train on holes unlike the centred 1/9 ones it is tested on.

    Args:
        image_size: output height and width.
        scale, flip: as in ``random_jitter``.
        hole_fraction, fill: as in ``inpainting_pair``.

    Example:
    >>> from kitlib.data import prepare, toy
    >>> masked, photo = next(iter(prepare(toy.faces(8, 32), 4, augment=inpainting_jitter(32))))
    >>> float(masked[0, 16, 16, 0]), tuple(photo.shape)
    (1.0, (4, 32, 32, 3))
    """
    hole_fraction = _check_fraction(hole_fraction)
    jittered = jitter(image_size, scale=scale, flip=flip)

    def augment(photo, seed):
        return inpainting_pair(jittered(photo, seed), hole_fraction=hole_fraction, fill=fill)

    return augment


def write_inpainting_pairs(src_folder, dst_folder, image_size: int, *, hole_fraction: float = 1 / 9,
                           fill: int = 255, quality: int = 95) -> list[pathlib.Path]:
    """Writes an A|B JPEG (A = masked input, B = original) for every image of ``src_folder``.

    Images are centre-cropped and resized to ``image_size`` as by ``image_folder``; each output is named after its
    source (sub-folders joined with ``_``) and is ``2 * image_size`` wide, ready for ``ab_pairs(dst_folder, ...)``.

    Args:
        src_folder: folder of images.
        dst_folder: output folder (created).
        image_size: side of each half.
        hole_fraction, fill: as in ``inpainting_pair``.
        quality: JPEG quality.

    Returns:
        The written files, in source order.

    Example:
    >>> files = write_inpainting_pairs("photos", "photos_ab", 256)   # doctest: +SKIP
    """
    from kitlib.data.folders import image_folder

    hole_fraction = _check_fraction(hole_fraction)
    images = image_folder(src_folder, image_size)
    report = images.scan_report
    dst = pathlib.Path(dst_folder)
    dst.mkdir(parents=True, exist_ok=True)
    mask = inpainting_mask(int(image_size), hole_fraction)
    written = []
    for source, image in zip(report.good, images.as_numpy_iterator()):
        masked = image.copy()
        masked[mask] = fill
        name = "_".join(source.relative_to(report.root).with_suffix("").parts) + ".jpg"
        path = dst / name
        Image.fromarray(np.concatenate([masked, image], axis=1)).save(path, quality=quality)
        written.append(path)
    return written
