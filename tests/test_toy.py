"""Tests for kitlib.data.toy: the procedural embedded datasets."""

import math

import numpy as np
import pytest
from PIL import Image

from kitlib.data import toy

SIMPLE = {"faces": toy.make_faces, "paintings": toy.make_paintings, "drawings": toy.make_drawings}


def _images(family, n, size, seed=0):
    """The RGB images of any family (landscapes and pixel art return tuples)."""
    if family == "landscapes":
        return toy.make_landscapes(n, size, seed)[0]
    if family == "pixel_art":
        return toy.make_pixel_art(n, size, seed)[0]
    return SIMPLE[family](n, size, seed)


def _pixel_cell(nominal, size):
    return max(1, math.floor(nominal * size / 64 + 0.5))


@pytest.mark.parametrize("family", toy.FAMILIES)
def test_deterministic_and_prefix_stable(family):
    five = _images(family, 5, 32, seed=3)
    np.testing.assert_array_equal(five, _images(family, 5, 32, seed=3))
    np.testing.assert_array_equal(_images(family, 2, 32, seed=3), five[:2])
    other = _images(family, 2, 32, seed=4)
    assert np.abs(other.astype(int) - five[:2]).mean() > 5.0


@pytest.mark.parametrize("family", toy.FAMILIES)
@pytest.mark.parametrize("size", [32, 64])
def test_shape_dtype_range(family, size):
    images = _images(family, 3, size, seed=1)
    assert images.shape == (3, size, size, 3)
    assert images.dtype == np.uint8
    assert images.std() > 10  # not flat
    assert images.max() > 150  # light backgrounds / skies are present
    assert images.min() < 120  # outlines, shadows, foliage are present


def test_large_size_and_tuple_outputs():
    images, labels = toy.make_landscapes(1, 128, seed=0)
    assert images.shape == (1, 128, 128, 3) and labels.shape == (1, 128, 128)
    assert labels.dtype == np.uint8
    art, cells, drawings = toy.make_pixel_art(2, 64, seed=0)
    assert art.shape == drawings.shape == (2, 64, 64, 3)
    assert cells.dtype == np.int32 and cells.shape == (2,)


@pytest.mark.parametrize("family", toy.FAMILIES)
def test_variety(family):
    images = _images(family, 8, 32, seed=0).astype(np.float32)
    flat = images.reshape(len(images), -1)
    dist = np.abs(flat[:, None] - flat[None]).mean(axis=-1)
    off_diagonal = dist[~np.eye(len(images), dtype=bool)]
    assert off_diagonal.min() > 10.0  # no two images alike
    assert off_diagonal.mean() > 20.0


def test_landscape_labels_ids_and_consistency():
    images, labels = toy.make_landscapes(12, 64, seed=0)
    assert labels.min() >= 0 and labels.max() < len(toy.LANDSCAPE_CLASSES)
    for label in labels:  # sky on top, some ground at the bottom
        assert label[0].tolist().count(0) + label[0].tolist().count(1) > 32
        assert np.isin(label[-1], [3, 4, 5, 6, 7]).all()
    seen = set(np.unique(labels).tolist())
    assert {0, 1, 2, 3, 4, 5, 6, 7} <= seen
    rgb = images.astype(np.float32)
    grass = rgb[labels == 4].mean(axis=0)
    assert grass[1] > grass[0] and grass[1] > grass[2]  # green
    water = rgb[labels == 3].mean(axis=0)
    assert water[2] > water[0]  # blue
    cloud, sand, road = (rgb[labels == c].mean(axis=0) for c in (1, 6, 7))
    assert cloud.mean() > 200  # white
    assert sand[0] > sand[2] + 40  # beige
    assert np.ptp(road) < 30  # grey


def test_colorize_labels_palette():
    assert toy.LANDSCAPE_CLASSES == ("sky", "cloud", "mountain", "water", "grass", "tree", "sand", "road")
    assert toy.LANDSCAPE_PALETTE.dtype == np.uint8 and toy.LANDSCAPE_PALETTE.shape == (8, 3)
    assert toy.LANDSCAPE_PALETTE[4].tolist() == [90, 170, 60] and toy.DONTCARE_ID == 255
    rgb = toy.colorize_labels(np.array([[0, 7], [255, 3]], np.uint8))
    assert rgb.dtype == np.uint8
    assert rgb.tolist() == [[[110, 160, 230], [128, 128, 128]], [[0, 0, 0], [40, 90, 170]]]
    _, labels = toy.make_landscapes(2, 32, seed=0)
    colored = toy.colorize_labels(labels)
    assert colored.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(colored[labels == 5], np.tile(toy.LANDSCAPE_PALETTE[5], ((labels == 5).sum(), 1)))
    with pytest.raises(ValueError, match="0..7"):
        toy.colorize_labels(np.array([[8]], np.uint8))
    with pytest.raises(ValueError, match="integer"):
        toy.colorize_labels(np.zeros((2, 2), np.float32))


