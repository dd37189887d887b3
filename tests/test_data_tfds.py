"""Tests for kitlib.data.tfds: clear errors when data is absent, and the image conversion on mocked TFDS data."""

import pytest

from kitlib import data

tfds = pytest.importorskip("tensorflow_datasets")


def test_absent_dataset_names_data_dir_and_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'mnist' is not prepared in .*mnist.*download=True"):
        data.tfds_dataset("mnist", data_dir=str(tmp_path))


def test_unknown_name_and_bad_size(tmp_path):
    with pytest.raises(ValueError, match="no dataset named 'no_such_dataset_xyz'"):
        data.tfds_dataset("no_such_dataset_xyz", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="image_size"):
        data.tfds_dataset("mnist", image_size=0)


def test_mocked_greyscale_dataset_becomes_rgb_uint8(tmp_path):
    with tfds.testing.mock_data(num_examples=3):
        ds = data.tfds_dataset("mnist", data_dir=str(tmp_path), download=True)
        images = list(ds.as_numpy_iterator())
        resized = next(iter(data.tfds_dataset("mnist", data_dir=str(tmp_path), download=True, image_size=8)))
        with pytest.raises(ValueError, match=r"no feature 'picture'.*\['image', 'label'\]"):
            data.tfds_dataset("mnist", data_dir=str(tmp_path), download=True, image_key="picture")
    assert len(images) == 3
    assert all(x.shape == (28, 28, 3) and x.dtype.name == "uint8" for x in images)
    assert (images[0][..., 0] == images[0][..., 2]).all()  # greyscale tiled to RGB
    assert resized.shape == (8, 8, 3)
