"""Pixel-grid score: perfect grids score 1, toy pixel art scores clearly above the drawings it was made from."""

import io

import numpy as np
import pytest
from PIL import Image

from kitlib.data import toy
from kitlib.eval.pixel import pixel_grid_score, pixel_grid_scores


def _blocky(n, cells, cell, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, cells, cells, 3), dtype=np.uint8)
    return np.repeat(np.repeat(small, cell, axis=1), cell, axis=2)


@pytest.mark.parametrize("cell", [2, 3, 4, 6])
def test_perfect_grid_scores_one_and_finds_the_cell(cell):
    images = _blocky(3, 96 // cell, cell)
    shifted = images[:, 1:65, 2:66]  # the grid need not start at the corner
    for batch in (images, shifted):
        scores, cells = pixel_grid_scores(batch, max_cell=8)
        np.testing.assert_allclose(scores, 1.0, atol=1e-6)
        assert cells.tolist() == [cell] * 3


def test_toy_pixel_art_scores_clearly_above_drawings():
    art, cells, drawings = toy.make_pixel_art(24, 64, seed=0, cell_sizes=(4, 5, 6, 7))
    art_scores, found = pixel_grid_scores(art)
    drawing_scores, _ = pixel_grid_scores(drawings)
    assert art_scores.min() > 0.9 > 0.2 > drawing_scores.max()
    assert pixel_grid_score(art) - pixel_grid_score(drawings) > 0.7
    assert (found == cells).all()  # at 64 px the nominal cell size is the real one


def test_survives_jpeg_and_ignores_smooth_images():
    art, _, drawings = toy.make_pixel_art(8, 64, seed=1, cell_sizes=(5,))

    def jpeg(images):
        out = []
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "JPEG", quality=90)
            out.append(np.asarray(Image.open(buffer)))
        return np.stack(out)

    assert pixel_grid_score(jpeg(art)) > 0.7 > 0.2 > pixel_grid_score(jpeg(drawings))
    landscapes, _ = toy.make_landscapes(4, 64)
    rng = np.random.default_rng(0)
    assert pixel_grid_score(landscapes) < 0.2
    assert pixel_grid_score(rng.uniform(-1, 1, (4, 64, 64, 3))) < 0.1
    assert pixel_grid_score(np.zeros((2, 32, 32, 3), np.uint8)) == 0.0  # no colour change at all


def test_uint8_and_float_inputs_agree_and_validation():
    art = _blocky(2, 8, 4)
    as_float = art.astype("float32") / 127.5 - 1.0
    np.testing.assert_allclose(pixel_grid_scores(art)[0], pixel_grid_scores(as_float)[0], atol=1e-6)
    assert pixel_grid_scores(art[0])[0].shape == (1,)  # a single HWC image
    with pytest.raises(ValueError, match="max_cell must be"):
        pixel_grid_score(art, max_cell=1)
    with pytest.raises(ValueError, match="images must be"):
        pixel_grid_score(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="tolerance"):
        pixel_grid_score(art, tolerance=1.5)


def test_min_cell_ignores_two_pixel_blocks_left_by_upsampling():
    rng = np.random.default_rng(3)
    half = rng.uniform(-1, 1, (2, 32, 32, 3))
    blocks = np.repeat(np.repeat(half, 2, axis=1), 2, axis=2)  # 2x2 blocks, as a stride-2 upsampling can leave
    assert pixel_grid_score(blocks) > 0.9  # a 2-pixel grid is a regular grid...
    assert pixel_grid_score(blocks, min_cell=3) < 0.5  # ...that min_cell=3 does not take for larger cells
    art = _blocky(2, 16, 4)
    assert pixel_grid_score(art, min_cell=3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="min_cell must be"):
        pixel_grid_score(art, min_cell=1)
