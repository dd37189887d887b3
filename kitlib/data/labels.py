"""Label-map + image pairs for GauGAN/SPADE: loading, validation, one-hot encoding, class statistics.

Label maps are lossless images (PNG/BMP) of class ids (greyscale or palette indices, ``label_format="ids"``) or
colour-coded (``label_format="color"``: each class one exact RGB colour of ``palette``). Everything is validated
once, up front, with PIL and numpy, because a bad id otherwise surfaces as an opaque one-hot/gather crash deep in a
SPADE train step: ids >= ``num_classes`` (other than ``DONTCARE_ID`` 255), unknown colours, label maps whose size
differs from their image, files without a partner.

Example:
>>> pairs = label_map_pairs("scenes/images", "scenes/labels", num_classes=8, image_size=128)   # doctest: +SKIP
>>> image, label = next(iter(pairs))                                                           # doctest: +SKIP
>>> one_hot_labels(label, 8).shape                                                             # doctest: +SKIP
TensorShape([128, 128, 8])
"""

from __future__ import annotations

import collections
import pathlib
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image

from kitlib.data.folders import _check_folder, _list_files, decode_rgb, fit_image, scan_images
from kitlib.data.toy import DONTCARE_ID, LANDSCAPE_PALETTE

LABEL_FORMATS = ("ids", "color")
LABEL_EXTENSIONS = (".png", ".bmp")
SKETCH_SHAPES = ("rectangle", "ellipse", "triangle")
_SHOW = 3


def colors_to_ids(rgb, palette, *, unknown_id: int | None = None) -> np.ndarray:
    """Maps a colour-coded label map to class ids by exact colour match (``palette[id]`` is the colour of ``id``).

    Args:
        rgb: uint8 ``(..., 3)`` array.
        palette: ``(num_classes, 3)`` colours.
        unknown_id: id given to colours not in the palette; ``None`` (default) raises instead.

    Returns:
        uint8 ids, the shape of ``rgb`` without its last axis.

    Raises:
        ValueError: listing the unknown colours and how many pixels have each (when ``unknown_id`` is None).

    Example:
    >>> palette = np.array([[0, 0, 0], [255, 0, 0]], np.uint8)
    >>> colors_to_ids(np.array([[[255, 0, 0], [0, 0, 0]]], np.uint8), palette).tolist()
    [[1, 0]]
    """
    rgb = np.asarray(rgb)
    palette = np.asarray(palette)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"rgb must have 3 channels (..., 3). Received shape {rgb.shape}")
    if palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= len(palette) <= 255:
        raise ValueError(f"palette must be a (num_classes, 3) array with 1..255 colours. Received shape "
                         f"{palette.shape}")
    keys = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2].astype(np.int64)
    pal_keys = (palette[:, 0].astype(np.int64) << 16) | (palette[:, 1].astype(np.int64) << 8) | palette[:, 2]
    if len(np.unique(pal_keys)) != len(pal_keys):
        raise ValueError("palette has repeated colours: two classes would be indistinguishable.")
    unique, inverse = np.unique(keys.ravel(), return_inverse=True)
    lookup = {int(k): i for i, k in enumerate(pal_keys)}
    ids = np.array([lookup.get(int(k), -1) for k in unique], np.int64)
    if (ids < 0).any():
        if unknown_id is None:
            counts = np.bincount(inverse, minlength=len(unique))
            bad = [(int(k), int(c)) for k, c, i in zip(unique, counts, ids) if i < 0]
            bad.sort(key=lambda kc: -kc[1])
            shown = ", ".join(f"{(k >> 16, (k >> 8) & 255, k & 255)}: {c} px" for k, c in bad[:5])
            raise ValueError(f"{len(bad)} colours are not in the palette ({len(palette)} colours): {shown}"
                             f"{', ...' if len(bad) > 5 else ''}. Label maps must use the exact palette colours "
                             "and be saved losslessly (PNG): JPEG compression and anti-aliased edges create "
                             "in-between colours.")
        ids[ids < 0] = unknown_id
    return ids[inverse].reshape(keys.shape).astype(np.uint8)


