"""Tests for kitlib.data.labels: label-map + image pairs (GauGAN/SPADE), validation, one-hot, histograms."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kitlib import data
from kitlib.data import toy


def _write_pairs(tmp_path, n=3, size=32, label_format="ids", label_size=None):
    images, labels = toy.make_landscapes(n, size, seed=0)
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for i in range(n):
        Image.fromarray(images[i]).save(tmp_path / "images" / f"scene{i}.png")
        label = labels[i] if label_format == "ids" else toy.colorize_labels(labels[i])
        label_image = Image.fromarray(label)
        if label_size:
            label_image = label_image.resize(label_size, Image.NEAREST)
        label_image.save(tmp_path / "labels" / f"scene{i}.png")
    return images, labels


def test_id_label_maps_pair_with_images(tmp_path):
    images, labels = _write_pairs(tmp_path)
    pairs = data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32)
    assert int(pairs.cardinality()) == 3
    got = list(pairs.as_numpy_iterator())
    for (image, label), want_image, want_label in zip(got, images, labels):
        assert image.shape == (32, 32, 3) and label.shape == (32, 32) and label.dtype == np.uint8
        np.testing.assert_array_equal(image, want_image)
        np.testing.assert_array_equal(label, want_label)


def test_colour_coded_label_maps_use_the_palette(tmp_path):
    _, labels = _write_pairs(tmp_path, label_format="color")
    pairs = data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=16,
                                 label_format="color")
    _, label = next(iter(pairs))
    expected = labels[0][1::2, 1::2]  # half-pixel centres: pixel 2i+1
    np.testing.assert_array_equal(label.numpy(), expected)  # nearest resize: ids never blend
    assert set(np.unique(label.numpy())) <= set(range(8))


def test_palette_index_pngs_are_read_as_ids(tmp_path):
    _, labels = _write_pairs(tmp_path, n=1)
    palette_png = Image.fromarray(labels[0], mode="L").convert("P")
    palette_png.putpalette(toy.LANDSCAPE_PALETTE.ravel().tolist())
    palette_png.save(tmp_path / "labels" / "scene0.png")
    _, label = next(iter(data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8,
                                              image_size=32)))
    np.testing.assert_array_equal(label.numpy(), labels[0])


def test_ids_beyond_num_classes_name_file_ids_and_fix(tmp_path):
    _write_pairs(tmp_path)
    bad = np.zeros((32, 32), np.uint8)
    bad[0, :3] = (9, 12, 255)  # 255 is don't care: allowed
    Image.fromarray(bad).save(tmp_path / "labels" / "scene1.png")
    with pytest.raises(ValueError, match=r"ids >= num_classes=8.*scene1\.png: \[9, 12\].*num_classes=13"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32)


def test_unknown_colour_names_file_colour_and_pixels(tmp_path):
    _write_pairs(tmp_path, label_format="color")
    label = toy.colorize_labels(np.zeros((32, 32), np.uint8))
    label[:2, :3] = (1, 2, 3)
    Image.fromarray(label).save(tmp_path / "labels" / "scene2.png")
    with pytest.raises(ValueError, match=r"scene2\.png.*\(1, 2, 3\): 6 px"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32,
                             label_format="color")


def test_label_map_of_another_size(tmp_path):
    _, labels = _write_pairs(tmp_path, n=2, label_size=(64, 64))  # same aspect: resized with a warning
    with pytest.warns(UserWarning, match=r"2 label maps differ in size.*64x64 -> 32x32"):
        pairs = data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32)
    _, label = next(iter(pairs))
    np.testing.assert_array_equal(label.numpy(), labels[0])  # 2x nearest up then down: exact
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "labels" / "scene1.png")
    with pytest.raises(ValueError, match=r"scene1\.png is 48x32 but its image .* is 32x32"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32)


def test_missing_partners_are_listed(tmp_path):
    _write_pairs(tmp_path, n=3)
    (tmp_path / "labels" / "scene1.png").unlink()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "labels" / "extra.png")
    with pytest.raises(ValueError, match=r"1 images .* no label map .*'scene1'; 1 label maps have no image: 'extra'"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=8, image_size=32)


def test_label_argument_and_format_errors(tmp_path):
    _write_pairs(tmp_path, n=1, label_format="color")
    kwargs = dict(num_classes=8, image_size=32)
    with pytest.raises(ValueError, match="label_format='color'"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", **kwargs)  # RGB labels read as ids
    with pytest.raises(ValueError, match="label_format"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", label_format="rgb", **kwargs)
    with pytest.raises(ValueError, match="num_classes"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", num_classes=300, image_size=32)
    with pytest.raises(ValueError, match=r"palette.*\(8, 3\)"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "labels", label_format="color",
                             palette=np.zeros((3, 3)), **kwargs)
    (tmp_path / "jpg_labels").mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "jpg_labels" / "scene0.jpg")
    with pytest.raises(ValueError, match=r"\.jpg \(1\).*lossless"):
        data.label_map_pairs(tmp_path / "images", tmp_path / "jpg_labels", **kwargs)


def test_colors_to_ids_exact_match_and_unknown_id():
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0]], np.uint8)
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 0], [9, 9, 9]]], np.uint8)
    np.testing.assert_array_equal(data.colors_to_ids(rgb, palette, unknown_id=255), [[1, 2, 0, 255]])
    with pytest.raises(ValueError, match=r"1 colours are not in the palette \(3 colours\): \(9, 9, 9\): 1 px"):
        data.colors_to_ids(rgb, palette)
    ids = toy.make_landscapes(1, 32, seed=1)[1][0]
    np.testing.assert_array_equal(data.colors_to_ids(toy.colorize_labels(ids), toy.LANDSCAPE_PALETTE), ids)


def test_one_hot_labels_with_dontcare():
    label = np.array([[0, 2], [255, 1]], np.uint8)
    one_hot = data.one_hot_labels(label, 3).numpy()
    assert one_hot.shape == (2, 2, 3) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot[0, 0], [1, 0, 0])
    np.testing.assert_array_equal(one_hot[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(one_hot[1, 0], [0, 0, 0])
    batched = data.one_hot_labels(tf.constant(np.stack([label, label])), 3)
    assert batched.shape == (2, 2, 2, 3)
    assert float(tf.reduce_sum(batched)) == 6.0


def test_label_histogram_from_arrays_and_datasets():
    labels = np.array([[[0, 0, 1, 255]], [[1, 1, 1, 2]]], np.uint8)
    hist = data.label_histogram(labels, 3)
    np.testing.assert_allclose(hist, [2 / 7, 4 / 7, 1 / 7])
    pairs = tf.data.Dataset.from_tensor_slices((np.zeros((2, 1, 4, 3), np.uint8), labels))
    np.testing.assert_allclose(data.label_histogram(pairs, 3), hist)
    np.testing.assert_allclose(data.label_histogram(pairs.batch(2), 3), hist)
    with pytest.raises(ValueError, match=r"\[2\] are outside 0\.\.1"):
        data.label_histogram(labels, 2)
    toy_hist = data.label_histogram(toy.landscapes(4, 32).map(lambda image, label: label), 8)
    assert toy_hist.shape == (8,) and abs(toy_hist.sum() - 1) < 1e-9 and toy_hist[0] > 0.05  # some sky
