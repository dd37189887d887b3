"""Segmentation metrics and label fidelity: does a generated image show the classes its label map asked for?

GauGAN is judged in its paper by segmenting the generated images with a network trained on real ones and
comparing the result with the input label maps (pixel accuracy, mean IoU). ``label_fidelity`` does that with a
small U-Net (``kitlib.models.segmenter``) trained here by ``train_segmenter``; the same segmenter labels unlabelled
images (``segment``), the seed report's way of building label maps for its own data. ``measure_label_fidelity`` runs
the whole measure for a SPADE generator (segmenter, held-out maps, generated images, scores).

Example:
>>> import numpy as np
>>> pred, true = np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 255]])
>>> pixel_accuracy(pred, true), mean_iou(pred, true, num_classes=2)
(0.6666666666666666, 0.5)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kitlib.images import to_float
from kitlib.data.toy import DONTCARE_ID


def _id_arrays(pred_ids, true_ids, ignore_label: int) -> tuple[np.ndarray, np.ndarray]:
    """Checks that both are integer class-id arrays of one shape; returns the pairs where ``true != ignore``."""
    pred, true = np.asarray(pred_ids), np.asarray(true_ids)
    for arg, arr in (("pred_ids", pred), ("true_ids", true)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{arg} must hold integer class ids. Received dtype {arr.dtype}; for logits or "
                             f"probabilities take argmax(-1) first.")
    if pred.shape != true.shape:
        raise ValueError(f"pred_ids and true_ids must have the same shape. Received {pred.shape} and {true.shape}.")
    keep = true != ignore_label
    if not keep.any():
        raise ValueError(f"true_ids holds no labelled pixel (all {true.size} are ignore_label={ignore_label}).")
    return pred[keep].astype(np.int64), true[keep].astype(np.int64)


def _check_ids(arg: str, ids: np.ndarray, num_classes: int) -> None:
    bad = (ids < 0) | (ids >= num_classes)
    if bad.any():
        raise ValueError(f"{arg} must be class ids in 0..{num_classes - 1}. Received ids "
                         f"{sorted(np.unique(ids[bad]).tolist())[:10]}; pass the right num_classes or remap them.")


def pixel_accuracy(pred_ids, true_ids, ignore_label: int = DONTCARE_ID) -> float:
    """Share of labelled pixels (``true_ids != ignore_label``) whose predicted class is the true one.

    Args:
        pred_ids: integer class ids, any shape.
        true_ids: integer class ids of the same shape; ``ignore_label`` pixels are left out.
        ignore_label: id of unlabelled pixels (255).

    Returns:
        Accuracy in [0, 1].

    Example:
    >>> pixel_accuracy(np.array([0, 1, 2]), np.array([0, 2, 2]))
    0.6666666666666666
    """
    pred, true = _id_arrays(pred_ids, true_ids, ignore_label)
    return float(np.mean(pred == true))


def class_iou(pred_ids, true_ids, num_classes: int, ignore_label: int = DONTCARE_ID) -> np.ndarray:
    """Per-class intersection over union, ``TP / (TP + FP + FN)`` over the labelled pixels.

    A class absent from both the prediction and the truth (on labelled pixels) has no IoU: NaN.

    Args:
        pred_ids: integer class ids in ``0..num_classes - 1``, any shape.
        true_ids: integer class ids of the same shape, or ``ignore_label``.
        num_classes: number of classes.
        ignore_label: id of unlabelled pixels (255), left out.

    Returns:
        float64 ``(num_classes,)``.

    Example:
    >>> class_iou(np.array([0, 0, 1]), np.array([0, 1, 1]), 3).tolist()
    [0.5, 0.5, nan]
    """
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1. Received: num_classes={num_classes}")
    pred, true = _id_arrays(pred_ids, true_ids, ignore_label)
    _check_ids("pred_ids", pred, num_classes)
    _check_ids("true_ids (other than ignore_label)", true, num_classes)
    confusion = np.bincount(true * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)
    tp = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(pred_ids, true_ids, num_classes: int, ignore_label: int = DONTCARE_ID) -> float:
    """Mean of ``class_iou`` over the classes present in the prediction or the truth.

    Example:
    >>> mean_iou(np.array([0, 0, 1]), np.array([0, 1, 1]), num_classes=3)
    0.5
    """
    return float(np.nanmean(class_iou(pred_ids, true_ids, num_classes, ignore_label)))


def _check_images(images, arg: str = "images") -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"{arg} must be uint8 images (N, H, W, 3). Received dtype {images.dtype}; convert [-1, 1] "
                         f"floats with kitlib.viz.to_uint8.")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{arg} must have shape (N, H, W, 3). Received shape {images.shape}.")
    return images


def train_segmenter(images, label_ids, num_classes: int, *, epochs: int = 10, batch_size: int = 16, seed: int = 0,
                    filters: int = 16, depth: int = 3, learning_rate: float = 2e-3, verbose: int = 0):
    """Trains ``kitlib.models.build_segmenter`` on images and their label maps (Adam, cross-entropy on logits).

    Pixels labelled ``255`` are ignored by the loss. The batches are reshuffled each epoch, with horizontal flips
    (image and map together). ``keras.utils.set_random_seed(seed)`` is called first, so the weights and the data
    order depend only on ``seed``.

    Args:
        images: uint8 ``(N, S, S, 3)``.
        label_ids: integer ``(N, S, S)`` class ids in ``0..num_classes - 1`` or 255.
        num_classes: number of classes.
        epochs: passes over the data.
        batch_size: images per step.
        seed: seed of the weights, the shuffling and the flips.
        filters, depth: size of the U-Net (``build_segmenter``).
        learning_rate: Adam's learning rate.
        verbose: ``model.fit`` verbosity.

    Returns:
        The trained ``keras.Model`` (logits; use ``segment`` for class ids).

    Example:
    >>> from kitlib.data import toy
    >>> images, labels = toy.make_landscapes(8, 32)
    >>> model = train_segmenter(images, labels, 8, epochs=1, filters=4, depth=2)
    >>> segment(model, images[:2]).shape
    (2, 32, 32)
    """
    import keras
    import tensorflow as tf

    from kitlib.models.segmenter import build_segmenter

    images = _check_images(images)
    labels = np.asarray(label_ids)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"label_ids must hold integer class ids. Received dtype {labels.dtype}.")
    if labels.shape != images.shape[:3]:
        raise ValueError(f"label_ids must have shape {images.shape[:3]} (one (H, W) map per image). "
                         f"Received shape {labels.shape}.")
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be square. Received {images.shape[1]}x{images.shape[2]}; crop or resize them.")
    _check_ids("label_ids (other than 255)", labels[labels != DONTCARE_ID], int(num_classes))
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if int(value) < 1:
            raise ValueError(f"{arg} must be >= 1. Received: {arg}={value}")
    keras.utils.set_random_seed(seed)
    model = build_segmenter(int(images.shape[1]), int(num_classes), filters=filters, depth=depth)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=DONTCARE_ID))

    def flip(image, label):
        stacked = tf.concat([image, tf.cast(label[..., None], tf.float32)], axis=-1)
        stacked = tf.image.random_flip_left_right(stacked, seed=seed)
        return stacked[..., :3], tf.cast(stacked[..., 3], tf.int32)

    ds = (tf.data.Dataset.from_tensor_slices((to_float(images), labels.astype(np.int32)))
          .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
          .map(flip)
          .batch(int(batch_size))
          .prefetch(tf.data.AUTOTUNE))
    model.fit(ds, epochs=int(epochs), shuffle=False, verbose=verbose)  # ds reshuffles itself every epoch
    return model


def segment(model, images, *, batch_size: int = 64) -> np.ndarray:
    """Class ids (argmax of the logits) of uint8 images ``(N, S, S, 3)`` -> uint8 ``(N, S, S)``.

    Example:
    >>> from kitlib.models.segmenter import build_segmenter
    >>> segment(build_segmenter(32, 8, filters=4), np.zeros((1, 32, 32, 3), np.uint8)).shape
    (1, 32, 32)
    """
    import keras

    images = _check_images(images)
    expected = tuple(model.input_shape[1:3])
    if images.shape[1:3] != expected:
        raise ValueError(f"images must be {expected[0]}x{expected[1]} for this segmenter. Received "
                         f"{images.shape[1]}x{images.shape[2]}; resize them first.")
    out = [np.argmax(keras.ops.convert_to_numpy(model(to_float(images[i: i + batch_size]), training=False)),
                     axis=-1) for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.uint8)


def label_fidelity(segmenter, generated, real, label_ids, num_classes: int) -> dict:
    """Segments generated images and the real images of the same label maps, and scores both against the maps.

    Three rows: ``generated``; ``ground_truth``, the real images against their own maps, the segmenter's ceiling
    (generated images that follow their maps perfectly and look like the training data would score as high); and
    ``shuffled_maps``, the real images against the map of another image (``np.roll`` by one), a baseline: what a
    generator of realistic images that ignored its map would score, from the layout all scenes share (sky on top).

    Args:
        segmenter: a model from ``train_segmenter`` (or ``build_segmenter``), never trained on these images.
        generated: uint8 ``(N, S, S, 3)`` images generated from ``label_ids``.
        real: uint8 ``(N, S, S, 3)`` real images of ``label_ids``.
        label_ids: integer ``(N, S, S)`` input maps (255 = unlabelled, left out), N >= 2.
        num_classes: number of classes.

    Returns:
        ``{"generated": {...}, "ground_truth": {...}, "shuffled_maps": {...}, "num_images": N}``, each row holding
        ``pixel_accuracy``, ``mean_iou`` and ``class_iou`` (a list, None for classes absent from both maps and
        prediction), ready for JSON.

    Example:
    >>> from kitlib.data import toy
    >>> from kitlib.models.segmenter import build_segmenter
    >>> images, labels = toy.make_landscapes(4, 32)
    >>> model = build_segmenter(32, 8, filters=4, depth=2)     # untrained: the example shows the call only
    >>> result = label_fidelity(model, images, images, labels, 8)
    >>> result["generated"] == result["ground_truth"]
    True
    """
    generated, real = _check_images(generated, "generated"), _check_images(real, "real")
    labels = np.asarray(label_ids)
    if generated.shape != real.shape or labels.shape != real.shape[:3]:
        raise ValueError(f"generated, real and label_ids must describe the same N maps: shapes (N, S, S, 3), "
                         f"(N, S, S, 3), (N, S, S). Received {generated.shape}, {real.shape}, {labels.shape}.")
    if len(labels) < 2:
        raise ValueError(f"label_fidelity needs at least 2 label maps (the shuffled_maps row scores each real image "
                         f"against another image's map). Received {len(labels)}.")
    result = {"num_images": int(len(labels))}
    on_real = segment(segmenter, real)
    for row, pred, maps in (("generated", segment(segmenter, generated), labels), ("ground_truth", on_real, labels),
                            ("shuffled_maps", on_real, np.roll(labels, 1, axis=0))):
        ious = class_iou(pred, maps, num_classes)
        result[row] = {"pixel_accuracy": pixel_accuracy(pred, maps), "mean_iou": float(np.nanmean(ious)),
                       "class_iou": [None if np.isnan(v) else float(v) for v in ious]}
    return result


def format_fidelity(result: dict, class_names=None) -> str:
    """A Markdown table of ``label_fidelity``'s result: accuracy, mIoU and per-class IoU, one row per image set.

    Example:
    >>> row = {"pixel_accuracy": 0.9, "mean_iou": 0.5, "class_iou": [0.5, None]}
    >>> print(format_fidelity({"generated": row, "ground_truth": row, "shuffled_maps": row}, ["sky", "sea"]))
    | images | pixel accuracy | mIoU | sky | sea |
    |---|---|---|---|---|
    | generated | 0.900 | 0.500 | 0.50 | - |
    | ground truth (ceiling) | 0.900 | 0.500 | 0.50 | - |
    | real vs shuffled maps (baseline) | 0.900 | 0.500 | 0.50 | - |
    """
    rows = {"generated": result["generated"], "ground truth (ceiling)": result["ground_truth"],
            "real vs shuffled maps (baseline)": result["shuffled_maps"]}
    num_classes = len(result["generated"]["class_iou"])
    names = list(class_names) if class_names is not None else [f"class {i}" for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"class_names must name the {num_classes} classes. Received {len(names)} names.")
    lines = ["| images | pixel accuracy | mIoU | " + " | ".join(names) + " |", "|---" * (num_classes + 3) + "|"]
    for name, row in rows.items():
        ious = ["-" if v is None else f"{v:.2f}" for v in row["class_iou"]]
        lines.append(f"| {name} | {row['pixel_accuracy']:.3f} | {row['mean_iou']:.3f} | " + " | ".join(ious) + " |")
    return "\n".join(lines)


@dataclasses.dataclass
class MeasuredFidelity:
    """What ``measure_label_fidelity`` measured.

    Attributes:
        scores: ``label_fidelity``'s dict, plus ``segmenter``: its training settings (ready for JSON).
        segmenter: the trained segmenter (``segment(segmenter, images)`` labels other images).
        label_ids: the held-out maps ``(N, S, S)``.
        real: their real images, uint8 ``(N, S, S, 3)``.
        generated: the generator's images of those maps, uint8 ``(N, S, S, 3)``.
    """

    scores: dict
    segmenter: Any
    label_ids: np.ndarray
    real: np.ndarray
    generated: np.ndarray


def measure_label_fidelity(generator, pairs=None, *, seed: int = 0, num_train: int | None = None,
                           num_test: int | None = None, epochs: int | None = None,
                           filters: int | None = None) -> MeasuredFidelity:
    """Label fidelity of a SPADE generator, the GauGAN paper's measure, end to end: trains a segmenter
    (``train_segmenter``, batches of 8), lets the generator draw one image per held-out label map with a random style
    code (no style photo, as from a sketch) and scores those images and the real images of the same maps against the
    maps (``label_fidelity``).

    Without ``pairs`` the data are fresh toy landscapes the GAN never saw: the segmenter trains on ``num_train`` of
    them (seed ``seed + 1000``) and ``num_test`` others (seed ``seed + 2000``) are held out. With ``pairs`` of your
    own data, the last ``num_test`` are held out and the segmenter trains on the others.

    Args:
        generator: a SPADE generator (``GauGAN.generator``, or ``kitlib.train.load_generator(RUN_DIR)``).
        pairs: ``(images, label_ids)``: uint8 ``(N, S, S, 3)`` and class ids ``(N, S, S)`` at the generator's size;
            None: the toy landscapes.
        seed: seed of the toy data, the segmenter (weights, order, flips) and the style codes.
        num_train: toy images the segmenter trains on (default by profile: 64 quick, 512 demo, 2048 full).
        num_test: held-out maps (toy default: 16 quick, 256 demo, 512 full; with ``pairs``: a fifth, at least 2).
        epochs: segmenter epochs (15 quick, 5 demo, 10 full).
        filters: segmenter width (8 quick, 16 demo and full).

    Returns:
        A ``MeasuredFidelity``: ``scores``, ``segmenter``, and the held-out ``label_ids``, ``real`` and ``generated``.

    Example:
    >>> from kitlib.models.spade import spade_generator
    >>> g = spade_generator((32, 32, 8), ngf=2, z_dim=4, spade_hidden=4)     # untrained: the call only
    >>> measured = measure_label_fidelity(g, num_train=8, num_test=4, epochs=1, filters=2)
    >>> measured.scores["num_images"], measured.generated.shape
    (4, (4, 32, 32, 3))
    """
    from kitlib import runtime
    from kitlib.data import toy
    from kitlib.images import to_uint8
    from kitlib.infer.spade import synthesize

    image_size, num_classes = int(generator.inputs[0].shape[1]), int(generator.inputs[0].shape[-1])
    epochs = epochs or runtime.pick(quick=15, demo=5, full=10)
    filters = filters or runtime.pick(quick=8, demo=16, full=16)
    if pairs is None:
        if num_classes != len(toy.LANDSCAPE_CLASSES):
            raise ValueError(f"The toy landscapes have {len(toy.LANDSCAPE_CLASSES)} classes; this generator takes "
                             f"{num_classes}. Pass pairs=(images, label_ids) of the data it was trained on.")
        num_train = num_train or runtime.pick(quick=64, demo=512, full=2048)
        num_test = num_test or runtime.pick(quick=16, demo=256, full=512)
        train_images, train_maps = toy.make_landscapes(num_train, image_size, seed + 1000)
        real, maps = toy.make_landscapes(num_test, image_size, seed + 2000)
        seeds = {"train_seed": seed + 1000, "test_seed": seed + 2000}
    else:
        images, label_ids = (np.asarray(a) for a in pairs)
        num_test = num_test or max(2, len(images) // 5)
        if not 2 <= num_test < len(images):
            raise ValueError(f"pairs must hold more than num_test >= 2 images (the held-out maps), and some to train "
                             f"the segmenter. Received {len(images)} pairs, num_test={num_test}.")
        train_images, train_maps = images[:-num_test], label_ids[:-num_test]
        real, maps = images[-num_test:], label_ids[-num_test:]
        num_train, seeds = len(train_images), {}
    segmenter = train_segmenter(train_images, train_maps, num_classes, epochs=epochs, batch_size=8, seed=seed,
                                filters=filters)
    generated = to_uint8(synthesize(generator, maps, seed=seed))
    scores = label_fidelity(segmenter, generated, real, maps, num_classes)
    scores["segmenter"] = {"num_train": num_train, "epochs": epochs, "filters": filters, "image_size": image_size,
                           **seeds}
    return MeasuredFidelity(scores, segmenter, maps, real, generated)


__all__ = ["MeasuredFidelity", "class_iou", "format_fidelity", "label_fidelity", "mean_iou", "measure_label_fidelity",
           "pixel_accuracy", "segment", "train_segmenter"]
