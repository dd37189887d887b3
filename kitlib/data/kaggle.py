"""Kaggle "I'm Something of a Painter Myself" (gan-getting-started): its TFRecords and JPEG folders.

The competition data (https://www.kaggle.com/competitions/gan-getting-started) has ``monet_tfrec/`` (5 files,
300 paintings), ``photo_tfrec/`` (20 files, 7,038 photos) and the same images as ``monet_jpg/`` and ``photo_jpg/``.
Each TFRecord file is named ``monet00-60.tfrec``: prefix, shard index, ``-``, number of records. Every record is a
``tf.train.Example`` with ``image_name`` (bytes), ``image`` (JPEG bytes of a 256x256x3 image) and ``target``
(bytes, e.g. ``b"monet"``).

Example:
>>> monet, photos = gan_getting_started()                   # doctest: +SKIP
>>> files = write_tfrecords(images, "/tmp/monet_tfrec/monet", shards=2)    # doctest: +SKIP
>>> read_tfrecords(files).cardinality().numpy()             # doctest: +SKIP
"""

from __future__ import annotations

import glob
import os
import pathlib
import re
from typing import Iterable, Sequence

import numpy as np
import tensorflow as tf

KAGGLE_ROOT = "/kaggle/input/gan-getting-started"
FEATURES = {"image_name": "bytes", "image": "bytes", "target": "bytes"}
SOURCES = ("auto", "tfrec", "jpg")
_COUNT = re.compile(r"-(\d+)\.tfrec(?:ord)?$")


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def write_tfrecords(images_uint8, path_prefix, *, names: Sequence[str] | None = None, target: str = "monet",
                    shards: int = 1, quality: int = 95) -> list[pathlib.Path]:
    """Writes images as gan-getting-started TFRecords: ``{prefix}{shard:02d}-{count}.tfrec``.

    Args:
        images_uint8: uint8 array ``(N, H, W, 3)`` (or a sequence of ``(H, W, 3)`` arrays).
        path_prefix: folder and file prefix, e.g. ``"out/monet_tfrec/monet"`` -> ``out/monet_tfrec/monet00-60.tfrec``.
        names: ``image_name`` of each image (default ``"{target}_{i:05d}"``).
        target: the ``target`` feature (``"monet"`` or ``"photo"``).
        shards: number of files (images split as evenly as possible).
        quality: JPEG quality.

    Returns:
        The written files, in shard order.

    Example:
    >>> import tempfile
    >>> files = write_tfrecords(np.zeros((3, 8, 8, 3), np.uint8), tempfile.mkdtemp() + "/monet", shards=2)
    >>> [f.name for f in files]
    ['monet00-2.tfrec', 'monet01-1.tfrec']
    """
    images = [np.asarray(im) for im in images_uint8]
    if not images:
        raise ValueError("write_tfrecords got no images.")
    for i, im in enumerate(images):
        if im.dtype != np.uint8 or im.ndim != 3 or im.shape[-1] != 3:
            raise ValueError(f"Image {i} must be uint8 (H, W, 3). Received dtype={im.dtype}, shape={im.shape}. "
                             "Convert float [-1, 1] images with kitlib.data.to_uint8 first.")
    shards = int(shards)
    if not 1 <= shards <= len(images):
        raise ValueError(f"shards must be between 1 and the number of images ({len(images)}). Received: {shards}")
    if shards > 100:
        raise ValueError(f"shards must be <= 100 (two-digit shard index). Received: shards={shards}")
    if names is None:
        names = [f"{target}_{i:05d}" for i in range(len(images))]
    elif len(names) != len(images):
        raise ValueError(f"names must have one entry per image ({len(images)}). Received {len(names)} names.")
    prefix = pathlib.Path(path_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    files = []
    for shard, index in enumerate(np.array_split(np.arange(len(images)), shards)):
        path = prefix.parent / f"{prefix.name}{shard:02d}-{len(index)}.tfrec"
        with tf.io.TFRecordWriter(str(path)) as writer:
            for i in index:
                jpeg = tf.io.encode_jpeg(images[i], quality=quality).numpy()
                example = tf.train.Example(features=tf.train.Features(feature={
                    "image_name": _bytes_feature(str(names[i]).encode()),
                    "image": _bytes_feature(jpeg),
                    "target": _bytes_feature(target.encode()),
                }))
                writer.write(example.SerializeToString())
        files.append(path)
    return files


def count_from_filenames(files: Iterable) -> int:
    """Total number of records from file names like ``monet00-60.tfrec`` (the number after ``-``).

    Example:
    >>> count_from_filenames(["monet00-60.tfrec", "monet01-60.tfrec"])
    120
    """
    total = 0
    for f in files:
        match = _COUNT.search(os.path.basename(str(f)))
        if not match:
            raise ValueError(f"Cannot read a record count from the file name {str(f)!r}: expected a name like "
                             "'monet00-60.tfrec' (shard index, '-', number of records).")
        total += int(match.group(1))
    return total


def _resolve_files(pattern_or_files) -> list[str]:
    if isinstance(pattern_or_files, (str, os.PathLike)):
        spec = str(pattern_or_files)
        if os.path.isdir(spec):
            spec = os.path.join(spec, "*.tfrec*")
        files = sorted(glob.glob(spec))
        if not files:
            raise FileNotFoundError(f"No TFRecord files match {spec!r}. Check the path (e.g. "
                                    f"'{KAGGLE_ROOT}/monet_tfrec/*.tfrec').")
        return files
    files = [str(f) for f in pattern_or_files]
    if not files:
        raise ValueError("read_tfrecords got an empty list of files.")
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise FileNotFoundError(f"TFRecord files not found: {missing[:3]}")
    return files


def _describe(example: tf.train.Example) -> dict[str, str]:
    features = example.features.feature
    return {key: features[key].WhichOneof("kind") or "empty" for key in sorted(features)}


def check_schema(path) -> dict[str, str]:
    """Parses the first record of a TFRecord file and checks it has the gan-getting-started features.

    Returns:
        The features found, name -> kind (``"bytes_list"``, ``"int64_list"``, ``"float_list"``).

    Raises:
        ValueError: naming the file, the features found and the ones expected.
    """
    path = str(path)
    expected = ", ".join(f"{k} ({v})" for k, v in FEATURES.items())
    try:
        raw = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(f"{path} is not a readable TFRecord file ({type(e).__name__}). "
                         f"Expected gan-getting-started records with {expected}.") from None
    if raw is None:
        raise ValueError(f"{path} holds no records. Expected gan-getting-started records with {expected}.")
    try:
        example = tf.train.Example.FromString(raw.numpy())
    except Exception:  # protobuf DecodeError
        raise ValueError(f"The records of {path} are not tf.train.Example protos. Expected features: "
                         f"{expected}.") from None
    found = _describe(example)
    if found.get("image") != "bytes_list":
        raise ValueError(f"{path} has another schema: features found {found}; expected {expected} with 'image' "
                         "holding JPEG bytes. Use a reader for that dataset's own schema.")
    return found


def read_tfrecords(pattern_or_files, *, image_size: int = 256) -> tf.data.Dataset:
    """Reads gan-getting-started TFRecords as an unbatched dataset of uint8 ``(image_size, image_size, 3)``.

    The schema is checked up front on the first record of each file. When every file name carries its record
    count (``monet00-60.tfrec``) the dataset's cardinality is set from them (so ``prepare`` knows the epoch
    length); otherwise the records are counted once.

    Args:
        pattern_or_files: a glob pattern, a folder, or a list of files.
        image_size: output side (the competition images are 256; other sizes are resized, antialiased).

    Returns:
        An unbatched ``tf.data.Dataset`` of uint8 images, in file order.

    Example:
    >>> monet = read_tfrecords("/kaggle/input/gan-getting-started/monet_tfrec/*.tfrec")   # doctest: +SKIP
    """
    if int(image_size) < 1:
        raise ValueError(f"image_size must be a positive int. Received: image_size={image_size}")
    image_size = int(image_size)
    files = _resolve_files(pattern_or_files)
    for f in files:
        check_schema(f)
    if all(_COUNT.search(os.path.basename(f)) for f in files):
        count = count_from_filenames(files)
    else:
        count = int(tf.data.TFRecordDataset(files).reduce(np.int64(0), lambda n, _: n + 1))

    def decode(record):
        parsed = tf.io.parse_single_example(record, {"image": tf.io.FixedLenFeature([], tf.string)})
        image = tf.io.decode_jpeg(parsed["image"], channels=3)
        shape = tf.shape(image)

        def resize():
            resized = tf.image.resize(image, [image_size, image_size], antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

        same = (shape[0] == image_size) & (shape[1] == image_size)
        image = tf.cond(same, lambda: image, resize)
        image.set_shape([image_size, image_size, 3])
        return image

    ds = tf.data.TFRecordDataset(files).map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.apply(tf.data.experimental.assert_cardinality(count))


def gan_getting_started(root=KAGGLE_ROOT, *, image_size: int = 256,
                        source: str = "auto") -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The competition's Monet paintings and photos as two unbatched uint8 datasets.

    Args:
        root: the competition data folder (Kaggle: ``/kaggle/input/gan-getting-started``).
        image_size: output side (256 in the competition).
        source: ``"tfrec"`` (``{monet,photo}_tfrec/*.tfrec``), ``"jpg"`` (``{monet,photo}_jpg/``), or ``"auto"``
            (TFRecords when present, else the JPEG folders).

    Returns:
        ``(monet, photo)`` datasets (300 and 7,038 images in the competition data).

    Example:
    >>> monet, photo = gan_getting_started()                     # doctest: +SKIP
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(map(repr, SOURCES))}. Received: source={source!r}")
    folder = pathlib.Path(root).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The gan-getting-started data is not at {str(root)!r}. In a Kaggle notebook attach it: Add data -> "
            "Competitions -> \"I'm Something of a Painter Myself\" (it appears at /kaggle/input/gan-getting-started). "
            "Elsewhere: `kaggle competitions download -c gan-getting-started`, unzip, and pass root='that/folder'.")
    tfrec = [sorted(glob.glob(str(folder / f"{d}_tfrec" / "*.tfrec"))) for d in ("monet", "photo")]
    jpg = [folder / f"{d}_jpg" for d in ("monet", "photo")]
    if source == "auto":
        source = "tfrec" if all(tfrec) else "jpg" if all(p.is_dir() for p in jpg) else None
    if source == "tfrec" and all(tfrec):
        return read_tfrecords(tfrec[0], image_size=image_size), read_tfrecords(tfrec[1], image_size=image_size)
    if source == "jpg" and all(p.is_dir() for p in jpg):
        from kitlib.data.folders import image_folder

        return image_folder(jpg[0], image_size), image_folder(jpg[1], image_size)
    found = sorted(p.name for p in folder.iterdir())
    want = ("monet_tfrec/*.tfrec and photo_tfrec/*.tfrec" if source == "tfrec" else
            "monet_jpg/ and photo_jpg/" if source == "jpg" else
            "monet_tfrec/ + photo_tfrec/ (*.tfrec) or monet_jpg/ + photo_jpg/")
    raise FileNotFoundError(f"{folder} does not hold the gan-getting-started layout: expected {want}; found "
                            f"{found or 'an empty folder'}. Pass root= the folder that contains them.")
