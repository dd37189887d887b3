"""Weight-free distribution measures: batch diversity (mode-collapse signal) and sliced Wasserstein distance.

They need no pretrained network, so they work offline and in CI. SWD follows Karras et al. 2018 (Progressive GAN):
random 7×7 patches of a Laplacian pyramid, projected on random directions, 1-D Wasserstein distances averaged.

Example:
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
>>> pairwise_diversity(a) > pairwise_diversity(np.repeat(a[:1], 16, axis=0))
True
"""

from __future__ import annotations

import numpy as np

from kitlib.images import to_float


def pairwise_diversity(images, *, max_images: int = 64) -> float:
    """Mean L1 distance between all pairs of images of a batch (0 when every image is the same).

    Divide the value for generated images by the value for real images: a ratio far below 1 means the generator
    produces near-identical images (mode collapse).
    """
    x = to_float(images)[:max_images]
    if len(x) < 2:
        raise ValueError(f"pairwise_diversity needs at least 2 images. Received: {len(x)}")
    flat = x.reshape(len(x), -1)
    dists = [np.abs(flat[i] - flat[i + 1:]).mean(axis=1) for i in range(len(flat) - 1)]
    return float(np.concatenate(dists).mean())


def _laplacian_pyramid(x: np.ndarray, levels: int) -> list[np.ndarray]:
    from scipy.ndimage import zoom

    pyramid, current = [], x
    for _ in range(levels - 1):
        if min(current.shape[1:3]) < 16:
            break
        small = current[:, ::2, ::2]
        up = zoom(small, (1, 2, 2, 1), order=1)[:, : current.shape[1], : current.shape[2]]
        pyramid.append(current - up)
        current = small
    pyramid.append(current)
    return pyramid


def sliced_wasserstein(real, fake, *, patches_per_image: int = 64, patch_size: int = 7, directions: int = 128,
                       levels: int = 3, seed: int = 0) -> dict[str, float]:
    """Sliced Wasserstein distance between two image sets, per Laplacian-pyramid level and on average (×1e3).

    Lower is better; compare values computed with the same arguments and image counts.

    Reference: https://arxiv.org/abs/1710.10196 (section 5)

    Returns:
        ``{"swd": mean, "swd_level_0": ..., ...}`` (level 0 = finest).
    """
    a, b = to_float(real), to_float(fake)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"real and fake images must have the same shape. Received: {a.shape[1:]} vs {b.shape[1:]}")
    rng = np.random.default_rng(seed)
    result = {}
    for level, (la, lb) in enumerate(zip(_laplacian_pyramid(a, levels), _laplacian_pyramid(b, levels))):
        h, w = la.shape[1:3]
        size = min(patch_size, h, w)

        def patches(x):
            n = len(x)
            ys = rng.integers(0, h - size + 1, (n, patches_per_image))
            xs = rng.integers(0, w - size + 1, (n, patches_per_image))
            windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))  # (n, y, x, c, s, s)
            out = windows[np.arange(n)[:, None], ys, xs]  # (n, patches, c, s, s): one gather, no Python loop
            out = out.transpose(0, 1, 3, 4, 2).reshape(n * patches_per_image, -1)  # each patch flattened as (s, s, c)
            return (out - out.mean(axis=0)) / (out.std(axis=0) + 1e-8)

        pa, pb = patches(la), patches(lb)
        dirs = rng.standard_normal((pa.shape[1], directions)).astype("float32")
        dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
        proj_a, proj_b = np.sort(pa @ dirs, axis=0), np.sort(pb @ dirs, axis=0)
        n = min(len(proj_a), len(proj_b))
        qa = proj_a[np.linspace(0, len(proj_a) - 1, n).astype(int)]
        qb = proj_b[np.linspace(0, len(proj_b) - 1, n).astype(int)]
        result[f"swd_level_{level}"] = float(np.abs(qa - qb).mean() * 1e3)
    result["swd"] = float(np.mean(list(result.values())))
    return result
