"""Kaggle "I'm Something of a Painter Myself" submission: translate every photo, zip the JPEGs, validate the zip.

The competition wants one ``images.zip`` holding 7,000 to 10,000 RGB images of 256x256 pixels. ``write_submission``
translates every photo it is given, writes each output as a JPEG into the zip (written to a temporary file, renamed
when complete), re-opens the zip and checks count, size, mode and that every image decodes, and only then reports
success. ``validate_submission`` runs the same checks on any zip.

Reference: https://www.kaggle.com/competitions/gan-getting-started/overview/evaluation

Example:
>>> report = write_submission(gan.generator_ab, photos, "/kaggle/working/images.zip")   # doctest: +SKIP
>>> print(report)                                                                        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import io
import os
import pathlib
import zipfile
from typing import Callable

import numpy as np

from kitlib.images import to_float, to_uint8

KAGGLE_MIN_IMAGES = 7000
KAGGLE_MAX_IMAGES = 10000
KAGGLE_IMAGE_SIZE = 256


@dataclasses.dataclass(frozen=True)
class SubmissionReport:
    """What a validated submission zip holds."""

    path: pathlib.Path
    count: int
    image_size: int
    megabytes: float

    def __str__(self) -> str:
        return (f"{self.path}: {self.count} RGB JPEGs of {self.image_size}x{self.image_size}, "
                f"{self.megabytes:.1f} MB — valid submission")


def _check_bounds(min_count: int, max_count: int, image_size: int) -> None:
    if not 1 <= min_count <= max_count:
        raise ValueError(f"Need 1 <= min_count <= max_count. Received: {min_count=}, {max_count=}")
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1. Received: image_size={image_size}")


def validate_submission(path: str | os.PathLike, *, min_count: int = KAGGLE_MIN_IMAGES,
                        max_count: int = KAGGLE_MAX_IMAGES, image_size: int = KAGGLE_IMAGE_SIZE) -> SubmissionReport:
    """Checks a submission zip: image count in bounds, every member a readable RGB JPEG/PNG of the right size.

    Args:
        path: the zip file.
        min_count, max_count: allowed number of images (the competition's 7,000..10,000 by default).
        image_size: required height and width (256).

    Returns:
        A ``SubmissionReport``.

    Raises:
        ValueError: listing every problem found (first 5 bad files by name).

    Example:
    >>> validate_submission("images.zip", min_count=10, max_count=20, image_size=64)   # doctest: +SKIP
    """
    from PIL import Image

    _check_bounds(min_count, max_count, image_size)
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run write_submission first.")
    problems, bad, count = [], [], 0
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path} is not a zip file ({err}).") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            count += 1
            if not info.filename.lower().endswith((".jpg", ".jpeg", ".png")):
                bad.append(f"{info.filename}: not a .jpg/.png file")
                continue
            try:
                with Image.open(io.BytesIO(archive.read(info))) as img:
                    img.load()
                    size, mode = img.size, img.mode
            except Exception as err:  # PIL raises many types for corrupt data
                bad.append(f"{info.filename}: unreadable ({type(err).__name__})")
                continue
            if size != (image_size, image_size) or mode != "RGB":
                bad.append(f"{info.filename}: {size[0]}x{size[1]} {mode}, expected {image_size}x{image_size} RGB")
    if not min_count <= count <= max_count:
        problems.append(f"{count} images, the competition requires {min_count}..{max_count}")
    if bad:
        problems.append(f"{len(bad)} bad files, e.g. " + "; ".join(bad[:5]))
    if problems:
        raise ValueError(f"{path} is NOT a valid submission: " + " | ".join(problems))
    return SubmissionReport(path, count, image_size, path.stat().st_size / 2**20)


def _known_count(photos) -> int | None:
    """The number of photos when it is known before reading them: an array's length, an unbatched dataset's
    cardinality (a batched dataset counts batches: None, the written zip is checked instead)."""
    if hasattr(photos, "cardinality"):
        if len(photos.element_spec.shape) != 3:
            return None
        n = int(photos.cardinality())
        return n if n >= 0 else None
    return len(photos) if hasattr(photos, "__len__") else None


def _photo_batches(photos, batch_size: int):
    """Float32 [-1, 1] batches from an array, a tf.data.Dataset (batched or not) or an iterable of arrays."""
    arr = photos if isinstance(photos, np.ndarray) else None
    if arr is not None:
        chunks = (arr[i: i + batch_size] for i in range(0, len(arr), batch_size))
    elif hasattr(photos, "element_spec") and len(photos.element_spec.shape) == 3:
        chunks = photos.batch(batch_size).as_numpy_iterator()
    else:
        chunks = (np.asarray(b) for b in photos)
    for chunk in chunks:
        chunk = np.asarray(chunk)
        if chunk.ndim == 3:
            chunk = chunk[None]
        if chunk.ndim != 4 or chunk.shape[-1] != 3:
            raise ValueError(f"photos must be RGB images (H, W, 3) or batches. Received a batch of shape {chunk.shape}")
        yield to_float(chunk)


def write_submission(generator: Callable, photos, path: str | os.PathLike = "images.zip", *, batch_size: int = 32,
                     image_size: int = KAGGLE_IMAGE_SIZE, min_count: int = KAGGLE_MIN_IMAGES,
                     max_count: int = KAGGLE_MAX_IMAGES, quality: int = 95) -> SubmissionReport:
    """Translates every photo with ``generator``, writes ``image_size``² RGB JPEGs into a zip and validates it.

    Photos are resized to the generator's input size when it is fixed and different (area averaging), and outputs
    to ``image_size`` (bicubic) when they differ: a generator trained at 128 px still gives a valid 256 px
    submission. Nothing is skipped: every photo gives one image.

    Args:
        generator: photo -> Monet model, e.g. ``cyclegan.generator_ab``: any callable ``f(x, training=False)`` on
            float32 batches in [-1, 1] returning [-1, 1] images.
        photos: the photos: a ``tf.data.Dataset`` of images (batched or not), a uint8/float array, or an iterable
            of batches; uint8 in [0, 255] or floats in [-1, 1].
        path: the zip to write (Kaggle: ``/kaggle/working/images.zip``).
        batch_size: translation batch size for unbatched inputs.
        image_size: side of the written images (256 for the competition).
        min_count, max_count: allowed image counts (7,000..10,000 for the competition; pass your own for a toy run).
        quality: JPEG quality.

    Returns:
        The ``SubmissionReport`` of the validated zip.

    Raises:
        ValueError: the photo count is known and out of bounds (before any work), or the written zip fails
            validation (see ``validate_submission``).

    Example:
    >>> import numpy as np, keras
    >>> g = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Activation("tanh")])
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "images.zip"
    >>> report = write_submission(g, np.zeros((3, 32, 32, 3), "uint8"), out, image_size=64, min_count=3, max_count=5)
    >>> report.count
    3
    """
    import keras
    from PIL import Image

    _check_bounds(min_count, max_count, image_size)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100. Received: quality={quality}")
    known = _known_count(photos)
    if known is not None and not min_count <= known <= max_count:
        raise ValueError(f"{known} photos given; the submission needs {min_count}..{max_count} images. "
                         "Pass all the photos (Kaggle: the 7,038 of photo_tfrec) or set min_count/max_count.")
    input_shape = getattr(generator, "input_shape", None)
    size_in = tuple(input_shape[1:3]) if input_shape is not None and None not in input_shape[1:3] else None
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for batch in _photo_batches(photos, batch_size):
            if size_in is not None and batch.shape[1:3] != size_in:
                batch = keras.ops.convert_to_numpy(keras.ops.image.resize(batch, size_in, interpolation="area"))
            out = to_uint8(np.asarray(keras.ops.convert_to_numpy(generator(batch, training=False)), "float32"))
            for image in out:
                img = Image.fromarray(image, "RGB")
                if img.size != (image_size, image_size):
                    img = img.resize((image_size, image_size), Image.BICUBIC)
                buffer = io.BytesIO()
                img.save(buffer, format="JPEG", quality=quality)
                archive.writestr(f"{count:05d}.jpg", buffer.getvalue())
                count += 1
    os.replace(tmp, path)
    return validate_submission(path, min_count=min_count, max_count=max_count, image_size=image_size)
