"""Tests for kitlib.data.pairs: A|B pix2pix pairs and the central-square inpainting pairs."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kitlib import data

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _ab(h, w_half, left=RED, right=BLUE):
    image = np.zeros((h, 2 * w_half, 3), np.uint8)
    image[:, :w_half], image[:, w_half:] = left, right
    return image


def test_ab_pairs_split_sides_and_resize(tmp_path):
    for i in range(3):
        Image.fromarray(_ab(16, 16)).save(tmp_path / f"{i}.png")
    pairs = data.ab_pairs(tmp_path, 8)
    assert int(pairs.cardinality()) == 3
    x, y = next(iter(pairs))
    assert x.shape == y.shape == (8, 8, 3) and x.dtype == tf.uint8
    assert (x.numpy() == RED).all() and (y.numpy() == BLUE).all()
    x, y = next(iter(data.ab_pairs(tmp_path, 8, input_side="right", limit=1)))
    assert (x.numpy() == BLUE).all() and (y.numpy() == RED).all()


def test_ab_pairs_skips_and_names_files_that_are_not_twice_as_wide(tmp_path):
    Image.fromarray(_ab(16, 16)).save(tmp_path / "good.png")
    Image.fromarray(np.zeros((16, 20, 3), np.uint8)).save(tmp_path / "narrow.png")
    with pytest.warns(UserWarning, match=r"1 of 2 files.*narrow\.png \(20x16\)"):
        pairs = data.ab_pairs(tmp_path, 8)
    assert int(pairs.cardinality()) == 1
    with pytest.raises(ValueError, match=r"narrow\.png"):
        data.ab_pairs(tmp_path, 8, strict=True)


def test_ab_pairs_errors(tmp_path):
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "square.png")
    with pytest.raises(ValueError, match=r"not A\|B pairs.*square\.png"):
        data.ab_pairs(tmp_path, 8)
    with pytest.raises(ValueError, match="input_side"):
        data.ab_pairs(tmp_path, 8, input_side="top")
    with pytest.raises(ValueError, match="limit"):
        data.ab_pairs(tmp_path, 8, limit=0)
    with pytest.raises(FileNotFoundError):
        data.ab_pairs(tmp_path / "missing", 8)


@pytest.mark.parametrize("size", [9, 30, 64, 256])
def test_inpainting_mask_is_a_centred_ninth(size):
    mask = data.inpainting_mask(size)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    side = round(size / 3)
    assert len(rows) == len(cols) == side and mask.sum() == side * side
    assert abs(mask.sum() / size**2 - 1 / 9) <= 2 * side / size**2 + 1e-9  # 1/9 up to rounding of the side
    assert abs(rows[0] - (size - 1 - rows[-1])) <= 1 and abs(cols[0] - (size - 1 - cols[-1])) <= 1  # centred


def test_inpainting_pair_numpy_and_tensor_agree():
    image = np.random.default_rng(0).integers(0, 200, (12, 18, 3), dtype=np.uint8)
    masked, original = data.inpainting_pair(image)
    mask = data.inpainting_mask((12, 18))
    assert mask.sum() == 4 * 6
    assert (masked[mask] == 255).all() and (masked[~mask] == image[~mask]).all()
    np.testing.assert_array_equal(original, image)
    t_masked, _ = data.inpainting_pair(tf.constant(image))
    np.testing.assert_array_equal(t_masked.numpy(), masked)
    dynamic = tf.function(lambda x: data.inpainting_pair(x)[0],
                          input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    np.testing.assert_array_equal(dynamic(tf.constant(image)).numpy(), masked)
    with pytest.raises(ValueError, match="hole_fraction"):
        data.inpainting_pair(image, hole_fraction=1.5)


def test_inpainting_jitter_keeps_the_hole_centred_and_a_ninth():
    photos = data.toy.faces(8, 33, seed=0)
    augment = data.inpainting_jitter(33)
    mask = data.inpainting_mask(33)
    first = None
    for masked, photo in data.prepare(photos, 8, seed=0, augment=augment, repeat=False).take(1):
        masked, photo = data.to_uint8(masked).numpy(), data.to_uint8(photo).numpy()
        assert (masked[:, mask] == 255).all() and (masked[:, ~mask] == photo[:, ~mask]).all()
        first = photo
    originals = np.stack(list(photos.as_numpy_iterator()))
    assert not any(np.array_equal(p, o) for p in first for o in originals)  # the photos were jittered


def test_inpainting_pairs_stream_and_written_ab_files_round_trip(tmp_path):
    images = data.toy.faces(3, 32, seed=0)
    masked, original = next(iter(data.inpainting_pairs(images, fill=0)))
    assert (masked.numpy()[data.inpainting_mask(32)] == 0).all()
    np.testing.assert_array_equal(original.numpy(), next(iter(images)).numpy())

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i, image in enumerate(data.toy.make_faces(3, 32, seed=0)):
        Image.fromarray(image).save((src / "sub" if i == 2 else src) / f"face{i}.png")
    written = data.write_inpainting_pairs(src, tmp_path / "ab", 32)
    assert [p.name for p in written] == ["face0.jpg", "face1.jpg", "sub_face2.jpg"]
    assert Image.open(written[0]).size == (64, 32)
    x, y = next(iter(data.ab_pairs(tmp_path / "ab", 32)))
    hole = data.inpainting_mask(32)
    assert x.numpy()[hole].mean() > 245  # white hole survives JPEG (up to ringing at its edges)
    faces = data.toy.make_faces(2, 32, seed=0).astype(int)
    error = np.abs(y.numpy().astype(int) - faces[0]).mean()
    assert error < 10 and error < np.abs(y.numpy().astype(int) - faces[1]).mean() / 3  # JPEG of a 32-px face
