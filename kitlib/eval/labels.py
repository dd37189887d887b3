"""Label-map analysis for semantic image synthesis: class statistics over a dataset, their plot, and colours.

The seed report (GauGAN on anime landscapes) found its model "very good at skies, present in most training images,
worse at mountains, rarely present" and proposed measuring the label distribution: ``label_statistics`` gives, per
class, the share of all labelled pixels and the share of images in which the class appears at all, and
``plot_label_distribution`` draws both.

Example:
>>> import numpy as np
>>> stats = label_statistics(np.array([[[0, 0], [0, 1]], [[0, 0], [0, 0]]]), 2)
>>> stats["pixel_share"].tolist(), stats["image_share"].tolist()
([0.875, 0.125], [1.0, 0.5])
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np

from kitlib.data.toy import DONTCARE_ID


def default_palette(num_classes: int) -> np.ndarray:
    """A deterministic palette of ``num_classes`` distinct colours (golden-ratio hues), uint8 ``(num_classes, 3)``.

    Example:
    >>> default_palette(3).shape
    (3, 3)
    """
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    hues = (np.arange(int(num_classes)) * 0.618033988749895) % 1.0
    colours = [colorsys.hsv_to_rgb(h, 0.65 if i % 2 else 0.9, 0.95 if i % 3 else 0.75) for i, h in enumerate(hues)]
    return np.round(np.asarray(colours) * 255).astype(np.uint8)


def colorize(label_maps, palette) -> np.ndarray:
    """Class ids ``(..., H, W)`` -> uint8 colours ``(..., H, W, 3)`` with ``palette[id]``; dontcare (255) is black.

    Args:
        label_maps: integer class ids, any shape.
        palette: ``(num_classes, 3)`` colours.

    Returns:
        uint8 array of shape ``label_maps.shape + (3,)``.

    Raises:
        ValueError: naming the ids that are neither classes of the palette nor 255.

    Example:
    >>> colorize(np.array([[1, 255]]), np.array([[0, 0, 0], [200, 10, 10]])).tolist()
    [[[200, 10, 10], [0, 0, 0]]]
    """
    ids = np.asarray(label_maps)
    palette = np.asarray(palette, np.uint8)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"palette must have shape (num_classes, 3). Received shape {palette.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"label_maps must hold integer class ids. Received dtype {ids.dtype}")
    bad = ((ids < 0) | (ids >= len(palette))) & (ids != DONTCARE_ID)
    if bad.any():
        raise ValueError(f"label ids must be in 0..{len(palette) - 1} (or {DONTCARE_ID}) for a palette of "
                         f"{len(palette)} colours. Received ids {sorted(np.unique(ids[bad]).tolist())[:10]}")
    lut = np.zeros((256, 3), np.uint8)
    lut[: len(palette)] = palette
    return lut[ids.astype(np.int64)]


def _label_batches(labels):
    """Yields integer label arrays ``(N, H, W)`` from a dataset ((image, label) pairs or labels) or arrays."""
    import tensorflow as tf

    if isinstance(labels, tf.data.Dataset):
        for element in labels.as_numpy_iterator():
            array = np.asarray(element[-1] if isinstance(element, (tuple, list)) else element)
            yield array[None] if array.ndim == 2 else array
    else:
        array = np.asarray(labels)
        yield array[None] if array.ndim == 2 else array


def label_statistics(labels, num_classes: int, *, dontcare: int = DONTCARE_ID) -> dict:
    """Per-class share of labelled pixels and share of images containing the class, in one pass over the data.

    Args:
        labels: a ``tf.data.Dataset`` of ``(image, label)`` pairs or of label maps (batched or not), or an integer
            array ``(N, H, W)``.
        num_classes: number of classes.
        dontcare: id left out of the counts (255).

    Returns:
        ``{"pixel_share": (C,), "image_share": (C,), "num_images": int, "num_pixels": int}``; ``pixel_share`` sums
        to 1 over the labelled pixels (as ``kitlib.data.labels.label_histogram``).

    Raises:
        ValueError: naming the ids outside ``0..num_classes - 1`` (other than ``dontcare``).
    """
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    pixels = np.zeros(num_classes, np.int64)
    present = np.zeros(num_classes, np.int64)
    images = 0
    for batch in _label_batches(labels):
        if not np.issubdtype(batch.dtype, np.integer):
            raise ValueError(f"label_statistics expects integer class-id maps. Received dtype {batch.dtype}.")
        flat = batch.reshape(len(batch), -1).astype(np.int64)
        bad = ((flat < 0) | (flat >= num_classes)) & (flat != dontcare)
        if bad.any():
            raise ValueError(f"Label ids {sorted(np.unique(flat[bad]).tolist())[:8]} are outside 0..{num_classes - 1}"
                             f" (and not {dontcare}). Pass the right num_classes or remap them.")
        for row in flat:
            counts = np.bincount(row[row != dontcare], minlength=num_classes)
            pixels += counts
            present += counts > 0
        images += len(flat)
    total = pixels.sum()
    return {"pixel_share": pixels / total if total else pixels.astype(np.float64),
            "image_share": present / images if images else present.astype(np.float64),
            "num_images": images, "num_pixels": int(total)}


def plot_label_distribution(stats: dict, class_names: Sequence[str], palette=None, *,
                            title: str = "label distribution") -> None:
    """Bar charts of ``label_statistics``: share of pixels and share of images per class, in the class colours.

    Args:
        stats: the dict returned by ``label_statistics``.
        class_names: one name per class.
        palette: ``(num_classes, 3)`` colours (default: ``default_palette``).
        title: figure title.
    """
    import matplotlib.pyplot as plt

    num_classes = len(stats["pixel_share"])
    if len(class_names) != num_classes:
        raise ValueError(f"class_names must name the {num_classes} classes. Received {len(class_names)} names.")
    palette = default_palette(num_classes) if palette is None else np.asarray(palette)
    colours = np.asarray(palette, np.float64) / 255.0
    rows = np.arange(num_classes)
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.35 * num_classes + 1.2), sharey=True)
    for ax, key, label in ((axes[0], "pixel_share", "share of labelled pixels (%)"),
                           (axes[1], "image_share", "share of images containing the class (%)")):
        values = 100.0 * np.asarray(stats[key])
        ax.barh(rows, values, color=colours, edgecolor="black", linewidth=0.5)
        for r, v in zip(rows, values):
            ax.text(v + 0.5, r, f"{v:.1f}", va="center", fontsize=8)
        ax.set_xlabel(label)
        ax.set_xlim(0, max(values.max() * 1.18, 1.0))
    axes[0].set_yticks(rows, labels=list(class_names))
    axes[0].invert_yaxis()
    fig.suptitle(f"{title} ({stats['num_images']} images)")
    fig.tight_layout()
    plt.show()


__all__ = ["colorize", "default_palette", "label_statistics", "plot_label_distribution"]
