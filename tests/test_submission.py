"""Kaggle submission: every photo of a generated TFRecord set translated into a validated images.zip; the validator
catches wrong counts, sizes, modes and unreadable files."""

import io
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from kitlib.data import gan_getting_started, write_tfrecords
from kitlib.eval.submission import validate_submission, write_submission


def _tiny_generator(size=32):
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros", bias_initializer="ones")(inputs)
    return keras.Model(inputs, keras.layers.Activation("tanh")(x), name="tiny")


def test_submission_from_generated_kaggle_tfrecords(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "gan-getting-started"
    write_tfrecords(rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8), root / "monet_tfrec" / "monet",
                    target="monet")
    write_tfrecords(rng.integers(0, 256, (11, 64, 64, 3), dtype=np.uint8), root / "photo_tfrec" / "photo",
                    target="photo", shards=3)
    _, photos = gan_getting_started(root, image_size=64)
    report = write_submission(_tiny_generator(32), photos, tmp_path / "out" / "images.zip", batch_size=4,
                              min_count=11, max_count=11)
    assert report.count == 11 and report.image_size == 256
    with zipfile.ZipFile(report.path) as archive:
        names = sorted(archive.namelist())
        assert names == [f"{i:05d}.jpg" for i in range(11)]  # one image per photo, none skipped
        with Image.open(io.BytesIO(archive.read(names[0]))) as img:
            assert img.format == "JPEG" and img.size == (256, 256) and img.mode == "RGB"
            # tanh(1) everywhere -> (0.7616 + 1) * 127.5 = 224.6: the generator's output, upscaled
            assert abs(np.asarray(img).astype(float).mean() - 224.6) < 2
    assert not list((tmp_path / "out").glob(".*tmp"))  # written atomically, no leftovers
    assert "valid submission" in str(report)


def test_competition_bounds_are_the_default(tmp_path):
    photos = np.zeros((5, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="5 photos given; the submission needs 7000..10000"):
        write_submission(_tiny_generator(), photos, tmp_path / "images.zip")
    assert not (tmp_path / "images.zip").exists()  # refused before doing any work


def test_a_batched_dataset_counts_photos_not_batches(tmp_path):
    """A batched tf.data.Dataset's cardinality is its number of batches: 11 photos in batches of 4 are 11 images."""
    import tensorflow as tf

    photos = tf.data.Dataset.from_tensor_slices(np.zeros((11, 32, 32, 3), np.uint8)).batch(4)
    report = write_submission(_tiny_generator(), photos, tmp_path / "images.zip", min_count=11, max_count=11)
    assert report.count == 11
    with pytest.raises(ValueError, match="12 photos given|12 images"):  # bounds still checked, on the written zip
        write_submission(_tiny_generator(), photos.concatenate(photos.take(1).unbatch().take(1).batch(1)),
                         tmp_path / "images2.zip", min_count=11, max_count=11)


def _zip(path, images, names=None):
    with zipfile.ZipFile(path, "w") as archive:
        for i, image in enumerate(images):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "JPEG")
            archive.writestr(names[i] if names else f"{i}.jpg", buffer.getvalue())
    return path


def test_validator_reports_every_kind_of_problem(tmp_path):
    good = [np.zeros((256, 256, 3), np.uint8)] * 3
    assert validate_submission(_zip(tmp_path / "ok.zip", good), min_count=3, max_count=3).count == 3
    with pytest.raises(ValueError, match="3 images, the competition requires 7000..10000"):
        validate_submission(tmp_path / "ok.zip")
    small = _zip(tmp_path / "small.zip", [np.zeros((128, 128, 3), np.uint8)])
    with pytest.raises(ValueError, match="128x128 RGB, expected 256x256 RGB"):
        validate_submission(small, min_count=1)
    gray = _zip(tmp_path / "gray.zip", [np.zeros((256, 256), np.uint8)])
    with pytest.raises(ValueError, match="256x256 L, expected"):
        validate_submission(gray, min_count=1)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("0.jpg", b"not a jpeg")
        archive.writestr("notes.txt", b"hello")
    with pytest.raises(ValueError, match=r"0\.jpg: unreadable.*notes\.txt: not a \.jpg/\.png"):
        validate_submission(broken, min_count=2)
    (tmp_path / "plain.zip").write_bytes(b"plain text")
    with pytest.raises(ValueError, match="not a zip file"):
        validate_submission(tmp_path / "plain.zip")