def _label_ids(path, label_format: str, palette) -> np.ndarray:
    """A label file as an integer ``(H, W)`` array of class ids (not yet range-checked)."""
    with Image.open(path) as im:
        if label_format == "color":
            try:
                return colors_to_ids(np.asarray(im.convert("RGB")), palette)
            except ValueError as e:
                raise ValueError(f"Label map {path}: {e}") from None
        if im.mode in ("L", "P"):  # palette PNGs (VOC, ADE20K): the palette indices are the ids
            return np.asarray(im)
        if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
            return np.asarray(im).astype(np.int64)
        if im.mode == "LA":
            return np.asarray(im.getchannel(0))
        if im.mode in ("RGB", "RGBA"):
            rgb = np.asarray(im.convert("RGB"))
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                return rgb[..., 0]
            raise ValueError(f"Label map {path} is colour-coded ({im.mode}), not class ids. Pass "
                             "label_format='color' with palette=..., or save the ids as a greyscale PNG.")
        raise ValueError(f"Label map {path} has PIL mode {im.mode!r}, which is not a label map. Save class ids "
                         "as a greyscale ('L') or palette ('P') PNG.")


def _label_files(label_dir) -> list[pathlib.Path]:
    folder = _check_folder(label_dir)
    files, seen = _list_files(folder, recursive=True)
    files = [f for f in files if f.suffix.lower() in LABEL_EXTENSIONS]
    if not files:
        found = ", ".join(f"{ext} ({n})" for ext, n in seen.most_common(8)) or "nothing"
        raise ValueError(f"No label maps ({' '.join(LABEL_EXTENSIONS)}) in {folder}. Found: {found}. Label maps "
                         "must be lossless (PNG); JPEG compression changes class ids and colours.")
    return files


def _by_stem(files, what: str) -> dict[str, pathlib.Path]:
    out = {}
    for f in files:
        if f.stem in out:
            raise ValueError(f"Two {what} files have the stem {f.stem!r}: {out[f.stem]} and {f}. Pairs are matched "
                             "by file name without extension, so stems must be unique.")
        out[f.stem] = f
    return out


def _few(items) -> str:
    items = list(items)
    return ", ".join(map(repr, items[:_SHOW])) + (f", ... (+{len(items) - _SHOW})" if len(items) > _SHOW else "")