@pytest.mark.parametrize("size", [32, 64])
def test_pixel_art_cells_are_uniform(size):
    cells = (1, 2, 3, 4, 5, 6, 7)
    art, nominal, drawings = toy.make_pixel_art(14, size, seed=2, cell_sizes=cells)
    assert set(nominal.tolist()) <= set(cells) and len(set(nominal.tolist())) >= 4
    for image, c in zip(art, nominal):
        k = _pixel_cell(int(c), size)
        idx = (np.arange(size) // k) * k
        np.testing.assert_array_equal(image, image[idx][:, idx])  # every k x k cell holds one colour
        assert len(np.unique(image.reshape(-1, 3), axis=0)) <= 17  # 8..16 colours + the outline
    np.testing.assert_array_equal(drawings, toy.make_drawings(14, size, seed=2))
    # pixel_art[i] is made from drawings[i]: it is closer to its own drawing than to the others
    diff = np.abs(art[:, None].astype(np.float32) - drawings[None]).mean(axis=(2, 3, 4))
    assert (diff.argmin(axis=1) == np.arange(len(art))).all()


def test_pixel_art_blocky_vs_drawing():
    art, _, drawings = toy.make_pixel_art(4, 64, seed=0, cell_sizes=(6,), outline=False)
    # horizontal neighbours inside a 6-px cell are equal, in drawings they often differ
    same_art = (art[:, :, 1:] == art[:, :, :-1]).all(-1).mean()
    same_drawing = (drawings[:, :, 1:] == drawings[:, :, :-1]).all(-1).mean()
    assert same_art > 5 / 6 - 1e-6 and same_art > same_drawing


def test_tf_datasets_and_min_cell():
    ds = toy.faces(3, 32, seed=0)
    assert ds.element_spec.shape == (32, 32, 3) and ds.element_spec.dtype.name == "uint8"
    np.testing.assert_array_equal(next(iter(ds)).numpy(), toy.make_faces(1, 32, seed=0)[0])
    image, label = next(iter(toy.landscapes(2, 32, seed=0)))
    assert image.shape == (32, 32, 3) and label.shape == (32, 32) and label.dtype.name == "uint8"
    assert toy.paintings(2, 32, 0).cardinality().numpy() == 2
    assert toy.drawings(2, 32, 0).cardinality().numpy() == 2
    ds = toy.pixel_art(6, 32, seed=0, min_cell=4)
    elements = list(ds.as_numpy_iterator())
    assert len(elements) == 6
    assert all(e["cell_size"] >= 4 for e in elements)
    assert elements[0]["image"].shape == (32, 32, 3) and elements[0]["drawing"].dtype == np.uint8
    with pytest.raises(ValueError, match="min_cell"):
        toy.pixel_art(2, 32, seed=0, cell_sizes=(1, 2), min_cell=3)


def test_write_folder(tmp_path):
    paths = toy.write_folder("landscapes", tmp_path / "land", 3, image_size=32, seed=5)
    assert [p.name for p in paths] == ["landscapes_00000.png", "landscapes_00001.png", "landscapes_00002.png"]
    images, labels = toy.make_landscapes(3, 32, seed=5)
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            assert im.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(im), images[i])
        with Image.open(path.parent / "labels" / path.name) as lab:
            assert lab.mode == "L"
            np.testing.assert_array_equal(np.asarray(lab), labels[i])
    paths = toy.write_folder("pixel_art", tmp_path / "pix", 2, image_size=32)
    assert all(p.is_file() for p in paths) and not (tmp_path / "pix" / "labels").exists()
    with Image.open(paths[1]) as im:
        assert im.size == (32, 32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be >= 1"),
        ({"n": 2.0}, "n must be an integer"),
        ({"image_size": 16}, "image_size must be in 32..256"),
        ({"image_size": 300}, "image_size"),
        ({"image_size": "64"}, "image_size must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": True}, "seed must be an integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"n": 2, "image_size": 32, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        toy.make_faces(**args)
    with pytest.raises(ValueError, match=message):
        toy.make_landscapes(**args)


def test_bad_family_and_cell_sizes(tmp_path):
    with pytest.raises(ValueError, match="family must be one of .*pixel_art.*Received: family='monet'"):
        toy.write_folder("monet", tmp_path, 2)
    for cells in [(0,), (17,), (), (2.5,), 3]:
        with pytest.raises(ValueError, match="cell_sizes"):
            toy.make_pixel_art(2, 32, cell_sizes=cells)
