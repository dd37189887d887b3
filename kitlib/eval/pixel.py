"""Pixel-grid score: how much an image looks like pixel art (blocks of one colour on a regular grid), as a number.

Pixel art upscaled with nearest neighbour changes colour only on the lines of a grid of ``k x k`` cells; a smooth or
flat-colour drawing changes colour wherever its edges happen to be. The score measures the share of an image's
colour-change energy that lies on the best grid, corrected for chance:

- horizontal energy ``e_x[j] = sum_rows max_channel max(|x[:, j+1] - x[:, j]| - tolerance, 0)`` (and ``e_y`` along
  columns); the tolerance ignores low-amplitude noise and JPEG ringing;
- for a cell size ``k`` and the best grid phase ``p`` per axis, ``share_k = E_on_grid / E_total``; a grid of
  period ``k`` holds ``1/k`` of the lines, so the chance level is ``1/k``;
- ``score_k = clip((share_k - 1/k) / (1 - 1/k), 0, 1)`` and the image's score is the best ``score_k`` over
  ``k = 2..max_cell``; its cell size is the largest ``k`` whose score is within 90% of that best (multiples of the
  true cell fit the grid of its divisors too).

Generated images need one caveat: stride-2 upsampling (transposed convolutions) can leave 2x2-block structure,
itself a regular 2-pixel grid; pass ``min_cell=3`` when the expected cells are larger, so it does not count.

1 means every colour change sits on a regular grid (perfect pixel art), 0 means no grid is preferred over chance
(photos, drawings, noise). It needs no pretrained network. Cell sizes are capped at ``size // 8`` by default so a
grid has at least 8 cells per side (a few lucky edges cannot make a coarse grid).

Example:
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> blocky = np.repeat(np.repeat(rng.uniform(-1, 1, (2, 8, 8, 3)), 4, axis=1), 4, axis=2)
>>> round(pixel_grid_score(blocky), 2)
1.0
>>> pixel_grid_score(rng.uniform(-1, 1, (2, 32, 32, 3))) < 0.1
True
"""

from __future__ import annotations

import numpy as np


def _as_unit(images) -> np.ndarray:
    """uint8 [0, 255] or floats in [-1, 1] -> float32 in [0, 1], shape (N, H, W, C)."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C) or (H, W, C). Received shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype("float32") / 255.0
    return (arr.astype("float32") + 1.0) / 2.0


def _axis_energy(diff: np.ndarray, tolerance: float, axis: int) -> np.ndarray:
    """Per-image energy of each line between neighbouring pixels: (N, lines)."""
    strength = np.maximum(np.abs(diff).max(axis=-1) - tolerance, 0.0)  # (N, H', W')
    return strength.sum(axis=axis)


def _best_share(energy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """On-grid energy at the best phase and total energy, per image, for grids of period ``k``.

    Line ``j`` lies between pixels ``j`` and ``j + 1``; a grid with phase ``p`` holds the lines with
    ``(j + 1 - p) % k == 0``.
    """
    n, lines = energy.shape
    total = energy.sum(axis=1)
    on = np.zeros((n, k))
    for phase in range(k):
        picks = np.arange((phase - 1) % k, lines, k)
        on[:, phase] = energy[:, picks].sum(axis=1)
    return on.max(axis=1), total


def pixel_grid_scores(images, *, min_cell: int = 2, max_cell: int | None = None,
                      tolerance: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Per-image pixel-grid score in [0, 1] and the detected cell size (see the module docstring).

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``; uint8 in [0, 255] or floats in [-1, 1].
        min_cell: smallest cell size tried. Stride-2 upsampling layers can leave 2x2-block structure in generated
            images, a regular 2-pixel grid; when the art you expect has larger cells, pass ``min_cell=3`` so it
            does not count as pixel art.
        max_cell: largest cell size tried (default ``min(H, W) // 8``, at least ``min_cell``).
        tolerance: colour differences (in [0, 1] units, max over channels) up to this value count as no change.

    Returns:
        ``(scores, cells)``: float ``(N,)`` in [0, 1] and int ``(N,)`` cell sizes (1 where no grid beats chance).

    Example:
    >>> import numpy as np
    >>> art = np.kron(np.eye(8)[None, ..., None], np.ones((1, 4, 4, 3))) * 2 - 1
    >>> scores, cells = pixel_grid_scores(art)
    >>> float(scores[0]), int(cells[0])
    (1.0, 4)
    """
    x = _as_unit(images)
    height, width = x.shape[1:3]
    if min(height, width) < 4:
        raise ValueError(f"images must be at least 4x4 pixels. Received shape {x.shape}")
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(f"tolerance must be in [0, 1). Received: tolerance={tolerance!r}")
    if not isinstance(min_cell, int) or min_cell < 2:
        raise ValueError(f"min_cell must be an int >= 2. Received: min_cell={min_cell!r}")
    max_cell = max(min_cell, min(height, width) // 8) if max_cell is None else max_cell
    if not isinstance(max_cell, int) or not min_cell <= max_cell <= min(height, width) // 2:
        raise ValueError(f"max_cell must be an int in {min_cell}..{min(height, width) // 2} for {height}x{width} "
                         f"images. Received: max_cell={max_cell!r}")
    energy_x = _axis_energy(x[:, :, 1:] - x[:, :, :-1], tolerance, axis=1)  # (N, W-1): one entry per column line
    energy_y = _axis_energy(x[:, 1:] - x[:, :-1], tolerance, axis=2)  # (N, H-1): one entry per row line
    per_k = []
    for k in range(min_cell, max_cell + 1):
        on_x, total_x = _best_share(energy_x, k)
        on_y, total_y = _best_share(energy_y, k)
        total = total_x + total_y
        share = np.divide(on_x + on_y, total, out=np.zeros_like(total), where=total > 0)
        per_k.append(np.clip((share - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0))
    per_k = np.stack(per_k, axis=1)  # (N, K)
    scores = per_k.max(axis=1)
    ks = np.arange(min_cell, max_cell + 1)
    near_best = (per_k >= 0.9 * scores[:, None]) & (scores[:, None] > 0)
    cells = np.where(scores > 0, (near_best * ks).max(axis=1), 1)
    return scores.astype("float32"), cells.astype("int32")


def pixel_grid_score(images, *, min_cell: int = 2, max_cell: int | None = None, tolerance: float = 0.03) -> float:
    """Mean pixel-grid score of a batch: 1 for perfect pixel art, near 0 for smooth or flat-colour images.

    Use it to put a number on "the generator learned the pixel-art style": compare the score of translated images
    with the score of their inputs and of real pixel art.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``; uint8 in [0, 255] or floats in [-1, 1].
        min_cell: smallest cell size tried (3 ignores 2x2 blocks left by stride-2 upsampling).
        max_cell: largest cell size tried (default ``min(H, W) // 8``).
        tolerance: colour differences up to this value (in [0, 1] units) count as no change.

    Returns:
        A float in [0, 1].

    Example:
    >>> import numpy as np
    >>> flat = np.zeros((1, 32, 32, 3), "uint8")
    >>> pixel_grid_score(flat)
    0.0
    """
    scores, _ = pixel_grid_scores(images, min_cell=min_cell, max_cell=max_cell, tolerance=tolerance)
    return float(scores.mean())