def label_map_pairs(image_dir, label_dir, *, num_classes: int, image_size: int, palette=None,
                    label_format: str = "ids", limit: int | None = None) -> tf.data.Dataset:
    """Images and their label maps, matched by file stem, as ``(image uint8 (S, S, 3), label uint8 (S, S))``.

    All label maps are read and checked once up front. Images are centre-cropped and resized like
    ``image_folder``; labels get the same crop and a nearest-neighbour resize (ids never blend). A label map of
    another size than its image is resized (nearest) to the image's size when the aspect ratios match, else it
    is an error.

    Reference:
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive Normalization" (2019),
        https://arxiv.org/abs/1903.07291.

    Args:
        image_dir: folder of images (any depth).
        label_dir: folder of label maps (PNG/BMP; any depth) with the same stems (``a.jpg`` <-> ``a.png``).
        num_classes: number of classes; valid ids are ``0..num_classes-1`` plus ``DONTCARE_ID`` (255).
        image_size: output side ``S``.
        palette: ``(num_classes, 3)`` colours for ``label_format="color"`` (default: ``toy.LANDSCAPE_PALETTE``).
        label_format: ``"ids"`` (greyscale/palette-index PNGs of class ids) or ``"color"`` (colour-coded).
        limit: use only the first ``limit`` pairs (sorted by image file).

    Returns:
        An unbatched ``tf.data.Dataset`` of ``(image, label)`` uint8 pairs.

    Example:
    >>> pairs = label_map_pairs("imgs", "labels", num_classes=8, image_size=64, label_format="color")  # doctest: +SKIP
    """
    if label_format not in LABEL_FORMATS:
        raise ValueError(f"label_format must be 'ids' or 'color'. Received: label_format={label_format!r}")
    if not 1 <= int(num_classes) <= 255:
        raise ValueError(f"num_classes must be in 1..255 (ids are uint8; 255 means don't care). "
                         f"Received: num_classes={num_classes}")
    if int(image_size) < 1:
        raise ValueError(f"image_size must be a positive int. Received: image_size={image_size}")
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1 or None. Received: limit={limit}")
    num_classes, image_size = int(num_classes), int(image_size)
    if label_format == "color":
        palette = np.asarray(LANDSCAPE_PALETTE if palette is None else palette)
        if palette.shape != (num_classes, 3):
            raise ValueError(f"palette must have one RGB colour per class: shape ({num_classes}, 3). Received "
                             f"shape {palette.shape}.")
        palette = palette.astype(np.uint8)

    report = scan_images(image_dir)
    if report.skipped:
        warnings.warn(f"label_map_pairs: {report.summary()}", stacklevel=2)
    images = _by_stem(report.good, "image")
    labels = _by_stem(_label_files(label_dir), "label")
    no_label = [s for s in images if s not in labels]
    no_image = [s for s in labels if s not in images]
    if no_label or no_image:
        parts = []
        if no_label:
            parts.append(f"{len(no_label)} images in {report.root} have no label map in {label_dir}: "
                         f"{_few(no_label)}")
        if no_image:
            parts.append(f"{len(no_image)} label maps have no image: {_few(no_image)}")
        raise ValueError("; ".join(parts) + ". Images and label maps are matched by file name without extension.")
    stems = list(images)[:limit] if limit is not None else list(images)
    size_of = dict(zip(report.good, report.sizes))
    pil_of = dict(zip(report.good, report.needs_pil))

    bad_ids, resized = [], []
    max_id = -1
    for stem in stems:
        ids = _label_ids(labels[stem], label_format, palette)
        values = np.unique(ids)
        wrong = values[(values >= num_classes) & (values != DONTCARE_ID)]
        if wrong.size:
            bad_ids.append((labels[stem], wrong.tolist()))
            max_id = max(max_id, int(wrong.max()))
        label_wh, image_wh = (ids.shape[1], ids.shape[0]), size_of[images[stem]]
        if label_wh != image_wh:
            if abs(label_wh[0] * image_wh[1] - label_wh[1] * image_wh[0]) > max(label_wh[1], image_wh[1]):
                raise ValueError(f"Label map {labels[stem]} is {label_wh[0]}x{label_wh[1]} but its image "
                                 f"{images[stem]} is {image_wh[0]}x{image_wh[1]}: the aspect ratios differ, so it "
                                 "cannot be aligned. Re-export the label map at the image's size.")
            resized.append((labels[stem], label_wh, image_wh))
    if bad_ids:
        shown = "; ".join(f"{p.name}: {v[:8]}" for p, v in bad_ids[:_SHOW])
        raise ValueError(f"{len(bad_ids)} label maps contain ids >= num_classes={num_classes} (valid: 0.."
                         f"{num_classes - 1} and {DONTCARE_ID} = don't care): {shown}"
                         f"{'; ...' if len(bad_ids) > _SHOW else ''}. Pass num_classes={max_id + 1} if these are "
                         "real classes, or remap them (to 255 to ignore them).")
    if resized:
        path, label_wh, image_wh = resized[0]
        warnings.warn(f"{len(resized)} label maps differ in size from their images and are resized (nearest), e.g. "
                      f"{path.name}: {label_wh[0]}x{label_wh[1]} -> {image_wh[0]}x{image_wh[1]}.", stacklevel=2)

    def read_label(path, height, width):
        ids = _label_ids(path.decode(), label_format, palette).astype(np.uint8)
        if ids.shape != (height, width):
            ids = np.asarray(Image.fromarray(ids).resize((int(width), int(height)), Image.NEAREST))
        return ids

    def load(image_path, needs_pil, label_path):
        image = decode_rgb(image_path, needs_pil)
        shape = tf.shape(image)
        label = tf.numpy_function(read_label, [label_path, shape[0], shape[1]], tf.uint8, stateful=False)
        label = tf.reshape(label, shape[:2])[..., None]
        return fit_image(image, image_size), fit_image(label, image_size, method="nearest")[..., 0]

    ds = tf.data.Dataset.from_tensor_slices(([str(images[s]) for s in stems], [pil_of[images[s]] for s in stems],
                                             [str(labels[s]) for s in stems]))
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def one_hot_labels(label, num_classes: int, dontcare: int = DONTCARE_ID) -> tf.Tensor:
    """Class-id maps ``(..., H, W)`` -> float32 one-hot ``(..., H, W, num_classes)``; ``dontcare`` pixels all 0.

    Example:
    >>> one_hot_labels(np.array([[0, 2, 255]], np.uint8), 3).numpy().tolist()
    [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]]
    """
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    label = tf.cast(tf.convert_to_tensor(label), tf.int32)
    label = tf.where(label == dontcare, -1, label)  # tf.one_hot gives all zeros for -1
    return tf.one_hot(label, int(num_classes), dtype=tf.float32)


