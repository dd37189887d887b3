"""Tests for kitlib.data.kaggle: gan-getting-started TFRecords (write/read round trip, schema check) and layout."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kitlib import data
from kitlib.data.kaggle import check_schema


def _images(n, size=16):
    """Smooth images (gradients) so JPEG round trips stay close."""
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    out = [np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (size, 1)), np.full((size, size), 20.0 * i)], -1)
           for i in range(n)]
    return np.clip(out, 0, 255).astype(np.uint8)


def test_tfrecord_round_trip_names_counts_and_pixels(tmp_path):
    images = _images(5)
    files = data.write_tfrecords(images, tmp_path / "monet_tfrec" / "monet", shards=2, target="monet")
    assert [f.name for f in files] == ["monet00-3.tfrec", "monet01-2.tfrec"]
    assert data.count_from_filenames(files) == 5
    ds = data.read_tfrecords(str(tmp_path / "monet_tfrec" / "*.tfrec"), image_size=16)
    assert int(ds.cardinality()) == 5
    back = np.stack(list(ds.as_numpy_iterator()))
    assert back.shape == (5, 16, 16, 3) and back.dtype == np.uint8
    assert np.abs(back.astype(int) - images).mean() < 3  # JPEG tolerance
    resized = next(iter(data.read_tfrecords(files, image_size=8)))
    assert resized.shape == (8, 8, 3)


def test_tfrecord_records_follow_the_kaggle_schema(tmp_path):
    (path,) = data.write_tfrecords(_images(2), tmp_path / "photo", names=["a1", "b2"], target="photo")
    raw = next(iter(tf.data.TFRecordDataset(str(path))))
    example = tf.train.Example.FromString(raw.numpy())
    features = example.features.feature
    assert set(features) == {"image_name", "image", "target"}
    assert features["image_name"].bytes_list.value[0] == b"a1" and features["target"].bytes_list.value[0] == b"photo"
    assert features["image"].bytes_list.value[0][:2] == b"\xff\xd8"  # JPEG
    assert check_schema(path) == {"image_name": "bytes_list", "image": "bytes_list", "target": "bytes_list"}


def test_tfrecord_with_another_schema_names_file_and_features(tmp_path):
    path = tmp_path / "other00-1.tfrec"
    with tf.io.TFRecordWriter(str(path)) as writer:
        example = tf.train.Example(features=tf.train.Features(feature={
            "img": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
        }))
        writer.write(example.SerializeToString())
    with pytest.raises(ValueError, match=r"other00-1\.tfrec has another schema.*'img'.*'label'.*image_name"):
        data.read_tfrecords([path])


def test_not_a_tfrecord_and_missing_files(tmp_path):
    bad = tmp_path / "junk00-1.tfrec"
    bad.write_bytes(b"this is not a tfrecord file at all")
    with pytest.raises(ValueError, match="junk00-1.tfrec is not a readable TFRecord"):
        data.read_tfrecords([bad])
    with pytest.raises(FileNotFoundError, match="No TFRecord files match"):
        data.read_tfrecords(str(tmp_path / "nothing" / "*.tfrec"))


def test_count_from_filenames_rejects_names_without_counts():
    assert data.count_from_filenames(["a/photo00-352.tfrec", "photo01-351.tfrec"]) == 703
    with pytest.raises(ValueError, match="monet.tfrec"):
        data.count_from_filenames(["monet.tfrec"])


def test_records_counted_when_file_names_carry_no_count(tmp_path):
    (path,) = data.write_tfrecords(_images(3), tmp_path / "x")
    renamed = path.rename(tmp_path / "plain.tfrecord")
    assert int(data.read_tfrecords([renamed], image_size=16).cardinality()) == 3


def test_write_tfrecords_validates(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        data.write_tfrecords(np.zeros((2, 8, 8, 3), np.float32), tmp_path / "m")
    with pytest.raises(ValueError, match="shards"):
        data.write_tfrecords(_images(2), tmp_path / "m", shards=3)
    with pytest.raises(ValueError, match="names"):
        data.write_tfrecords(_images(2), tmp_path / "m", names=["only_one"])


def test_gan_getting_started_tfrec_and_jpg_layouts(tmp_path):
    root = tmp_path / "gan-getting-started"
    data.write_tfrecords(_images(3), root / "monet_tfrec" / "monet", target="monet")
    data.write_tfrecords(_images(4), root / "photo_tfrec" / "photo", shards=2, target="photo")
    for domain, n in (("monet", 2), ("photo", 3)):
        (root / f"{domain}_jpg").mkdir()
        for i, image in enumerate(_images(n)):
            Image.fromarray(image).save(root / f"{domain}_jpg" / f"{i}.jpg", quality=95)
    monet, photo = data.gan_getting_started(root, image_size=16)
    assert int(monet.cardinality()) == 3 and int(photo.cardinality()) == 4
    monet, photo = data.gan_getting_started(root, image_size=16, source="jpg")
    assert int(monet.cardinality()) == 2 and int(photo.cardinality()) == 3
    assert next(iter(photo)).shape == (16, 16, 3)


def test_gan_getting_started_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere.*Add data.*root="):
        data.gan_getting_started(tmp_path / "nowhere")
    (tmp_path / "monet_jpg").mkdir()
    with pytest.raises(FileNotFoundError, match=r"expected monet_tfrec/.*found \['monet_jpg'\]"):
        data.gan_getting_started(tmp_path)
    with pytest.raises(ValueError, match="source"):
        data.gan_getting_started(tmp_path, source="png")