def labels_to_one_hot(label_maps, num_classes: int, *, dontcare: int = DONTCARE_ID) -> np.ndarray:
    """Class-id maps ``(N, H, W)`` or ``(H, W)`` -> float32 one-hot ``(N, H, W, num_classes)``; ``dontcare`` -> zeros.

    Already one-hot inputs (a last axis of ``num_classes``, float) are returned as float32. Raises ``ValueError``
    naming the offending ids when a value is neither a class id nor ``dontcare``.

    Example:
    >>> labels_to_one_hot(np.array([[0, 2, 255]]), 3)[0, 0].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    arr = np.asarray(label_maps)
    if np.issubdtype(arr.dtype, np.floating) and arr.ndim == 4 and arr.shape[-1] == num_classes:
        return arr.astype("float32")
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"label_maps must be class ids (N, H, W) or (H, W), or one-hot (N, H, W, {num_classes}). "
                         f"Received shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"label_maps of class ids must hold integers. Received dtype {arr.dtype} with fractions.")
        arr = arr.astype(np.int64)
    bad = ((arr < 0) | (arr >= num_classes)) & (arr != dontcare)
    if bad.any():
        values = sorted(np.unique(arr[bad]).tolist())
        raise ValueError(f"label ids must be in 0..{num_classes - 1} (or {dontcare} = dontcare). Received ids "
                         f"{values[:10]} in {int(bad.sum())} pixels; remap them or raise num_classes.")
    lut = np.concatenate([np.eye(num_classes, dtype="float32"), np.zeros((1, num_classes), "float32")])
    return lut[np.where(arr == dontcare, num_classes, arr)]


def read_label_map(path: str | os.PathLike, palette=None) -> np.ndarray:
    """Reads a label PNG/BMP as class ids: greyscale or palette-index images hold ids, RGB ones are colour-coded.

    Args:
        path: the file.
        palette: ``(num_classes, 3)`` colours, needed for colour-coded sketches (exact colours, lossless files).

    Returns:
        integer ``(H, W)`` class ids (not range-checked; ``labels_to_one_hot`` and ``synthesize`` check them).

    Raises:
        ValueError: naming the file, for colours that are not in the palette or a colour file without palette.
    """
    with Image.open(path) as im:
        if im.mode in ("RGB", "RGBA"):
            rgb = np.asarray(im.convert("RGB"))
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                return rgb[..., 0]
            if palette is None:
                raise ValueError(f"Label map {path} is colour-coded: pass the palette of the classes' colours.")
            try:
                return colors_to_ids(rgb, palette)
            except ValueError as err:
                raise ValueError(f"Label map {path}: {err}") from None
        if im.mode in ("L", "P") or im.mode.startswith("I"):
            return np.asarray(im).astype(np.int64)
        raise ValueError(f"Label map {path} has PIL mode {im.mode!r}: save class ids as a greyscale PNG or colours "
                         "as an RGB PNG.")


def paint(label_map, class_id: int, shape: str = "rectangle", box=(0.0, 0.0, 1.0, 1.0)) -> np.ndarray:
    """Returns a copy of a class-id map with a filled shape painted in ``class_id`` (a GauGAN brush stroke).

    Args:
        label_map: integer class ids ``(H, W)``.
        class_id: the class painted (0..254, or 255 to erase to dontcare).
        shape: ``"rectangle"``, ``"ellipse"`` (inscribed in the box) or ``"triangle"`` (apex at the top centre of
            the box, base along its bottom edge: a mountain).
        box: ``(left, top, right, bottom)`` as fractions of the width and height.

    Returns:
        uint8 ``(H, W)`` class ids.

    Example:
    >>> sky = np.zeros((4, 4), np.uint8)
    >>> paint(sky, 3, "rectangle", (0, 0.5, 1, 1)).tolist()
    [[0, 0, 0, 0], [0, 0, 0, 0], [3, 3, 3, 3], [3, 3, 3, 3]]
    """
    if shape not in SKETCH_SHAPES:
        raise ValueError(f"shape must be one of {SKETCH_SHAPES}. Received: shape={shape!r}")
    if not 0 <= int(class_id) <= 255:
        raise ValueError(f"class_id must be in 0..255. Received: class_id={class_id!r}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"box must be (left, top, right, bottom) with right > left and bottom > top. Received: {box}")
    labels = np.array(label_map, dtype=np.uint8, copy=True)
    if labels.ndim != 2:
        raise ValueError(f"label_map must be (H, W) class ids. Received shape {labels.shape}")
    h, w = labels.shape
    y, x = (np.mgrid[0:h, 0:w] + 0.5) / np.array([h, w])[:, None, None]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if shape == "rectangle":
        mask = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    elif shape == "ellipse":
        mask = ((x - cx) / ((x1 - x0) / 2)) ** 2 + ((y - cy) / ((y1 - y0) / 2)) ** 2 <= 1.0
    else:
        mask = (y >= y0) & (y < y1) & (np.abs(x - cx) <= (y - y0) / (y1 - y0) * (x1 - x0) / 2)
    labels[mask] = int(class_id)
    return labels


def _label_arrays(labels):
    """Yields integer label arrays from a dataset (of labels, (image, label) tuples or dicts) or arrays."""
    if isinstance(labels, tf.data.Dataset):
        for element in labels.as_numpy_iterator():
            if isinstance(element, (tuple, list)):
                element = element[-1]
            elif isinstance(element, dict):
                element = element["label"]
            yield np.asarray(element)
    elif isinstance(labels, np.ndarray):
        yield labels
    else:
        for array in labels:
            yield np.asarray(array)


def label_histogram(labels, num_classes: int, dontcare: int = DONTCARE_ID) -> np.ndarray:
    """Share of pixels of each class (``dontcare`` pixels excluded): a quick look at class imbalance.

    A GauGAN trained on data where one class (sky, say) covers half of all pixels paints it everywhere; this is
    the number to look at first.

    Args:
        labels: a dataset of label maps, of ``(image, label)`` tuples or ``{"label": ...}`` dicts (batched or
            not), a numpy array ``(N, H, W)``/``(H, W)``, or a list of arrays.
        num_classes: number of classes.
        dontcare: id excluded from the counts.

    Returns:
        float64 ``(num_classes,)`` summing to 1 (all zeros when there is no labelled pixel).

    Example:
    >>> label_histogram(np.array([[0, 0, 1, 255]]), 2).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    counts = collections.Counter()
    for array in _label_arrays(labels):
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"label_histogram expects integer class-id maps. Received dtype {array.dtype}; "
                             "pass the label maps, not one-hot or float images.")
        values, n = np.unique(array, return_counts=True)
        counts.update(dict(zip(values.tolist(), n.tolist())))
    counts.pop(dontcare, None)
    wrong = sorted(k for k in counts if not 0 <= k < num_classes)
    if wrong:
        raise ValueError(f"Label ids {wrong[:8]} are outside 0..{num_classes - 1} (and not {dontcare}). "
                         f"Received num_classes={num_classes}.")
    hist = np.array([counts.get(i, 0) for i in range(num_classes)], np.float64)
    total = hist.sum()
    return hist / total if total else hist
